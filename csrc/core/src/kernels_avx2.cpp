// Built with -mavx2 -mfma (see CMakeLists.txt); only called after cpuid says both exist.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels.h"

namespace gazehead {
namespace kernels {
namespace avx2 {
#define GAZEHEAD_ISA_NAME "avx2+fma"
#define GAZEHEAD_VEC_FLOATS 8
#define GAZEHEAD_TILE_ROWS 6  // rows x 2 vectors of accumulators
#define GAZEHEAD_TILE_VECS 2
#define GAZEHEAD_ROW1_FLOATS 64  // outputs per tile for a single agent
#include "kernels_impl.inc"
}  // namespace avx2
}  // namespace kernels
}  // namespace gazehead
