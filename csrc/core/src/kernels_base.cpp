#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels.h"

namespace gazehead {
namespace kernels {
namespace base {
#define GAZEHEAD_ISA_NAME "baseline"
#define GAZEHEAD_VEC_FLOATS 8
#define GAZEHEAD_TILE_ROWS 4  // rows x 2 vectors of accumulators
#define GAZEHEAD_TILE_VECS 2
#define GAZEHEAD_ROW1_FLOATS 64  // outputs per tile for a single agent
#include "kernels_impl.inc"
}  // namespace base
}  // namespace kernels
}  // namespace gazehead
