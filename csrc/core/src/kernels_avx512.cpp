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
#define GAZEHEAD_TILE_ROWS 8  // rows x 1 vector of accumulators
#include "kernels_impl.inc"
#undef GAZEHEAD_VEC_FLOATS
#undef GAZEHEAD_TILE_ROWS
#undef GAZEHEAD_ISA_NAME
}  // namespace avx512
}  // namespace kernels
}  // namespace gazehead
