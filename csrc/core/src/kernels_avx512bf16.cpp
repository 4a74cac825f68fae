// Built with -mavx512f -mavx512vl -mavx512bw -mavx512bf16 -mfma (see CMakeLists.txt); only
// called after cpuid says all of them exist. The fp32 kernels are the avx512 build's; bf16
// weights run on the native bf16 dot product (vdpbf16ps): two multiply-adds per fp32 lane per
// instruction, twice the fp32 FMA rate, from weights packed at load (PackedLinear::wp_bf16).
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's AVX-512 headers build unmasked min/max/rcp14/scalef/roundscale on
// _mm512_undefined_ps(), which -Wmaybe-uninitialized reports once inlined here
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
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

// exp on [-87, 88] (clamped): Cephes' expf polynomial as kernels_impl.inc's exp_vec, with the
// power of two applied by vscalefps (exact, no integer exponent arithmetic).
inline __m512 exp16(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.0f)), _mm512_set1_ps(88.0f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  const __m512 e = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(e, n);
}

// 1 / (1 + exp(-x)): rcp14 and one Newton step (relative error ~1e-7) instead of a division.
inline __m512 sigmoid16(__m512 x) {
  const __m512 d =
      _mm512_add_ps(_mm512_set1_ps(1.0f), exp16(_mm512_sub_ps(_mm512_setzero_ps(), x)));
  const __m512 y = _mm512_rcp14_ps(d);
  return _mm512_mul_ps(y, _mm512_fnmadd_ps(d, y, _mm512_set1_ps(2.0f)));
}

inline __m512 tanh16(__m512 x) {  // 2 sigmoid(2x) - 1, as tanh_vec
  return _mm512_fmsub_ps(_mm512_set1_ps(2.0f), sigmoid16(_mm512_add_ps(x, x)),
                         _mm512_set1_ps(1.0f));
}

inline __m512 activate16(int act, __m512 v) {
  switch (static_cast<Activation>(act)) {
    case Activation::kSiLU:
      return _mm512_mul_ps(v, sigmoid16(v));
    case Activation::kReLU:
      return _mm512_max_ps(v, _mm512_setzero_ps());
    case Activation::kTanh:
      return tanh16(v);
  }
  return v;
}

// MB agents x NP panels of NV vectors (NV = 2: a full panel, 1: a layer's 16-wide last panel)
// accumulated over the whole input, one broadcast input pair at a time.
template <int MB, int NP, int NV>
inline void tile(const uint16_t* __restrict xb, int in2, const uint16_t* __restrict wp,
                 const float* __restrict bias, float* __restrict y, int ldy, int o0, int act) {
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
  if (act >= 0) {  // the activation on the accumulators, before they leave the registers
    for (int m = 0; m < MB; ++m)
      for (int q = 0; q < NQ; ++q) acc[m][q] = activate16(act, acc[m][q]);
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
                       int ldy, int o0, int act) {
  constexpr int kRows = 8;  // 8 agents x 2 vectors: 16 of the 32 zmm registers accumulate
  const uint16_t* wp = L.wp_bf16.data();
  const float* bias = L.bias.data();
  int m = 0;
  for (; m + kRows <= rows; m += kRows) {
    tile<kRows, 1, NV>(xb + static_cast<size_t>(m) * in2, in2, wp, bias,
                       y + static_cast<size_t>(m) * ldy, ldy, o0, act);
  }
  for (; m + 4 <= rows; m += 4) {
    tile<4, 1, NV>(xb + static_cast<size_t>(m) * in2, in2, wp, bias,
                   y + static_cast<size_t>(m) * ldy, ldy, o0, act);
  }
  for (; m < rows; ++m) {
    tile<1, 1, NV>(xb + static_cast<size_t>(m) * in2, in2, wp, bias,
                   y + static_cast<size_t>(m) * ldy, ldy, o0, act);
  }
}

void linear_native(const float* x, int ldx, int rows, const PackedLinear& L, float* y, int ldy,
                   uint16_t* xb, int act) {
  round_rows(x, ldx, rows, L.in, L.in2, xb);
  const int full = L.out_pad / kPanel * kPanel;  // outputs in full panels
  if (rows == 1) {
    // One agent: four panels at a time give 8 independent accumulator chains and four
    // sequential weight streams.
    int o0 = 0;
    for (; o0 + 4 * kPanel <= full; o0 += 4 * kPanel)
      tile<1, 4, 2>(xb, L.in2, L.wp_bf16.data(), L.bias.data(), y, ldy, o0, act);
    for (; o0 + 2 * kPanel <= full; o0 += 2 * kPanel)
      tile<1, 2, 2>(xb, L.in2, L.wp_bf16.data(), L.bias.data(), y, ldy, o0, act);
    for (; o0 < full; o0 += kPanel)
      tile<1, 1, 2>(xb, L.in2, L.wp_bf16.data(), L.bias.data(), y, ldy, o0, act);
    if (full < L.out_pad)
      tile<1, 1, 1>(xb, L.in2, L.wp_bf16.data(), L.bias.data(), y, ldy, full, act);
    return;
  }
  for (int o0 = 0; o0 < full; o0 += kPanel) panel_rows<2>(xb, L.in2, rows, L, y, ldy, o0, act);
  if (full < L.out_pad) panel_rows<1>(xb, L.in2, rows, L, y, ldy, full, act);
}

// PyTorch GRUCell gates as kernels_impl.inc's gru_gates, with the fast sigma above.
void gru_gates_fast(const float* gi, const float* gh, int ldg, float* s, int lds, int H, int rows) {
  for (int m = 0; m < rows; ++m) {
    const float* a = gi + static_cast<size_t>(m) * ldg;
    const float* b = gh + static_cast<size_t>(m) * ldg;
    float* h = s + static_cast<size_t>(m) * lds;
    for (int i = 0; i < H; i += kVec) {
      const __mmask16 k = static_cast<__mmask16>((1u << std::min(kVec, H - i)) - 1);
      const __m512 r = sigmoid16(
          _mm512_add_ps(_mm512_maskz_loadu_ps(k, a + i), _mm512_maskz_loadu_ps(k, b + i)));
      const __m512 z = sigmoid16(
          _mm512_add_ps(_mm512_maskz_loadu_ps(k, a + H + i), _mm512_maskz_loadu_ps(k, b + H + i)));
      const __m512 n = tanh16(_mm512_fmadd_ps(r, _mm512_maskz_loadu_ps(k, b + 2 * H + i),
                                              _mm512_maskz_loadu_ps(k, a + 2 * H + i)));
      const __m512 hv = _mm512_maskz_loadu_ps(k, h + i);
      _mm512_mask_storeu_ps(h + i, k, _mm512_fmadd_ps(_mm512_sub_ps(hv, n), z, n));
    }
  }
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
#define GAZEHEAD_GRU_GATES_BF16 &gru_gates_fast
#include "kernels_impl.inc"
}  // namespace avx512bf16
}  // namespace kernels
}  // namespace gazehead
