// Deterministic floating point for the market generators (private to src/sim).
//
// Every double that decides something in a generator (waiting times, sizes, intensities) is
// computed with + - * /, frexp / ldexp and bit operations only — correctly rounded or exact under
// IEEE 754 — never libm's log / exp, whose last bit differs between C libraries. Contracting
// a*b+c into one fused instruction (FMA) would change roundings on targets that have it
// (aarch64, x86 with -march=native), so it is switched off for that code: GCC contracts by
// default even in ISO C++ mode. Entry points carry MMKIT_DET_FP (never inlined into code compiled
// with the default contraction) and open their body with MMKIT_DET_FP_BODY; helpers called only
// from them carry MMKIT_DET_FP_INLINE.
#pragma once

#include <cmath>

#if defined(__clang__)
#define MMKIT_DET_FP_INLINE
#define MMKIT_DET_FP __attribute__((noinline))
#define MMKIT_DET_FP_BODY _Pragma("clang fp contract(off)")
#elif defined(__GNUC__)
#define MMKIT_DET_FP_INLINE __attribute__((optimize("fp-contract=off")))
#define MMKIT_DET_FP __attribute__((noinline, optimize("fp-contract=off")))
#define MMKIT_DET_FP_BODY
#else  // MSVC: /fp:precise does not contract unless /fp:contract is given.
#define MMKIT_DET_FP_INLINE
#define MMKIT_DET_FP
#define MMKIT_DET_FP_BODY
#endif

namespace mmkit::sim::det {

inline constexpr double kLn2Hi = 6.93147180369123816490e-01;  // fdlibm's split of ln 2
inline constexpr double kLn2Lo = 1.90821492927058770002e-10;

/// Natural logarithm of a finite x > 0 (bit-identical everywhere); relative error ~1e-16.
/// log(m) = 2 atanh(s), s = (m-1)/(m+1), m in [√½, √2), |s| < 0.1716; the series is cut after
/// s^23 (next term < 1e-19 relative).
MMKIT_DET_FP inline double log(double x) noexcept {
  MMKIT_DET_FP_BODY
  int e = 0;
  double m = std::frexp(x, &e);
  if (m < 0.70710678118654752440) {
    m *= 2.0;
    --e;
  }
  const double s = (m - 1.0) / (m + 1.0);
  const double s2 = s * s;
  double p = 1.0 / 23.0;
  for (int k = 21; k >= 1; k -= 2) p = p * s2 + 1.0 / static_cast<double>(k);
  const double de = static_cast<double>(e);
  return de * kLn2Hi + (de * kLn2Lo + 2.0 * s * p);
}

/// e^x for moderate |x| (construction-time rates), + - * / and ldexp only.
MMKIT_DET_FP inline double exp(double x) noexcept {
  MMKIT_DET_FP_BODY
  const double kf = std::floor(x / (kLn2Hi + kLn2Lo) + 0.5);
  const double r = (x - kf * kLn2Hi) - kf * kLn2Lo;  // |r| <= 0.35
  double p = 1.0;
  for (int n = 18; n >= 1; --n) p = 1.0 + r * p / static_cast<double>(n);
  return std::ldexp(p, static_cast<int>(kf));
}

}  // namespace mmkit::sim::det
