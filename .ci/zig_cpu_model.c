/* CPU feature detection for the release build (.ci/build_wheel.sh), linked into _C.
 *
 * zig's compiler-rt implements __cpu_indicator_init() as a stub that leaves __cpu_model
 * zeroed, so __builtin_cpu_supports() answers "no" for every feature and the runtime would
 * never pick its AVX2 or AVX-512 kernels. This file defines both (strong symbols win over
 * compiler-rt's weak ones): CPUID bits of the features, counted only when the OS saves the
 * register state (XGETBV), as libgcc does. Layout and bit numbers are the x86 __cpu_model ABI
 * that GCC and LLVM share (ProcessorFeatures in llvm/TargetParser/X86TargetParser.def). */
#include <cpuid.h>

struct cpu_model {
  unsigned int vendor, type, subtype;
  unsigned int features[1];
};

__attribute__((visibility("hidden"))) struct cpu_model __cpu_model;

enum {
  CMOV = 0,
  MMX = 1,
  POPCNT = 2,
  SSE = 3,
  SSE2 = 4,
  SSE3 = 5,
  SSSE3 = 6,
  SSE4_1 = 7,
  SSE4_2 = 8,
  AVX = 9,
  AVX2 = 10,
  FMA = 14,
  AVX512F = 15,
  AVX512VL = 20
};

static unsigned long long xgetbv0(void) {
  unsigned int lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((unsigned long long)hi << 32) | lo;
}

__attribute__((visibility("hidden"), constructor(101))) int __cpu_indicator_init(void) {
  unsigned int a, b, c, d, f = 0;
  if (__cpu_model.features[0] || !__get_cpuid(1, &a, &b, &c, &d)) return 0;
  if (d & bit_CMOV) f |= 1u << CMOV;
  if (d & bit_MMX) f |= 1u << MMX;
  if (d & bit_SSE) f |= 1u << SSE;
  if (d & bit_SSE2) f |= 1u << SSE2;
  if (c & bit_SSE3) f |= 1u << SSE3;
  if (c & bit_SSSE3) f |= 1u << SSSE3;
  if (c & bit_SSE4_1) f |= 1u << SSE4_1;
  if (c & bit_SSE4_2) f |= 1u << SSE4_2;
  if (c & bit_POPCNT) f |= 1u << POPCNT;
  const int osxsave = (c & bit_OSXSAVE) != 0;
  const unsigned long long xcr0 = osxsave ? xgetbv0() : 0;
  const int ymm = (xcr0 & 0x6) == 0x6;   /* SSE and AVX state */
  const int zmm = (xcr0 & 0xe6) == 0xe6; /* plus opmask and the upper ZMM state */
  if (ymm && (c & bit_AVX)) f |= 1u << AVX;
  if (ymm && (c & bit_FMA)) f |= 1u << FMA;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    if (ymm && (b & bit_AVX2)) f |= 1u << AVX2;
    if (zmm && (b & bit_AVX512F)) f |= 1u << AVX512F;
    if (zmm && (b & bit_AVX512VL)) f |= 1u << AVX512VL;
  }
  __cpu_model.features[0] = f;
  return 0;
}
