// Internal: the CPU step's inner loops. Compiled once per ISA (kernels_impl.inc), selected at
// run time by cpuid, so one wheel runs on any x86-64 and uses AVX2+FMA or AVX-512 where present.
#pragma once

#include "gazehead/model.h"

namespace gazehead {
namespace kernels {

struct Table {
  const char* isa;
  // y[m, 0:out_pad] = x[m, 0:in] @ Wt + b for m < rows. x rows are ldx apart, y rows ldy apart.
  void (*linear)(const float* x, int ldx, int rows, const PackedLinear& layer, float* y, int ldy);
  // The same with the layer's bf16 weights. baseline/avx2/avx512: PackedLinear::wt_bf16 widened
  // to fp32 on load (half the weight traffic, fp32 arithmetic). avx512bf16: x is rounded to
  // bf16 into xb (rows x layer.in2, nearest even) and multiplied by PackedLinear::wp_bf16 with
  // vdpbf16ps (exact products, fp32 accumulation). xb holds rows * layer.in2 values.
  // act >= 0: the Activation applied to y as well (avx512bf16 does it on the accumulators).
  void (*linear_bf16)(const float* x, int ldx, int rows, const PackedLinear& layer, float* y,
                      int ldy, uint16_t* xb, int act);
  // In place over n contiguous floats; every activation maps 0 to 0, so padding stays zero.
  void (*activate)(Activation act, float* y, int n);
  // PyTorch GRUCell gates for rows agents; s (rows, lds) is updated in place: it is both the
  // previous state (read) and the new state (written), element by element.
  void (*gru_gates)(const float* gi, const float* gh, int ldg, float* s, int lds, int hidden,
                    int rows);
  // The same for bf16 weights: avx512bf16 computes sigma with a fast reciprocal (rcp14 and a
  // Newton step, ~1e-7 relative, far below the bf16 rounding); elsewhere gru_gates itself.
  void (*gru_gates_bf16)(const float* gi, const float* gh, int ldg, float* s, int lds, int hidden,
                         int rows);
  // Roofline probes (benchmarks/step_latency.py): multiply-adds per second of thread CPU time
  // of a register-only loop of this build's widest FMA, and of vdpbf16ps (0 where the build
  // has no native bf16); bytes per second of thread CPU time reading n floats `reps` times
  // with this build's vector loads.
  double (*fma_rate)(long iters);
  double (*dot_bf16_rate)(long iters);
  double (*read_rate)(const float* buf, size_t n, int reps);
};

const Table& table();  // best for this CPU; chosen once

namespace base {
extern const Table kTable;
}
#if defined(GAZEHEAD_HAVE_AVX2_KERNELS)
namespace avx2 {
extern const Table kTable;
}
namespace avx512 {
extern const Table kTable;
}
namespace avx512bf16 {
extern const Table kTable;
}
#endif

// Thread CPU time in seconds (the probes divide by it, so a shared core's other work is not
// counted against the hardware).
double thread_seconds();

}  // namespace kernels
}  // namespace gazehead
