#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels.h"

namespace gazehead {
namespace kernels {

const Table& table() {
  // Initialized on first use; a bad GAZEHEAD_CPU_ISA throws, and the next use tries again.
  static const Table* chosen = [] {
    // GAZEHEAD_CPU_ISA=baseline|avx2|avx512 caps the choice (tests compare the kernel builds);
    // unset or empty: the best the CPU supports. Any other value is refused, not ignored.
    const char* cap = std::getenv("GAZEHEAD_CPU_ISA");
    if (cap != nullptr && cap[0] == '\0') cap = nullptr;
    if (cap != nullptr && std::strcmp(cap, "baseline") != 0 && std::strcmp(cap, "avx2") != 0 &&
        std::strcmp(cap, "avx512") != 0) {
      throw std::invalid_argument(std::string("GAZEHEAD_CPU_ISA='") + cap +
                                  "' is not one of: baseline, avx2, avx512 (or unset)");
    }
#if defined(GAZEHEAD_HAVE_AVX2_KERNELS)
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
