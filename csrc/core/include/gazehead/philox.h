// Counter-based noise shared by every backend (docs/design.md §4).
//
// eps for agent a, frame t, latent lane j is word (j % 4) of
//   Philox4x32-10(counter = {t, j / 4, episode, 0}, key = {seed, a})
// turned into normals by Box-Muller on word pairs (0,1) and (2,3). Because the draw depends
// only on (seed, agent, episode, frame, lane), an agent's motion is the same for any batch
// size and on any backend.
#pragma once

#include <math.h>

#include <cstdint>

#if defined(__CUDACC__)
#define GH_HD __host__ __device__ __forceinline__
#else
#define GH_HD inline
#endif

namespace gazehead {

struct Philox4x32 {
  uint32_t v[4];
};

GH_HD uint32_t mulhilo32(uint32_t a, uint32_t b, uint32_t* hi) {
  const uint64_t p = static_cast<uint64_t>(a) * static_cast<uint64_t>(b);
  *hi = static_cast<uint32_t>(p >> 32);
  return static_cast<uint32_t>(p);
}

// Salmon et al., "Parallel random numbers: as easy as 1, 2, 3" (SC'11), Philox4x32 with
// 10 rounds and its published multipliers and Weyl key increments.
GH_HD Philox4x32 philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0,
                               uint32_t k1) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, hi1;
    const uint32_t lo0 = mulhilo32(kM0, c0, &hi0);
    const uint32_t lo1 = mulhilo32(kM1, c2, &hi1);
    const uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0;
    c1 = n1;
    c2 = n2;
    c3 = n3;
    k0 += kW0;
    k1 += kW1;
  }
  return Philox4x32{{c0, c1, c2, c3}};
}

// Uniform in (0, 1]: the top 24 bits, centred in their bin. Never 0 (log stays finite); but
// from 2^23 on, k + 0.5 rounds to even in float, so the top bin gives exactly 1 (1 draw in
// 2^24: that pair of normals is 0). Kept as is: every backend and the ONNX host draw alike.
GH_HD float uint_to_unit(uint32_t x) {
  return (static_cast<float>(x >> 8) + 0.5f) * (1.0f / 16777216.0f);
}

// Four standard normals from one Philox block (Box-Muller, float math).
GH_HD void box_muller4(const Philox4x32& r, float out[4]) {
  constexpr float kTwoPi = 6.283185307179586f;
  for (int p = 0; p < 2; ++p) {
    const float u0 = uint_to_unit(r.v[2 * p]);
    const float u1 = uint_to_unit(r.v[2 * p + 1]);
    const float rad = sqrtf(-2.0f * logf(u0));
    const float theta = kTwoPi * u1;
    out[2 * p] = rad * cosf(theta);
    out[2 * p + 1] = rad * sinf(theta);
  }
}

// eps[0..latent) for one agent at one frame.
GH_HD void agent_normals(uint32_t seed, uint32_t agent, uint32_t episode, uint32_t frame,
                         int latent, float* eps) {
  for (int j0 = 0; j0 < latent; j0 += 4) {
    float n[4];
    box_muller4(philox4x32_10(frame, static_cast<uint32_t>(j0 / 4), episode, 0u, seed, agent), n);
    for (int j = j0; j < latent && j < j0 + 4; ++j) eps[j] = n[j - j0];
  }
}

}  // namespace gazehead
