// Launch code of the CUDA kernels (kernels.cuh); declared in launch.h.
#include "cuda_check.h"
#include "kernels.cuh"
#include "launch.h"

namespace gazehead {
namespace cuda {
namespace {

template <typename WT>
void enable_smem(size_t bytes) {
  CUDA_CHECK(cudaFuncSetAttribute(step_kernel<WT>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                  static_cast<int>(bytes)));
}

}  // namespace

size_t smem_bytes(int tile_agents, int ld) {
  return (4 * static_cast<size_t>(tile_agents) * ld +
          kAgentCarry * static_cast<size_t>(tile_agents)) *
         sizeof(float);
}

void set_smem_limit(WeightsDtype dt, size_t bytes) {
  switch (dt) {
    case WeightsDtype::kFloat32:
      enable_smem<float>(bytes);
      break;
    case WeightsDtype::kBFloat16:
      enable_smem<__nv_bfloat16>(bytes);
      break;
    case WeightsDtype::kFloat16:
      enable_smem<__half>(bytes);
      break;
  }
}

void launch_step(const StepParams& p, WeightsDtype dt, size_t smem, cudaStream_t stream) {
  const unsigned blocks = static_cast<unsigned>((p.num_agents + p.tile_agents - 1) / p.tile_agents);
  switch (dt) {
    case WeightsDtype::kFloat32:
      step_kernel<float><<<blocks, kThreads, smem, stream>>>(p);
      break;
    case WeightsDtype::kBFloat16:
      step_kernel<__nv_bfloat16><<<blocks, kThreads, smem, stream>>>(p);
      break;
    case WeightsDtype::kFloat16:
      step_kernel<__half><<<blocks, kThreads, smem, stream>>>(p);
      break;
  }
  CUDA_CHECK_LAUNCH();
}

void launch_reset(const int64_t* ids, int64_t count, int hidden, int latent, const StateView& st,
                  cudaStream_t stream) {
  const ResetParams p{ids, count, hidden, latent, st};
  constexpr int kResetThreads = 128;
  const unsigned blocks = static_cast<unsigned>((count + kResetThreads - 1) / kResetThreads);
  reset_kernel<<<blocks, kResetThreads, 0, stream>>>(p);
  CUDA_CHECK_LAUNCH();
}

}  // namespace cuda
}  // namespace gazehead
