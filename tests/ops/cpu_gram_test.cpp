// cpu::gram_f64_upper (AVX-512 and generic builds) against ref::gram_f64 on random inputs of odd
// sizes, every source dtype and both orientations. Bound: f64 sums of n exact products in another
// order differ by at most n * 2^-53 * sum |x_ri x_rj| (n = rows).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "common/compare.h"
#include "ops/cpu/gram.h"
#include "ops/cpu/kernels.h"
#include "ops/ref/ref_ops.h"

namespace trinity {
namespace {

struct Case {
  int64_t rows, cols;
  DType dtype;
  bool transposed;  // X is the transpose of a stored row-major [cols, rows] matrix
};

// Random values exactly representable in `dtype`, stored row-major [rows, cols] (or transposed).
struct Stored {
  std::vector<float> values;   // X row-major, as f32 (the reference's input)
  std::vector<uint8_t> bytes;  // the stored matrix
  cpu::StridedMatrix view;
};

Stored make(const Case& c, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  Stored s;
  s.values.resize(static_cast<size_t>(c.rows * c.cols));
  const size_t es = dtype_size(c.dtype);
  s.bytes.resize(s.values.size() * es);
  for (int64_t r = 0; r < c.rows; ++r)
    for (int64_t col = 0; col < c.cols; ++col) {
      float v = nd(rng) * (1.0f + static_cast<float>(col % 7));
      const int64_t at = c.transposed ? col * c.rows + r : r * c.cols + col;
      if (c.dtype == DType::kBF16) {
        const uint16_t h = f32_to_bf16(v);
        v = bf16_to_f32(h);
        std::memcpy(s.bytes.data() + at * 2, &h, 2);
      } else if (c.dtype == DType::kF16) {
        const uint16_t h = f32_to_f16(v);
        v = f16_to_f32(h);
        std::memcpy(s.bytes.data() + at * 2, &h, 2);
      } else {
        std::memcpy(s.bytes.data() + at * 4, &v, 4);
      }
      s.values[static_cast<size_t>(r * c.cols + col)] = v;
    }
  s.view = {c.dtype,
            s.bytes.data(),
            c.rows,
            c.cols,
            c.transposed ? 1 : c.cols,
            c.transposed ? c.rows : 1};
  return s;
}

void check(const Case& c, void (*fn)(const cpu::StridedMatrix&, double*, int64_t, int), int threads,
           const char* label) {
  Stored s = make(c, static_cast<uint32_t>(c.rows * 31 + c.cols));
  const int64_t n = c.cols, ldg = n + 3;
  std::vector<double> want(static_cast<size_t>(n * n)), absg(static_cast<size_t>(n * n));
  ref::gram_f64(s.values.data(), c.rows, n, want.data());
  std::vector<float> absx(s.values);
  for (auto& v : absx) v = std::abs(v);
  ref::gram_f64(absx.data(), c.rows, n, absg.data());
  const double sentinel = -12345.0;
  std::vector<double> got(static_cast<size_t>(n * ldg), sentinel);
  fn(s.view, got.data(), ldg, threads);
  double worst = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const double g = got[static_cast<size_t>(i * ldg + j)];
      if (j < i) {
        ASSERT_EQ(g, sentinel) << label << " wrote the lower triangle at " << i << "," << j;
        continue;
      }
      const double w = want[static_cast<size_t>(i * n + j)];
      const double bound = static_cast<double>(c.rows + 1) * 0x1p-53 * absg[i * n + j];
      const double err = std::abs(g - w);
      worst = testing::max_keep_nan(worst, err / (bound + 1e-300));  // NaN fails below
      ASSERT_LE(err, bound) << label << " [" << c.rows << ", " << n << "] " << dtype_name(c.dtype)
                            << (c.transposed ? " transposed" : "") << " at " << i << "," << j;
    }
  EXPECT_LE(worst, 1.0) << label;
}

const std::vector<Case>& cases() {
  static const std::vector<Case> v = {
      {1, 1, DType::kF32, false},       {37, 5, DType::kBF16, false},
      {300, 23, DType::kBF16, false},   {300, 24, DType::kF32, false},
      {513, 25, DType::kF16, false},    {257, 64, DType::kBF16, true},
      {1000, 100, DType::kBF16, false}, {700, 97, DType::kF32, true},
      {2, 130, DType::kBF16, false},    {600, 257, DType::kBF16, false},
  };
  return v;
}

TEST(CpuGram, Avx512MatchesReference) {
  if (std::string(cpu::kernel_isa()) != "avx512") GTEST_SKIP() << "no AVX-512 on this CPU";
  for (const Case& c : cases())
    for (int threads : {1, 2, 3}) check(c, cpu::avx512::gram_f64_upper, threads, "avx512");
}

TEST(CpuGram, GenericMatchesReference) {
  for (const Case& c : cases()) check(c, cpu::generic::gram_f64_upper, 2, "generic");
}

TEST(CpuGram, DispatchedMatchesReferenceAndIsThreadCountIndependent) {
  const Case c{1100, 75, DType::kBF16, false};
  Stored s = make(c, 5);
  std::vector<double> a(75 * 75, 0.0), b(75 * 75, 0.0);
  cpu::gram_f64_upper(s.view, a.data(), 75, 1);
  cpu::gram_f64_upper(s.view, b.data(), 75, 2);
  EXPECT_EQ(a, b);
  check(c, cpu::gram_f64_upper, 2, cpu::gram_f64_impl());
}

TEST(CpuGram, NanPropagates) {
  std::vector<float> x(40 * 9, 1.0f);
  x[17] = std::nanf("");
  cpu::StridedMatrix v{DType::kF32, x.data(), 40, 9, 9, 1};
  std::vector<double> g(81, 0.0);
  cpu::gram_f64_upper(v, g.data(), 9, 2);
  EXPECT_TRUE(std::isnan(g[17 % 9 * 9 + 17 % 9]));
}

}  // namespace
}  // namespace trinity
