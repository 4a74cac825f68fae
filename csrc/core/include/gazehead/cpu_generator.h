// The CPU backend: N agents stepped together, all buffers allocated at construction so a
// step allocates nothing. Not thread-safe: one generator is driven by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "gazehead/model.h"

namespace gazehead {

enum class NanPolicy { kRaise = 0, kHold = 1 };

// Bad per-agent input; `agent` is the offending agent (or -1), `frame` its time index in a
// sequence call (or -1).
class InvalidInput : public std::invalid_argument {
 public:
  InvalidInput(const std::string& what, int64_t agent, int64_t frame = -1)
      : std::invalid_argument(what), agent_(agent), frame_(frame) {}
  int64_t agent() const { return agent_; }
  int64_t frame() const { return frame_; }

 private:
  int64_t agent_, frame_;
};

// Input checks shared by every backend, so they raise the same errors. gaze (n, 2): finite
// unless allow_nonfinite (the "hold" policy), |pitch| <= pi/2, |yaw| <= pi. head (n, 3):
// finite. frame_index >= 0 names the frame of a sequence in the message. Throw InvalidInput.
void validate_gaze(const float* gaze, int64_t n, int64_t frame_index, bool allow_nonfinite);
void validate_head(const float* head, int64_t n, int64_t frame_index);

// Per-agent state, agent-major. This is the whole of what a step depends on besides the
// model, seed and temperature; state_dict() is a copy of it.
struct AgentState {
  std::vector<float> s;           // (N, H) GRU state
  std::vector<float> head;        // (N, 3) head_{t-1}
  std::vector<float> eye;         // (N, 2) eye_{t-1}
  std::vector<float> gaze;        // (N, 2) gaze_{t-1} (last valid gaze)
  std::vector<uint8_t> has_prev;  // (N,) 0 before an agent's first frame
  std::vector<uint32_t> frame;    // (N,) frames since the agent's episode began
  std::vector<uint32_t> episode;  // (N,) bumped by reset(): a new episode draws new noise

  void resize(int64_t n, int hidden);
  int64_t size() const { return static_cast<int64_t>(has_prev.size()); }
};

class WorkerPool;  // src/worker_pool.h

class CpuGenerator {
 public:
  // num_threads > 1 splits the agents of each call over that many threads (the caller's
  // included); every agent's arithmetic is the same either way, so results are identical.
  CpuGenerator(std::shared_ptr<const Model> model, int64_t num_agents, uint32_t seed,
               float temperature, NanPolicy nan_policy, int num_threads = 1);
  // A deep copy: same model, copied state, its own threads.
  CpuGenerator(const CpuGenerator& other);
  CpuGenerator& operator=(const CpuGenerator&) = delete;
  ~CpuGenerator();

  // gaze (N, 2) -> head_out (N, 3), eye_out (N, 2) (eye_out may be null). Validates every
  // agent before touching state: on InvalidInput the generator is unchanged.
  void step(const float* gaze, float* head_out, float* eye_out);
  // T steps; gaze_seq (T, N, 2) -> head_seq (T, N, 3), eye_seq (T, N, 2) (may be null).
  void rollout(const float* gaze_seq, int64_t T, float* head_seq, float* eye_seq);
  // Teacher-forced context: run the GRU over observed gaze_hist (T, N, 2) and
  // head_hist (T, N, 3); the next step continues from the last observed frame.
  void prime(const float* gaze_hist, const float* head_hist, int64_t T);
  // New episode for the listed agents (all when agents == nullptr).
  void reset(const int64_t* agents, int64_t count);

  int64_t num_agents() const { return n_; }
  const Model& model() const { return *model_; }
  const std::shared_ptr<const Model>& model_ptr() const { return model_; }
  uint32_t seed() const { return seed_; }
  void set_seed(uint32_t seed) { seed_ = seed; }
  float temperature() const { return temperature_; }
  void set_temperature(float t);
  NanPolicy nan_policy() const { return nan_policy_; }
  const AgentState& state() const { return state_; }
  // The same state API as the other backends: a copy out, and a checked assignment (sizes
  // must match this generator; throws invalid_argument and changes nothing otherwise).
  void get_state(AgentState& out) const { out = state_; }
  void set_state(const AgentState& st);
  const char* isa() const;
  int num_threads() const;

 private:
  // Buffers for one chunk of agents; one set per worker thread.
  struct Scratch {
    std::vector<float> buf_a, buf_b, gi, gh, dec_in, gaze_eff;
  };
  struct Pass;  // one call's arguments, shared with the worker threads

  void advance(const float* gaze, float* head_out, float* eye_out);  // validated input
  void run_pass(const Pass& pass);
  void run_chunk(Scratch& sc, int64_t a0, int rows, const float* gaze, float* head_out,
                 float* eye_out, const float* observed_head);

  std::shared_ptr<const Model> model_;
  int64_t n_;
  uint32_t seed_;
  float temperature_;
  NanPolicy nan_policy_;
  AgentState state_;
  std::vector<Scratch> scratch_;  // one per worker
  std::unique_ptr<WorkerPool> pool_;
};

}  // namespace gazehead
