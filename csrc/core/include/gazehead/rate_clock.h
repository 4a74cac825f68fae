// The fixed-timestep clock of variable-rate loops (docs/design.md §5, "update()"): the one
// implementation behind Generator::update (Python's Generator.update, the C ABI's
// gazehead_generator_update, C#'s Update) and gazehead_rt.RateAdapter (any step function).
//
// Model frame k belongs to clock time k / fps (frame 0 = the first update). An update(gaze,
// dt) advances the clock by dt and runs every model frame whose time has come, each fed the
// gaze linearly interpolated between the previous update's gaze and this one (yaw the short
// way round). The pose returned is the model trajectory interpolated at t - 1/fps (one model
// frame of latency); the eye is the current gaze seen from that head. At most
// max_steps_per_update frames run per call; the rest of the time is dropped and counted.
// Arithmetic is in double; the clock allocates at construction only.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <vector>

namespace gazehead {

// Catch-up budget per update call in seconds of model time (about a game engine's clamp of
// its frame time; past it, running every missed frame makes the next frame slower still).
constexpr double kMaxCatchupS = 0.25;
// A model frame is due within this many frames of its time: it absorbs float rounding of
// summed dt (4.8 updates of 1/144 s per 30 fps frame) without making a frame measurably early.
constexpr double kDueToleranceFrames = 1e-6;

class RateClock {
 public:
  // step(gaze (N, 2), head_out (N, 3)) runs one model frame, in double (a float32 backend
  // converts). Called exactly once per model frame, in order.
  using StepFn = std::function<void(const double* gaze, double* head_out)>;

  // fps finite and > 0; max_steps_per_update >= 1 (by default ceil(kMaxCatchupS * fps)).
  // Throws std::invalid_argument naming the value.
  RateClock(int64_t num_agents, double fps);
  RateClock(int64_t num_agents, double fps, int64_t max_steps_per_update);

  // dt_s finite and >= 0 (std::invalid_argument naming the value otherwise).
  static void check_dt(double dt_s);

  // gaze (N, 2) radians (checked by the caller: every interpolated gaze is then valid too;
  // read between frames, so `step` must not change it),
  // dt_s checked by check_dt. The first call after construction or reset_all() starts the
  // clock at frame 0 (its dt is ignored). head_out (N, 3); eye_out (N, 2) or null.
  void update(const double* gaze, double dt_s, const StepFn& step, float* head_out, float* eye_out);
  // The first call's work given frame 0's head (N, 3): for a caller that runs frame 0 itself
  // (RateAdapter learns the agent count from it).
  void start(const double* gaze, const double* head0, float* head_out, float* eye_out);
  // The pose of the last update (head (N, 3), eye (N, 2) or null); the clock must be started.
  void emit(float* head_out, float* eye_out) const;
  void reset_all();
  // The listed agents' next frame is shown without blending from their old pose, and their
  // gaze does not ramp from the old episode's. Ids already checked.
  void reset_agents(const int64_t* agents, int64_t count);

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
  void set_state(const State& s) {  // checked whole first
    check_state(s);
    st_ = s;
  }
  int64_t num_agents() const { return n_; }
  double fps() const { return fps_; }
  int64_t max_steps_per_update() const { return max_steps_; }
  bool started() const { return st_.started != 0; }
  // Clock time since the first update (dropped catch-up time not included).
  double time_s() const;

 private:
  int64_t n_;
  double fps_;
  int64_t max_steps_;
  State st_;
  // per-call scratch, sized once
  std::vector<double> dgaze_, g_sub_, head_;
};

}  // namespace gazehead
