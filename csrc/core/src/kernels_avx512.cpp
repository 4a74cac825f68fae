// Built with -mavx512 -mfma (see CMakeLists.txt); only called after cpuid says both exist.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels.h"

namespace gazehead {
namespace kernels {
namespace avx512 {
#define GAZEHEAD_ISA_NAME "avx512"
#define GAZEHEAD_VEC_FLOATS 16
#define GAZEHEAD_TILE_ROWS \
  8  // 8 agents x 2 vectors (32 outputs): 16 of the 32 zmm registers
     // accumulate; measured best of 8x2, 8x3, 12x2, 6x4, 4x4 on Zen 5
#define GAZEHEAD_TILE_VECS 2
#define GAZEHEAD_ROW1_FLOATS 128  // outputs per tile for a single agent
#include "kernels_impl.inc"
}  // namespace avx512
}  // namespace kernels
}  // namespace gazehead
