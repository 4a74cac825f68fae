// Device helpers of the fused step kernel and its params struct. The kernels: kernels.cuh;
// their launch code: launch.cu; the host class: cuda_generator.cu. The per-agent math is
// the core's (gazehead/step_contract.h), shared with the CPU path.
//
// Work split: one thread block owns a tile of `tile_agents` agents for the whole step, so the
// layers chain through shared memory and a block needs no other block's data (no grid sync).
// Inside a layer a thread computes one output column for a group of kRowsPerThread agents:
// each weight it loads (coalesced across the warp, __ldg through L1/L2) feeds kRowsPerThread
// FMAs, and the activations it reads from shared memory are the same address for every
// thread of a warp (broadcast, no bank conflicts). Weights (~115k parameters, 460 KB fp32 for
// the default model) are not staged in shared memory: they are read by every block and stay
// resident in L2 (50 MB on H100), which is what lets the per-agent activations live in shared
// memory instead.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "gazehead/model.h"
#include "gazehead/philox.h"
#include "gazehead/step_contract.h"

namespace gazehead {
namespace cuda {

constexpr int kThreads = 256;      // threads per block
constexpr int kRowsPerThread = 8;  // agents whose outputs one thread accumulates per weight
constexpr int kMaxLayers = 8;      // per MLP (enc, prior, dec)

// One Linear layer in the packed device buffers: W^T (in, out_pad) in the weight dtype, bias
// (out_pad,) fp32. Same packing as the CPU kernels (gazehead::PackedLinear).
struct LayerDesc {
  int64_t w;    // offset of W^T in StepParams::weights, in elements
  int64_t b;    // offset of the bias in StepParams::bias, in floats
  int in;       // input features
  int out;      // output features
  int out_pad;  // row stride of W^T
};

// Per-frame settings, uploaded with the gaze in one copy (they can change between frames
// without re-capturing the graph).
struct StepScalars {
  uint32_t seed;                 // Philox key word 0
  float temperature;             // scale of the prior's sigma
  float neck_limits[kHeadSize];  // (pitch, yaw, roll) half-ranges, rad
  uint32_t pad[3];               // keeps the gaze that follows 16-byte aligned
};
static_assert(sizeof(StepScalars) % 16 == 0, "the gaze after the scalars stays 16-byte aligned");

// Everything the step kernel reads or writes. Filled on the host by CudaGenerator.
// Aliasing: the state arrays are read and then overwritten in place by the block that owns
// the agent (each agent belongs to exactly one block), so they are not __restrict__.
struct StepParams {
  const void* weights;          // packed W^T of every layer, dtype per the kernel's template
  const float* bias;            // packed biases, fp32
  LayerDesc enc[kMaxLayers];    // activation after every layer; input [x_norm, z_{t-1}]
  LayerDesc prior[kMaxLayers];  // activation between layers; last -> 2Z
  LayerDesc dec[kMaxLayers];    // activation between layers; input [s, z]; last -> 3
  LayerDesc gru_ih;             // (E, 3H) gates r, z, n
  LayerDesc gru_hh;             // (H, 3H)
  int n_enc, n_prior, n_dec;    // layer counts
  int hidden;                   // H
  int latent;                   // Z
  int activation;               // gazehead::Activation
  StepConstants c;              // fps, normalization, neck_soft, eye_limit

  int64_t num_agents;  // N
  int tile_agents;     // agents per block (multiple of kRowsPerThread)
  int ld;              // row stride of the shared activation buffers, floats

  const StepScalars* scalars;  // device, per frame
  const float* gaze;           // (N, 2) this frame's gaze
  const float*
      observed_head;  // (N, 3) priming: observed head replaces the generated one; else null
  float* head_out;    // (N, 3) may be null when priming
  float* eye_out;     // (N, 2) may be null
  StateView st;       // device state, in/out
};

__device__ __forceinline__ float load_weight(const float* p) { return __ldg(p); }
__device__ __forceinline__ float load_weight(const __nv_bfloat16* p) {
  return __bfloat162float(__ldg(p));
}
__device__ __forceinline__ float load_weight(const __half* p) { return __half2float(__ldg(p)); }

// Same formulas as the CPU kernels (kernels_impl.inc); both are within a few ulp of libm.
__device__ __forceinline__ float sigmoid(float x) {
  return 1.0f / (1.0f + expf(-fminf(fmaxf(x, -88.0f), 88.0f)));
}

__device__ __forceinline__ float activate(int act, float x) {
  switch (act) {
    case static_cast<int>(Activation::kSiLU):
      return x * sigmoid(x);
    case static_cast<int>(Activation::kReLU):
      return fmaxf(x, 0.0f);
    default:
      return tanhf(x);
  }
}

// y[m][o] = act(b[o] + sum_i x[m][i] W^T[i][o]) for the first `rows` agents of the tile.
// x and y are shared-memory tiles with row stride ld; groups of kRowsPerThread agents past
// `rows` are skipped (a tile of 1 agent costs one group, not the whole tile).
template <typename WT>
__device__ void dense(const StepParams& p, const LayerDesc& L, bool apply_act, const float* x,
                      float* y, int rows) {
  const WT* __restrict__ W = static_cast<const WT*>(p.weights) + L.w;
  const float* __restrict__ B = p.bias + L.b;
  const int groups = (rows + kRowsPerThread - 1) / kRowsPerThread;
  const int ld = p.ld;
  for (int item = threadIdx.x; item < groups * L.out; item += blockDim.x) {
    const int g = item / L.out, o = item - g * L.out;
    const float* xr = x + g * kRowsPerThread * ld;
    float acc[kRowsPerThread];
    const float b = __ldg(B + o);
#pragma unroll
    for (int r = 0; r < kRowsPerThread; ++r) acc[r] = b;
#pragma unroll 4
    for (int i = 0; i < L.in; ++i) {
      const float w = load_weight(W + static_cast<int64_t>(i) * L.out_pad + o);
#pragma unroll
      for (int r = 0; r < kRowsPerThread; ++r) acc[r] = fmaf(xr[r * ld + i], w, acc[r]);
    }
    float* yr = y + g * kRowsPerThread * ld + o;
#pragma unroll
    for (int r = 0; r < kRowsPerThread; ++r)
      yr[r * ld] = apply_act ? activate(p.activation, acc[r]) : acc[r];
  }
}

// An MLP over the tile, ping-ponging between buffers a and b; returns the output buffer.
// `x` may be neither a nor b (it is only read by the first layer).
template <typename WT>
__device__ const float* mlp(const StepParams& p, const LayerDesc* layers, int n, bool final_act,
                            const float* x, float* a, float* b, int rows) {
  for (int l = 0; l < n; ++l) {
    float* y = (l % 2 == 0) ? a : b;
    dense<WT>(p, layers[l], l + 1 < n || final_act, x, y, rows);
    __syncthreads();
    x = y;
  }
  return x;
}

// The GRUCell fused: each thread owns hidden unit j for a group of agents and accumulates the
// six gate pre-activations (input and hidden side of r, z, n) itself, so gi and gh never
// exist as buffers. Reads e and s_old, writes s_new (distinct buffers).
template <typename WT>
__device__ void gru(const StepParams& p, const float* e, const float* s_old, float* s_new,
                    int rows) {
  const int H = p.hidden, E = p.gru_ih.in, ld = p.ld;
  const WT* __restrict__ Wi = static_cast<const WT*>(p.weights) + p.gru_ih.w;
  const WT* __restrict__ Wh = static_cast<const WT*>(p.weights) + p.gru_hh.w;
  const float* __restrict__ Bi = p.bias + p.gru_ih.b;
  const float* __restrict__ Bh = p.bias + p.gru_hh.b;
  const int ldi = p.gru_ih.out_pad, ldh = p.gru_hh.out_pad;
  const int groups = (rows + kRowsPerThread - 1) / kRowsPerThread;
  for (int item = threadIdx.x; item < groups * H; item += blockDim.x) {
    const int g = item / H, j = item - g * H;
    float ir[kRowsPerThread], iz[kRowsPerThread], in[kRowsPerThread];
    float hr[kRowsPerThread], hz[kRowsPerThread], hn[kRowsPerThread];
    {
      const float br = __ldg(Bi + j), bz = __ldg(Bi + H + j), bn = __ldg(Bi + 2 * H + j);
      const float cr = __ldg(Bh + j), cz = __ldg(Bh + H + j), cn = __ldg(Bh + 2 * H + j);
#pragma unroll
      for (int r = 0; r < kRowsPerThread; ++r) {
        ir[r] = br;
        iz[r] = bz;
        in[r] = bn;
        hr[r] = cr;
        hz[r] = cz;
        hn[r] = cn;
      }
    }
    const float* er = e + g * kRowsPerThread * ld;
#pragma unroll 2
    for (int i = 0; i < E; ++i) {
      const WT* w = Wi + static_cast<int64_t>(i) * ldi + j;
      const float wr = load_weight(w), wz = load_weight(w + H), wn = load_weight(w + 2 * H);
#pragma unroll
      for (int r = 0; r < kRowsPerThread; ++r) {
        const float v = er[r * ld + i];
        ir[r] = fmaf(v, wr, ir[r]);
        iz[r] = fmaf(v, wz, iz[r]);
        in[r] = fmaf(v, wn, in[r]);
      }
    }
    const float* sr = s_old + g * kRowsPerThread * ld;
#pragma unroll 2
    for (int i = 0; i < H; ++i) {
      const WT* w = Wh + static_cast<int64_t>(i) * ldh + j;
      const float wr = load_weight(w), wz = load_weight(w + H), wn = load_weight(w + 2 * H);
#pragma unroll
      for (int r = 0; r < kRowsPerThread; ++r) {
        const float v = sr[r * ld + i];
        hr[r] = fmaf(v, wr, hr[r]);
        hz[r] = fmaf(v, wz, hz[r]);
        hn[r] = fmaf(v, wn, hn[r]);
      }
    }
#pragma unroll
    for (int r = 0; r < kRowsPerThread; ++r) {
      const float rg = sigmoid(ir[r] + hr[r]);
      const float zg = sigmoid(iz[r] + hz[r]);
      const float ng = tanhf(in[r] + rg * hn[r]);
      const float h = sr[r * ld + j];
      s_new[(g * kRowsPerThread + r) * ld + j] = (h - ng) * zg + ng;  // ATen's (1-z) n + z h
    }
  }
}

}  // namespace cuda
}  // namespace gazehead
