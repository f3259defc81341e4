// The default `cpu` profile's GEMM path and its helpers against their scalar twins
// (ops/ref/ref_ops.h), on odd sizes: split_bf16, convert_f32 and add_rows bit for bit (same
// roundings, one element at a time), and PackedMatmul::run_split against the f64 reference
// matmul of the unrounded f32 activations.
//
// run_split tolerance. x = hi + lo + r with hi = bf16(x) (|x - hi| <= 2^-9 |x|) and
// lo = bf16(x - hi) (the difference is exact in f32; |r| <= 2^-9 |x - hi| <= 2^-18 |x|).
// hi*w and lo*w are exact in f32 (8 x 8 significant bits), each GEMM row sums K of them in f32
// in some order (<= gamma_K = K u / (1 - K u) times the sum of magnitudes, u = 2^-24), and the
// two partial sums are added once more (u). So per output element
//   |y - y_exact| <= (2^-18 + (K + 2) u * 1.01) * sum_k |x_k w_k|,
// where y_exact is the product of the unrounded f32 x: what the f64 reference computes.
// Rounding x to bf16 instead (the `cpu-bf16` path) would be off by up to 2^-9 of that sum.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "common/compare.h"
#include "ops/cpu/kernels.h"
#include "ops/cpu/matmul.h"
#include "ops/ref/ref_ops.h"

namespace trinity {
namespace {

constexpr double kU32 = 1.0 / (1 << 24);
const int64_t kOddSizes[] = {1, 2, 3, 7, 15, 16, 17, 31, 33, 63, 65, 100, 257, 1023};

// Values across magnitudes and signs, with the special cases every kernel must carry through.
std::vector<float> spread_values(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> mant(-1.0f, 1.0f);
  std::uniform_int_distribution<int> expo(-40, 40);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = std::ldexp(mant(rng), expo(rng));
  const float specials[] = {0.0f,
                            -0.0f,
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::denorm_min(),
                            -1e-40f,
                            std::numeric_limits<float>::max(),
                            1.00390625f,           // 1 + 2^-8: a bf16 rounding tie
                            1.01171875f,           // 1 + 3 * 2^-8: a tie to the other side
                            3.3961e38f,            // rounds to bf16 infinity
                            -2.0f + 1.0f / 1024};  // below -2 in bf16 after rounding
  for (size_t i = 0; i < std::size(specials) && i < v.size(); ++i)
    v[(i * 7919) % v.size()] = specials[i];
  return v;
}

bool is_bf16_nan(uint16_t h) {
  return (h & 0x7f80u) == 0x7f80u && (h & 0x7fu) != 0;
}

// Bit-identical bf16 outputs, NaN matching any NaN (its payload is the hardware's choice).
void expect_same_bf16(const std::vector<uint16_t>& got, const std::vector<uint16_t>& want,
                      const char* what, int64_t n) {
  for (size_t i = 0; i < want.size(); ++i) {
    if (is_bf16_nan(want[i])) {
      EXPECT_TRUE(is_bf16_nan(got[i])) << what << " n=" << n << " i=" << i;
    } else {
      EXPECT_EQ(got[i], want[i]) << what << " n=" << n << " i=" << i;
    }
  }
}

TEST(CpuSplitBf16, MatchesTheTwinBitForBit) {
  for (int64_t n : kOddSizes) {
    const auto x = spread_values(n, static_cast<uint32_t>(n));
    std::vector<uint16_t> hi(static_cast<size_t>(n)), lo(hi.size()), rhi(hi.size()), rlo(hi.size());
    cpu::split_bf16(x.data(), n, hi.data(), lo.data());
    ref::split_bf16(x.data(), n, rhi.data(), rlo.data());
    expect_same_bf16(hi, rhi, "hi", n);
    expect_same_bf16(lo, rlo, "lo", n);
    // The split's promise: x - hi - lo is within 2^-16 |x| for normal, finite x (well inside
    // the f32 range, so lo is not subnormal in bf16).
    for (size_t i = 0; i < x.size(); ++i) {
      const float a = std::fabs(x[i]);
      if (!(a > 1e-30f && a < 1e30f)) continue;
      const double rest = static_cast<double>(x[i]) - bf16_to_f32(hi[i]) - bf16_to_f32(lo[i]);
      EXPECT_LE(std::fabs(rest), std::ldexp(a, -16)) << "n=" << n << " x=" << x[i];
    }
  }
}

TEST(CpuConvertF32, MatchesTheTwinForBothDtypes) {
  for (int64_t n : kOddSizes) {
    const auto x = spread_values(n, static_cast<uint32_t>(100 + n));
    std::vector<uint16_t> got16(static_cast<size_t>(n)), want16(got16.size());
    cpu::convert_f32(x.data(), n, got16.data(), DType::kBF16);
    ref::convert_f32(x.data(), n, want16.data(), DType::kBF16);
    expect_same_bf16(got16, want16, "bf16", n);
    std::vector<float> got32(static_cast<size_t>(n)), want32(got32.size());
    cpu::convert_f32(x.data(), n, got32.data(), DType::kF32);
    ref::convert_f32(x.data(), n, want32.data(), DType::kF32);
    EXPECT_EQ(std::memcmp(got32.data(), want32.data(), got32.size() * 4), 0) << "n=" << n;
  }
}

TEST(CpuAddRows, MatchesTheTwinAndMayWorkInPlace) {
  for (int64_t n : kOddSizes) {
    const auto a = spread_values(n, static_cast<uint32_t>(200 + n));
    const auto b = spread_values(n, static_cast<uint32_t>(300 + n));
    std::vector<float> got(static_cast<size_t>(n)), want(got.size());
    cpu::add_rows(a.data(), b.data(), n, got.data());
    ref::add(a.data(), b.data(), n, want.data());
    for (size_t i = 0; i < want.size(); ++i) {
      if (std::isnan(want[i])) {
        EXPECT_TRUE(std::isnan(got[i])) << "n=" << n << " i=" << i;
      } else {
        EXPECT_EQ(got[i], want[i]) << "n=" << n << " i=" << i;
      }
    }
    // In place, as the residual add uses it (out == a).
    std::vector<float> inplace = a;
    cpu::add_rows(inplace.data(), b.data(), n, inplace.data());
    EXPECT_EQ(std::memcmp(inplace.data(), got.data(), got.size() * 4), 0) << "n=" << n;
  }
}

struct SplitShape {
  int64_t m, k, n;
};

// Random weights in `dtype` ([n, k]) and f32 activations ([m, k]) spanning 2^-8 .. 2^8.
struct SplitCase {
  std::vector<float> wf, x;
  std::vector<uint16_t> w16;
  SplitCase(const SplitShape& s, DType dtype, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::uniform_int_distribution<int> expo(-8, 8);
    wf.resize(static_cast<size_t>(s.n * s.k));
    x.resize(static_cast<size_t>(s.m * s.k));
    w16.resize(wf.size());
    for (size_t i = 0; i < wf.size(); ++i) {
      w16[i] = f32_to_bf16(nd(rng));
      wf[i] = dtype == DType::kBF16 ? bf16_to_f32(w16[i]) : nd(rng);
    }
    for (auto& v : x) v = std::ldexp(nd(rng), expo(rng));
  }
};

class CpuRunSplit : public ::testing::TestWithParam<std::tuple<SplitShape, DType>> {};

TEST_P(CpuRunSplit, MatchesTheF64ReferenceWithinTheDerivedBound) {
  const auto [s, dtype] = GetParam();
  SplitCase c(s, dtype, static_cast<uint32_t>(s.m * 131 + s.k * 7 + s.n));
  const void* wdata = dtype == DType::kBF16 ? static_cast<const void*>(c.w16.data()) : c.wf.data();
  auto pm = cpu::PackedMatmul::create({{dtype, wdata, s.n, s.k}});
  ASSERT_TRUE(pm.ok()) << pm.status().message();
  std::vector<float> want(static_cast<size_t>(s.m * s.n));
  ref::matmul(c.x.data(), s.m, s.k, c.wf.data(), DType::kF32, s.n, want.data());

  const int64_t ldd = s.n + 5;  // a strided destination: the gap must stay untouched
  const float sentinel = -12345.0f;
  cpu::PackedMatmul::SplitScratch scratch;
  std::vector<float> got(static_cast<size_t>(s.m * ldd), sentinel);
  ASSERT_TRUE((*pm)->run_split(c.x.data(), s.m, got.data(), ldd, 2, scratch).ok());
  const double gamma = dtype == DType::kBF16 ? std::ldexp(1.0, -18) : 0.0;
  double worst = 0.0;  // error / bound, the worst element (NaN-keeping)
  for (int64_t r = 0; r < s.m; ++r) {
    for (int64_t o = 0; o < s.n; ++o) {
      double mag = 0.0;
      for (int64_t i = 0; i < s.k; ++i)
        mag += std::fabs(static_cast<double>(c.x[r * s.k + i]) * c.wf[o * s.k + i]);
      const double bound = (gamma + (s.k + 2) * kU32 * 1.01) * mag + 1e-30;
      const double err = std::fabs(static_cast<double>(got[r * ldd + o]) - want[r * s.n + o]);
      worst = testing::max_keep_nan(worst, err / bound);
    }
    for (int64_t o = s.n; o < ldd; ++o) ASSERT_EQ(got[r * ldd + o], sentinel) << "row " << r;
  }
  EXPECT_LE(worst, 1.0) << "m=" << s.m << " k=" << s.k << " n=" << s.n;

  // Bit-identical across thread counts, and with a scratch that was already larger.
  std::vector<float> one(got.size(), sentinel);
  ASSERT_TRUE((*pm)->run_split(c.x.data(), s.m, one.data(), ldd, 1, scratch).ok());
  EXPECT_EQ(std::memcmp(one.data(), got.data(), got.size() * 4), 0);
}

INSTANTIATE_TEST_SUITE_P(
    OddShapes, CpuRunSplit,
    ::testing::Combine(::testing::Values(SplitShape{1, 1, 1}, SplitShape{1, 7, 3},
                                         SplitShape{3, 33, 17}, SplitShape{5, 64, 65},
                                         SplitShape{17, 130, 47}, SplitShape{64, 257, 129}),
                       ::testing::Values(DType::kBF16, DType::kF32)),
    [](const auto& p) {
      const SplitShape s = std::get<0>(p.param);
      return std::to_string(s.m) + "x" + std::to_string(s.k) + "x" + std::to_string(s.n) + "_" +
             dtype_name(std::get<1>(p.param));
    });

// The split is what buys the f32-level precision: rounding the activations to bf16 (run() on
// bf16 x) is measurably worse on the same operands, so the bound above is not vacuous.
TEST(CpuRunSplit, IsMoreAccurateThanBf16Activations) {
  const SplitShape s{16, 256, 64};
  SplitCase c(s, DType::kBF16, 5);
  auto pm = cpu::PackedMatmul::create({{DType::kBF16, c.w16.data(), s.n, s.k}});
  ASSERT_TRUE(pm.ok());
  std::vector<float> want(static_cast<size_t>(s.m * s.n)), split(want.size()), plain(want.size());
  ref::matmul(c.x.data(), s.m, s.k, c.wf.data(), DType::kF32, s.n, want.data());
  cpu::PackedMatmul::SplitScratch scratch;
  ASSERT_TRUE((*pm)->run_split(c.x.data(), s.m, split.data(), s.n, 2, scratch).ok());
  std::vector<uint16_t> x16(c.x.size());
  for (size_t i = 0; i < x16.size(); ++i) x16[i] = f32_to_bf16(c.x[i]);
  ASSERT_TRUE((*pm)->run(x16.data(), s.m, plain.data(), s.n, 2).ok());
  const double e_split = testing::max_row_rel_l2(split.data(), want.data(), s.m, s.n);
  const double e_plain = testing::max_row_rel_l2(plain.data(), want.data(), s.m, s.n);
  EXPECT_LT(e_split, 1e-5);
  EXPECT_GT(e_plain, 100 * e_split) << e_plain << " vs " << e_split;
}

TEST(TestCompare, NonFiniteValuesFailTheComparison) {
  const std::vector<float> want = {1.0f, 2.0f, 3.0f, 4.0f};
  const std::vector<float> nan(4, std::numeric_limits<float>::quiet_NaN());
  std::vector<float> inf = want;
  inf[2] = std::numeric_limits<float>::infinity();
  EXPECT_EQ(testing::max_row_rel_l2(want.data(), want.data(), 2, 2), 0.0);
  // A NaN-everywhere result must not score 0 (std::max(0, NaN) would give 0).
  EXPECT_FALSE(testing::max_row_rel_l2(nan.data(), want.data(), 2, 2) <= 1e-3);
  EXPECT_FALSE(testing::max_row_rel_l2(want.data(), nan.data(), 2, 2) <= 1e-3);
  EXPECT_FALSE(testing::max_row_rel_l2(inf.data(), want.data(), 2, 2) <= 1e-3);
  // One bad row among good ones, in any position.
  std::vector<float> mixed = want;
  mixed[0] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(std::isnan(testing::max_row_rel_l2(mixed.data(), want.data(), 2, 2)));
  EXPECT_TRUE(std::isnan(testing::max_keep_nan(0.5, std::nan(""))));
  EXPECT_TRUE(std::isnan(testing::max_keep_nan(std::nan(""), 0.5)));
  const std::vector<float> zero(2, 0.0f), tiny = {1e-30f, 0.0f};
  EXPECT_EQ(testing::row_rel_l2(zero.data(), zero.data(), 2), 0.0);
  EXPECT_TRUE(std::isinf(testing::row_rel_l2(tiny.data(), zero.data(), 2)));
}

}  // namespace
}  // namespace trinity
