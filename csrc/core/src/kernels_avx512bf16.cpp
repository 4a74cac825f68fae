// Built with -mavx512f -mavx512vl -mavx512bw -mavx512bf16 -mfma (see CMakeLists.txt); only
// called after cpuid says all of them exist. The fp32 kernels are the avx512 build's; bf16
// weights run on the native bf16 dot product (vdpbf16ps): two multiply-adds per fp32 lane per
// instruction, twice the fp32 FMA rate, from weights packed at load (PackedLinear::wp_bf16).
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels.h"

namespace gazehead {
namespace kernels {
namespace avx512bf16 {
namespace {

constexpr int kVec = 16;  // fp32 lanes per zmm
static_assert(kPanel == 2 * kVec, "a full panel is two vectors of outputs");

// x rows (fp32, stride ldx) -> bf16 rows of in2 values (round to nearest even, as the weights;
// the pad value, if any, is 0).
inline void round_rows(const float* x, int ldx, int rows, int in, int in2, uint16_t* xb) {
  for (int m = 0; m < rows; ++m) {
    const float* xr = x + static_cast<size_t>(m) * ldx;
    uint16_t* br = xb + static_cast<size_t>(m) * in2;
    for (int k = 0; k < in2; k += kVec) {
      const int n_in = std::max(0, std::min(kVec, in - k));
      const int n_out = std::min(kVec, in2 - k);
      const __m512 v = _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n_in) - 1), xr + k);
      const __m256i b = reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(v));
      _mm256_mask_storeu_epi16(br + k, static_cast<__mmask16>((1u << n_out) - 1), b);
    }
  }
}

// MB agents x NP panels of NV vectors (NV = 2: a full panel, 1: a layer's 16-wide last panel)
// accumulated over the whole input, one broadcast input pair at a time.
template <int MB, int NP, int NV>
inline void tile(const uint16_t* __restrict xb, int in2, const uint16_t* __restrict wp,
                 const float* __restrict bias, float* __restrict y, int ldy, int o0) {
  constexpr int NQ = NP * NV;
  __m512 acc[MB][NQ];
  const uint16_t* w[NP];
  for (int p = 0; p < NP; ++p) {
    w[p] = wp + static_cast<size_t>(o0 + kPanel * p) * in2;
    for (int j = 0; j < NV; ++j) {
      const __m512 b = _mm512_loadu_ps(bias + o0 + kPanel * p + kVec * j);
      for (int m = 0; m < MB; ++m) acc[m][p * NV + j] = b;
    }
  }
  const int pairs = in2 / 2;
  for (int kp = 0; kp < pairs; ++kp) {
    __m512bh wv[NQ];
    for (int p = 0; p < NP; ++p) {
      for (int j = 0; j < NV; ++j) {
        wv[p * NV + j] = reinterpret_cast<__m512bh>(
            _mm512_loadu_si512(w[p] + (static_cast<size_t>(kp) * NV + j) * 2 * kVec));
      }
    }
    for (int m = 0; m < MB; ++m) {
      int32_t pair;
      std::memcpy(&pair, xb + static_cast<size_t>(m) * in2 + 2 * kp, sizeof pair);
      const __m512bh xv = reinterpret_cast<__m512bh>(_mm512_set1_epi32(pair));
      for (int q = 0; q < NQ; ++q) acc[m][q] = _mm512_dpbf16_ps(acc[m][q], xv, wv[q]);
    }
  }
  for (int m = 0; m < MB; ++m) {
    for (int p = 0; p < NP; ++p) {
      for (int j = 0; j < NV; ++j) {
        _mm512_storeu_ps(y + static_cast<size_t>(m) * ldy + o0 + kPanel * p + kVec * j,
                         acc[m][p * NV + j]);
      }
    }
  }
}

// Rows [m0, rows) against the panel at o0 (NV vectors wide): blocks of kRows agents, then the
// rest one at a time. The panel (at most in2 x 128 bytes) stays in L1 across the blocks.
template <int NV>
inline void panel_rows(const uint16_t* xb, int in2, int rows, const PackedLinear& L, float* y,
                       int ldy, int o0) {
  constexpr int kRows = 8;  // 8 agents x 2 vectors: 16 of the 32 zmm registers accumulate
  const uint16_t* wp = L.wp_bf16.data();
  const float* bias = L.bias.data();
  int m = 0;
  for (; m + kRows <= rows; m += kRows) {
    tile<kRows, 1, NV>(xb + static_cast<size_t>(m) * in2, in2, wp, bias,
                       y + static_cast<size_t>(m) * ldy, ldy, o0);
  }
  for (; m + 4 <= rows; m += 4) {
    tile<4, 1, NV>(xb + static_cast<size_t>(m) * in2, in2, wp, bias,
                   y + static_cast<size_t>(m) * ldy, ldy, o0);
  }
  for (; m < rows; ++m) {
    tile<1, 1, NV>(xb + static_cast<size_t>(m) * in2, in2, wp, bias,
                   y + static_cast<size_t>(m) * ldy, ldy, o0);
  }
}

void linear_native(const float* x, int ldx, int rows, const PackedLinear& L, float* y, int ldy,
                   uint16_t* xb) {
  round_rows(x, ldx, rows, L.in, L.in2, xb);
  const int full = L.out_pad / kPanel * kPanel;  // outputs in full panels
  if (rows == 1) {
    // One agent: four panels at a time give 8 independent accumulator chains and four
    // sequential weight streams.
    int o0 = 0;
    for (; o0 + 4 * kPanel <= full; o0 += 4 * kPanel)
      tile<1, 4, 2>(xb, L.in2, L.wp_bf16.data(), L.bias.data(), y, ldy, o0);
    for (; o0 + 2 * kPanel <= full; o0 += 2 * kPanel)
      tile<1, 2, 2>(xb, L.in2, L.wp_bf16.data(), L.bias.data(), y, ldy, o0);
    for (; o0 < full; o0 += kPanel)
      tile<1, 1, 2>(xb, L.in2, L.wp_bf16.data(), L.bias.data(), y, ldy, o0);
    if (full < L.out_pad) tile<1, 1, 1>(xb, L.in2, L.wp_bf16.data(), L.bias.data(), y, ldy, full);
    return;
  }
  for (int o0 = 0; o0 < full; o0 += kPanel) panel_rows<2>(xb, L.in2, rows, L, y, ldy, o0);
  if (full < L.out_pad) panel_rows<1>(xb, L.in2, rows, L, y, ldy, full);
}

// Roofline probe for vdpbf16ps: 12 independent accumulator chains.
double dot_bf16_rate(long iters) {
  volatile uint32_t va = 0x3f803f80u, vb = 0x38003800u;  // bf16 pairs (1, 1), (2^-15, 2^-15)
  const __m512bh a = reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(va)));
  const __m512bh b = reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(vb)));
  __m512 c[12];
  for (int i = 0; i < 12; ++i) c[i] = _mm512_set1_ps(static_cast<float>(i));  // all distinct
  const double t0 = thread_seconds();
  for (long i = 0; i < iters; ++i) {
    for (int j = 0; j < 12; ++j) c[j] = _mm512_dpbf16_ps(c[j], a, b);
  }
  const double t = thread_seconds() - t0;
  __m512 sum = c[0];
  for (int j = 1; j < 12; ++j) sum = _mm512_add_ps(sum, c[j]);
  float lanes[kVec];
  _mm512_storeu_ps(lanes, sum);
  volatile float sink = lanes[0];
  (void)sink;
  return static_cast<double>(iters) * 12 * 2 * kVec / t;
}

}  // namespace

#define GAZEHEAD_ISA_NAME "avx512bf16"
#define GAZEHEAD_VEC_FLOATS 16
#define GAZEHEAD_TILE_ROWS 8  // as the avx512 build (the fp32 kernels are the same)
#define GAZEHEAD_TILE_VECS 2
#define GAZEHEAD_ROW1_FLOATS 128
#define GAZEHEAD_LINEAR_BF16 &linear_native
#define GAZEHEAD_DOT_BF16_RATE &dot_bf16_rate
#include "kernels_impl.inc"
}  // namespace avx512bf16
}  // namespace kernels
}  // namespace gazehead
