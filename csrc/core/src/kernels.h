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
  // The same with the layer's bf16 weights (PackedLinear::wt_bf16), widened to fp32 on load:
  // half the weight traffic, fp32 accumulation.
  void (*linear_bf16)(const float* x, int ldx, int rows, const PackedLinear& layer, float* y,
                      int ldy);
  // In place over n contiguous floats; every activation maps 0 to 0, so padding stays zero.
  void (*activate)(Activation act, float* y, int n);
  // PyTorch GRUCell gates for rows agents; s (rows, lds) is updated in place: it is both the
  // previous state (read) and the new state (written), element by element.
  void (*gru_gates)(const float* gi, const float* gh, int ldg, float* s, int lds, int hidden,
                    int rows);
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
#endif

}  // namespace kernels
}  // namespace gazehead
