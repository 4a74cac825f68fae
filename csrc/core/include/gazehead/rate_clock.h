// The fixed-timestep clock of variable-rate loops (gazehead_generator_update, the C# binding's
// Update): the algorithm of gazehead_rt/rate.py (RateAdapter, docs/design.md), allocating at
// construction only. Arithmetic is in double, as numpy does it there, so the C and Python
// updates give the same numbers.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <vector>

namespace gazehead {

// Catch-up budget per update call in seconds of model time (rate.DEFAULT_MAX_CATCHUP_S).
constexpr double kMaxCatchupS = 0.25;
// A model frame is due within this many frames of its time (rate._DUE_TOLERANCE_FRAMES).
constexpr double kDueToleranceFrames = 1e-6;

class RateClock {
 public:
  // step(gaze (N, 2) float32, head_out (N, 3) float32) runs one model frame.
  using StepFn = std::function<void(const float* gaze, float* head_out)>;

  RateClock(int64_t num_agents, double fps);

  // gaze (N, 2) radians, dt_s finite >= 0, both checked by the caller: the gaze is validated
  // before the call, so every interpolated gaze is valid too and `step` does not throw.
  // head_out (N, 3); eye_out (N, 2) or null.
  void update(const float* gaze, double dt_s, const StepFn& step, float* head_out, float* eye_out);
  void reset_all();
  void reset_agents(const int64_t* agents, int64_t count);  // ids already checked

  // The whole state, for save/load. Arrays are (N, 3), (N, 3), (N, 2), (N,).
  struct State {
    int32_t started = 0;
    int64_t frames = 0;
    double phase = 0.0, dropped_time_s = 0.0;
    std::vector<double> prev, curr, gaze_last;
    std::vector<uint8_t> snap;
  };
  const State& state() const { return st_; }
  // Throws std::invalid_argument unless `s` is a state this clock can continue from: sizes
  // of N agents, started and snap flags 0 or 1, frames >= 0, phase in [-1, 1), dropped time
  // finite and >= 0, poses finite within +-pi rad, last gaze finite within the gaze range.
  void check_state(const State& s) const;
  void set_state(const State& s) {  // checked by check_state first
    check_state(s);
    st_ = s;
  }
  int64_t num_agents() const { return n_; }

 private:
  void emit(float* head_out, float* eye_out) const;

  int64_t n_;
  double fps_;
  int max_steps_;
  State st_;
  // per-call scratch, sized once
  std::vector<double> g1_, dgaze_;
  std::vector<float> g_sub_, head_;
};

}  // namespace gazehead
