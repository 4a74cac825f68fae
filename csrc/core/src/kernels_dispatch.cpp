#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>

#include "kernels.h"

namespace gazehead {
namespace kernels {

const Table& table() {
  // Initialized on first use; a bad GAZEHEAD_CPU_ISA throws, and the next use tries again.
  static const Table* chosen = [] {
    // GAZEHEAD_CPU_ISA=baseline|avx2|avx512|avx512bf16 caps the choice (tests compare the
    // kernel builds); unset or empty: the best the CPU supports. Any other value is refused,
    // not ignored.
    static const char* const kLevels[] = {"baseline", "avx2", "avx512", "avx512bf16"};
    const char* cap = std::getenv("GAZEHEAD_CPU_ISA");
    int level = 3;
    if (cap != nullptr && cap[0] != '\0') {
      level = -1;
      for (int i = 0; i < 4; ++i) {
        if (std::strcmp(cap, kLevels[i]) == 0) level = i;
      }
      if (level < 0) {
        throw std::invalid_argument(std::string("GAZEHEAD_CPU_ISA='") + cap +
                                    "' is not one of: baseline, avx2, avx512, avx512bf16 (or "
                                    "unset)");
      }
    }
#if defined(GAZEHEAD_HAVE_AVX2_KERNELS)
    __builtin_cpu_init();
    const bool fma = __builtin_cpu_supports("fma");
    const bool avx512 =
        fma && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
    if (level >= 3 && avx512 && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512bf16")) {
      return &avx512bf16::kTable;
    }
    if (level >= 2 && avx512) return &avx512::kTable;
    if (level >= 1 && fma && __builtin_cpu_supports("avx2")) return &avx2::kTable;
#else
    (void)level;
#endif
    return &base::kTable;
  }();
  return *chosen;
}

double thread_seconds() {
#if defined(CLOCK_THREAD_CPUTIME_ID)
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
#else  // no per-thread CPU clock: wall time
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
#endif
}

}  // namespace kernels
}  // namespace gazehead
