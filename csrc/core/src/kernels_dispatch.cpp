#include <cstdlib>
#include <cstring>

#include "kernels.h"

namespace gazehead {
namespace kernels {

const Table& baseline_table() { return base::kTable; }

const Table& table() {
  static const Table* chosen = [] {
#if defined(GAZEHEAD_HAVE_AVX2_KERNELS)
    // GAZEHEAD_CPU_ISA=baseline forces the portable kernels (tests compare the two).
    const char* force = std::getenv("GAZEHEAD_CPU_ISA");
    const bool forced_base = force != nullptr && std::strcmp(force, "baseline") == 0;
    __builtin_cpu_init();
    if (!forced_base && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
      return &avx2::kTable;
    }
#endif
    return &base::kTable;
  }();
  return *chosen;
}

}  // namespace kernels
}  // namespace gazehead
