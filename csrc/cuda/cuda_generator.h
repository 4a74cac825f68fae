// The CUDA backend: N agents stepped together on one GPU by one fused kernel per frame
// (docs/design.md §5). Plain C++ header: no CUDA types cross it (the stream is an opaque
// handle), so the bindings and C++ programs include it without the CUDA toolkit.
//
// Same step contract as CpuGenerator (validation order and messages, nan hold policy,
// frame/episode counters, prime, reset, rollout) and the same Philox noise, so a
// (seed, agent, episode, frame) gives the same motion on both backends.
//
// State stays on the device; gaze goes up and head/eye come down through pinned staging
// buffers. The per-frame sequence (H2D gaze, step kernel, D2H head and eye) is captured once
// in a CUDA graph and replayed by every step. Not thread-safe: one thread drives a generator.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "gazehead/cpu_generator.h"  // AgentState, NanPolicy, InvalidInput
#include "gazehead/model.h"

namespace gazehead {

// Any failure reported by the CUDA runtime; the message carries file:line and the CUDA error
// string. The Python bindings raise it as gazehead_rt.BackendError.
class CudaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Storage type of the weights on the device; accumulation is fp32 for all of them.
enum class WeightsDtype { kFloat32 = 0, kBFloat16 = 1, kFloat16 = 2 };

// Number of visible CUDA devices; 0 (never an exception) with no driver or no device.
int cuda_device_count() noexcept;
// Why cuda_device_count() is what it is: "" when a device is visible, else the runtime's
// message (e.g. "CUDA driver version is insufficient for CUDA runtime version").
std::string cuda_device_status();
// "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs, 80 GiB)" for device `device`; throws CudaError.
std::string cuda_device_name(int device);

class CudaGenerator {
 public:
  // Throws CudaError when the device cannot be used, invalid_argument on bad sizes.
  CudaGenerator(std::shared_ptr<const Model> model, int64_t num_agents, uint32_t seed,
                float temperature, NanPolicy nan_policy,
                WeightsDtype weights_dtype = WeightsDtype::kFloat32, int device = 0);
  ~CudaGenerator();
  CudaGenerator(const CudaGenerator&) = delete;
  CudaGenerator& operator=(const CudaGenerator&) = delete;
  CudaGenerator(CudaGenerator&&) noexcept;
  // A deep copy on the same device: same model and settings, copied state.
  std::unique_ptr<CudaGenerator> clone() const;

  // gaze (N, 2) host -> head_out (N, 3), eye_out (N, 2) host (eye_out may be null).
  // Validates every agent before touching state: on InvalidInput nothing changes.
  void step(const float* gaze, float* head_out, float* eye_out);
  // The asynchronous pair: step_async validates, stages gaze and launches the frame, then
  // returns; result waits for it and copies head (N, 3) and eye (N, 2) out. One step may be
  // in flight; step/step_async/rollout/prime refuse while one is.
  void step_async(const float* gaze);
  void result(float* head_out, float* eye_out);
  bool pending() const;
  // T steps; gaze_seq (T, N, 2) -> head_seq (T, N, 3), eye_seq (T, N, 2) (may be null).
  void rollout(const float* gaze_seq, int64_t T, float* head_seq, float* eye_seq);
  // Teacher-forced context over gaze_hist (T, N, 2), head_hist (T, N, 3).
  void prime(const float* gaze_hist, const float* head_hist, int64_t T);
  // New episode for the listed agents (all when agents == nullptr).
  void reset(const int64_t* agents, int64_t count);

  // Copies of the device state (synchronous); set_state checks sizes first (invalid_argument).
  void get_state(AgentState& out) const;
  void set_state(const AgentState& st);

  int64_t num_agents() const;
  const Model& model() const;
  const std::shared_ptr<const Model>& model_ptr() const;
  uint32_t seed() const;
  void set_seed(uint32_t seed);
  float temperature() const;
  void set_temperature(float t);
  NanPolicy nan_policy() const;
  WeightsDtype weights_dtype() const;
  int device() const;
  int tile_agents() const;  // agents per thread block (chosen from the device's shared memory)
  void* stream() const;     // the cudaStream_t all work of this generator runs on

 private:
  struct Impl;
  explicit CudaGenerator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gazehead
