// The CUDA backend: N agents stepped together on one GPU by one fused kernel per frame
// (docs/design.md §5). Plain C++ header: no CUDA types cross it (the stream is an opaque
// handle), so the bindings and C++ programs include it without the CUDA toolkit.
//
// The step contract (checks, settings, reset ids, state) is gazehead::Generator's and the
// per-agent math is step_contract.h's, as on the CPU, so a (seed, agent, episode, frame)
// gives the same motion on both backends.
//
// State stays on the device; gaze goes up and head/eye come down through pinned staging
// buffers. The per-frame sequence (H2D scalars and gaze, step kernel, D2H head and eye) is
// captured once in a CUDA graph and replayed by every step. Not thread-safe: one thread
// drives a generator.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "gazehead/generator.h"

namespace gazehead {

// Any failure reported by the CUDA runtime; the message carries file:line and the CUDA error
// string. The Python bindings raise it as gazehead_rt.BackendError.
class CudaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Number of visible CUDA devices; 0 (never an exception) with no driver or no device.
int cuda_device_count() noexcept;
// Why cuda_device_count() is what it is: "" when a device is visible, else the runtime's
// message (e.g. "CUDA driver version is insufficient for CUDA runtime version").
std::string cuda_device_status();
// "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs, 80 GiB)" for device `device`; throws CudaError.
std::string cuda_device_name(int device);

class CudaGenerator final : public Generator {
 public:
  // Throws CudaError when the device cannot be used, invalid_argument on bad sizes.
  CudaGenerator(std::shared_ptr<const Model> model, int64_t num_agents, uint32_t seed,
                float temperature, NanPolicy nan_policy,
                WeightsDtype weights_dtype = WeightsDtype::kFloat32, int device = 0);
  ~CudaGenerator() override;
  CudaGenerator(const CudaGenerator&) = delete;

  // A deep copy on the same device: same model and settings, copied state.
  std::unique_ptr<Generator> clone() const override;
  const char* backend() const override { return "cuda"; }

  WeightsDtype weights_dtype() const;
  int device() const;
  int tile_agents() const;  // agents per thread block (chosen from the device's shared memory)
  void* stream() const;     // the cudaStream_t all work of this generator runs on

 private:
  struct Impl;
  CudaGenerator(const CudaGenerator& other, std::unique_ptr<Impl> impl);

  void launch(const float* gaze) override;
  void collect(float* head_out, float* eye_out) override;
  void run_sequence(const float* gaze_seq, const float* head_obs, int64_t T, float* head_seq,
                    float* eye_seq) override;
  void reset_agents(const int64_t* ids, int64_t count) override;
  void read_state(AgentState& out) const override;
  void write_state(const AgentState& st) override;

  std::unique_ptr<Impl> impl_;
};

}  // namespace gazehead
