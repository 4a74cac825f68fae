// Launch code of the CUDA kernels (launch.cu): what the host class calls. Include only from
// .cu files (it uses cudaStream_t).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

#include "cuda_generator.h"  // WeightsDtype
#include "step_kernel.cuh"   // StepParams

namespace gazehead {
namespace cuda {

struct ResetParams;  // kernels.cuh

// Dynamic shared memory of one step block: four (tile, ld) activation tiles and the tile's
// effective gaze.
size_t smem_bytes(int tile_agents, int ld);
// Lets the step kernel of dtype `dt` use `bytes` of dynamic shared memory.
void set_smem_limit(WeightsDtype dt, size_t bytes);
// One frame (or priming frame) for every agent, on `stream`.
void launch_step(const StepParams& p, WeightsDtype dt, size_t smem, cudaStream_t stream);
// Reset count agents (ids unique, in range; null: agents 0..count-1).
void launch_reset(const int64_t* ids, int64_t count, int hidden, int latent, const StateView& st,
                  cudaStream_t stream);

}  // namespace cuda
}  // namespace gazehead
