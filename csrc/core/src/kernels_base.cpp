#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels.h"

namespace gazehead {
namespace kernels {
namespace base {
#define GAZEHEAD_ISA_NAME "baseline"
#include "kernels_impl.inc"
#undef GAZEHEAD_ISA_NAME
}  // namespace base
}  // namespace kernels
}  // namespace gazehead
