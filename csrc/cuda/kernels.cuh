// The CUDA kernels: the fused step and the reset. Included by launch.cu only (their launch
// code); device helpers in step_kernel.cuh, per-agent math in gazehead/step_contract.h.
#pragma once

#include "step_kernel.cuh"

namespace gazehead {
namespace cuda {

// One frame for the tile of agents [blockIdx.x * tile_agents, ...): condition, encoder, GRU,
// prior, Philox sample, decoder, neck limit and eye-in-head, all in one launch. With
// p.observed_head set it is the priming step instead (z = prior mean; the observed head
// replaces the generated one), exactly as CpuGenerator::run_chunk.
template <typename WT>
__global__ void __launch_bounds__(kThreads) step_kernel(const StepParams p) {
  extern __shared__ float smem[];
  const int M = p.tile_agents, ld = p.ld, H = p.hidden, Z = p.latent;
  float* buf_a = smem;               // (M, ld) activations
  float* buf_b = buf_a + M * ld;     // (M, ld) activations
  float* s_old = buf_b + M * ld;     // (M, ld) s_{t-1} in columns [0, H)
  float* s_new = s_old + M * ld;     // (M, ld) s_t in [0, H), then z_t in [H, H + Z)
  float* gaze_eff = s_new + M * ld;  // (M, kAgentCarry) gaze after the hold policy, eye target

  const int64_t a0 = static_cast<int64_t>(blockIdx.x) * M;
  const int rows = static_cast<int>(min(static_cast<int64_t>(M), p.num_agents - a0));
  // Rows of the last agent group past `rows` are computed but never stored: zero their
  // inputs so they stay finite and initialized.
  const int rows_g = (rows + kRowsPerThread - 1) / kRowsPerThread * kRowsPerThread;

  // 1. effective gaze and the encoder input [x_norm, z_{t-1}]
  for (int m = threadIdx.x; m < rows_g; m += blockDim.x) {
    float* row = buf_a + m * ld;
    if (m >= rows) {
      for (int i = 0; i < kInputSize + Z; ++i) row[i] = 0.0f;
      for (int i = 0; i < kAgentCarry; ++i) gaze_eff[kAgentCarry * m + i] = 0.0f;
      continue;
    }
    const int64_t a = a0 + m;
    begin_agent(p.c, p.st, a, Z, p.gaze + 2 * a, gaze_eff + kAgentCarry * m, row);
  }
  for (int idx = threadIdx.x; idx < rows_g * H; idx += blockDim.x) {
    const int m = idx / H, j = idx - m * H;
    s_old[m * ld + j] = m < rows ? p.st.s[(a0 + m) * H + j] : 0.0f;
  }
  __syncthreads();

  // 2. encoder and GRU; s_t goes back to the state array (this block owns these agents)
  const float* e = mlp<WT>(p, p.enc, p.n_enc, true, buf_a, buf_b, buf_a, rows);
  gru<WT>(p, e, s_old, s_new, rows);
  __syncthreads();
  for (int idx = threadIdx.x; idx < rows * H; idx += blockDim.x) {
    const int m = idx / H, j = idx - m * H;
    p.st.s[(a0 + m) * H + j] = s_new[m * ld + j];
  }

  // 3. learned prior; z_t = mu (priming) or mu + T sigma eps beside s_t (decoder input)
  const float* pr = mlp<WT>(p, p.prior, p.n_prior, false, s_new, buf_a, buf_b, rows);
  if (p.observed_head != nullptr) {
    for (int m = threadIdx.x; m < rows; m += blockDim.x) {
      const int64_t a = a0 + m;
      end_prime(p.c, p.st, a, Z, gaze_eff + kAgentCarry * m, pr + m * ld, p.observed_head + 3 * a);
    }
    return;
  }
  const float temperature = p.scalars->temperature;
  const uint32_t seed = p.scalars->seed;
  for (int m = threadIdx.x; m < rows_g; m += blockDim.x) {
    float* z = s_new + m * ld + H;
    if (m >= rows) {
      for (int j = 0; j < Z; ++j) z[j] = 0.0f;
      continue;
    }
    sample_latent(p.st, a0 + m, Z, seed, temperature, pr + m * ld, z);
  }
  __syncthreads();

  // 4. decoder, neck limit, eye-in-head
  const float* y = mlp<WT>(p, p.dec, p.n_dec, false, s_new, buf_a, buf_b, rows);
  for (int m = threadIdx.x; m < rows; m += blockDim.x) {
    const int64_t a = a0 + m;
    end_step(p.c, p.scalars->neck_limits, p.st, a, Z, gaze_eff + kAgentCarry * m, y + m * ld,
             s_new + m * ld + H, p.head_out + 3 * a, p.eye_out ? p.eye_out + 2 * a : nullptr);
  }
}

struct ResetParams {
  const int64_t* agents;  // (count,) agent ids, or null for all agents
  int64_t count;          // ids in `agents`, or N when agents is null
  int hidden;             // H
  int latent;             // Z
  StateView st;           // device state
};

// One thread per listed agent; ids are unique and in range (Generator::reset checks and
// deduplicates them), so no two threads touch one agent.
__global__ void reset_kernel(const ResetParams p) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= p.count) return;
  reset_agent(p.st, p.agents ? p.agents[i] : i, p.hidden, p.latent);
}

}  // namespace cuda
}  // namespace gazehead
