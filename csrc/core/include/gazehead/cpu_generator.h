// The CPU backend: N agents stepped together, all buffers allocated at construction so a
// step allocates nothing. Not thread-safe: one generator is driven by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "gazehead/generator.h"

namespace gazehead {

class WorkerPool;  // src/worker_pool.h

class CpuGenerator final : public Generator {
 public:
  // num_threads > 1 splits the agents of each call over that many threads (the caller's
  // included); every agent's arithmetic is the same either way, so results are identical.
  // weights_dtype kBFloat16 runs every layer on the model's bf16 weights (fp32 arithmetic).
  CpuGenerator(std::shared_ptr<const Model> model, int64_t num_agents, uint32_t seed,
               float temperature, NanPolicy nan_policy, int num_threads = 1,
               WeightsDtype weights_dtype = WeightsDtype::kFloat32);
  // A deep copy: same model, settings and state, its own threads.
  CpuGenerator(const CpuGenerator& other);
  ~CpuGenerator() override;

  std::unique_ptr<Generator> clone() const override;
  const char* backend() const override { return "cpu"; }
  const AgentState& state() const { return state_; }
  const char* isa() const;
  WeightsDtype weights_dtype() const { return weights_dtype_; }
  int num_threads() const;

 private:
  // Buffers for one chunk of agents; one set per worker thread.
  struct Scratch {
    std::vector<float> buf_a, buf_b, gi, gh, dec_in, gaze_eff;
    std::vector<uint16_t> xb;  // a layer's input rounded to bf16 (native bf16 kernels)
  };
  struct Pass;  // one call's arguments, shared with the worker threads

  void launch(const float* gaze) override;
  void collect(float* head_out, float* eye_out) override;
  void run_now(const float* gaze, float* head_out, float* eye_out) override;
  void run_sequence(const float* gaze_seq, const float* head_obs, int64_t T, float* head_seq,
                    float* eye_seq) override;
  void reset_agents(const int64_t* ids, int64_t count) override;
  void read_state(AgentState& out) const override { out = state_; }
  void write_state(const AgentState& st) override { state_ = st; }

  void run_pass(const Pass& pass);
  void run_chunk(Scratch& sc, int64_t a0, int rows, const float* gaze, float* head_out,
                 float* eye_out, const float* observed_head);

  WeightsDtype weights_dtype_;
  AgentState state_;
  std::vector<Scratch> scratch_;               // one per worker
  std::vector<float> async_head_, async_eye_;  // step_async's frame, until result()
  std::unique_ptr<WorkerPool> pool_;
};

}  // namespace gazehead
