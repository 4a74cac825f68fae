#include <cstdlib>
#include <cstring>

#include "kernels.h"

namespace gazehead {
namespace kernels {

const Table& table() {
  static const Table* chosen = [] {
#if defined(GAZEHEAD_HAVE_AVX2_KERNELS)
    // GAZEHEAD_CPU_ISA=baseline|avx2 caps the choice (tests compare the kernel builds).
    const char* cap = std::getenv("GAZEHEAD_CPU_ISA");
    const bool allow_avx2 = cap == nullptr || std::strcmp(cap, "baseline") != 0;
    const bool allow_avx512 = allow_avx2 && (cap == nullptr || std::strcmp(cap, "avx2") != 0);
    __builtin_cpu_init();
    const bool fma = __builtin_cpu_supports("fma");
    if (allow_avx512 && fma && __builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512vl")) {
      return &avx512::kTable;
    }
    if (allow_avx2 && fma && __builtin_cpu_supports("avx2")) return &avx2::kTable;
#endif
    return &base::kTable;
  }();
  return *chosen;
}

}  // namespace kernels
}  // namespace gazehead
