// Comparisons for tests that must fail on NaN and Inf. std::max(worst, NaN) returns `worst`, so a
// running maximum kept with std::max silently skips a NaN error, and a result that is NaN
// everywhere would score 0 and pass. These keep the NaN (EXPECT_LE(NaN, tol) fails) and turn a
// non-finite value being compared into +Inf or NaN, never into a small number.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace trinity::testing {

// max(a, b), NaN when either is NaN.
inline double max_keep_nan(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
  return std::max(a, b);
}

// sqrt(sum (got - want)^2 / sum want^2) over n values: NaN when either side holds a NaN, +Inf
// when `got` holds an Inf (or `want` is all zero and `got` is not), 0 for two zero rows.
inline double row_rel_l2(const float* got, const float* want, int64_t n) {
  double num = 0.0, den = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    if (std::isnan(got[i]) || std::isnan(want[i])) return std::numeric_limits<double>::quiet_NaN();
    if (std::isinf(got[i]) || std::isinf(want[i])) return std::numeric_limits<double>::infinity();
    const double d = static_cast<double>(got[i]) - want[i];
    num += d * d;
    den += static_cast<double>(want[i]) * want[i];
  }
  if (den == 0.0) return num == 0.0 ? 0.0 : std::numeric_limits<double>::infinity();
  return std::sqrt(num / den);
}

// The worst row_rel_l2 of `rows` rows of D values (NaN if any row is NaN).
inline double max_row_rel_l2(const float* got, const float* want, int64_t rows, int64_t D) {
  double worst = 0.0;
  for (int64_t r = 0; r < rows; ++r)
    worst = max_keep_nan(worst, row_rel_l2(got + r * D, want + r * D, D));
  return worst;
}

}  // namespace trinity::testing
