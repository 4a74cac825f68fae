// The activation and GRU kernels of every compiled ISA on inputs no valid model and state
// produce (NaN, +-inf, +-3e38): the results are defined (a NaN propagates, a huge input
// saturates) and, in the sanitizer build, free of undefined behaviour (exp_vec once converted
// a NaN to int).
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "../src/kernels.h"

namespace {

int g_failures = 0;

void check(bool ok, const std::string& what) {
  if (!ok) {
    ++g_failures;
    std::fprintf(stderr, "test_kernels_nonfinite: %s\n", what.c_str());
  }
}

void run(const gazehead::kernels::Table& t) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const std::string isa = t.isa;
  for (auto act :
       {gazehead::Activation::kSiLU, gazehead::Activation::kTanh, gazehead::Activation::kReLU}) {
    std::vector<float> y(gazehead::kPad, 0.0f);
    const float in[] = {nan, inf, -inf, 3e38f, -3e38f, 1e30f, 0.0f, 1.0f};
    std::copy(std::begin(in), std::end(in), y.begin());
    t.activate(act, y.data(), gazehead::kPad);
    if (act == gazehead::Activation::kTanh) {
      check(std::isnan(y[0]), isa + ": tanh(NaN) is not NaN");
      check(y[3] == 1.0f && y[4] == -1.0f, isa + ": tanh(+-3e38) does not saturate at +-1");
    } else if (act == gazehead::Activation::kSiLU) {
      check(std::isnan(y[0]), isa + ": silu(NaN) is not NaN");
      check(y[3] == 3e38f && std::isfinite(y[4]) && y[4] <= 0.0f,
            isa + ": silu(+-3e38) is not (3e38, a finite value <= 0)");
    }
    check(y[6] == 0.0f, isa + ": activation of 0 is not 0");
  }
  // one agent, H = 16: gates of NaN and huge values
  const int H = gazehead::kPad;
  std::vector<float> gi(3 * H, 3e38f), gh(3 * H, -3e38f), s(H, 0.5f);
  gi[0] = nan;
  gh[H + 1] = inf;
  t.gru_gates(gi.data(), gh.data(), 3 * H, s.data(), H, H, 1);  // defined is what is tested
  check(std::isnan(s[0]), isa + ": a NaN gate does not propagate into the GRU state");
}

}  // namespace

int main() {
  run(gazehead::kernels::base::kTable);
#if defined(GAZEHEAD_HAVE_AVX2_KERNELS)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    run(gazehead::kernels::avx2::kTable);
  }
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("fma")) {
    run(gazehead::kernels::avx512::kTable);
  }
#endif
  if (g_failures == 0) std::printf("kernels on non-finite and huge inputs: defined\n");
  return g_failures == 0 ? 0 : 1;
}
