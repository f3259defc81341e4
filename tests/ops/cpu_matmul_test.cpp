// PackedMatmul (oneDNN) against the f64 reference matmul. The operands given to both are
// identical (bf16 inputs are rounded before the reference sees them), so the only difference is
// f32 accumulation: any summation order of K products is within gamma_K = K*u/(1-K*u) of the
// exact sum, times sum|x_i w_i| (u = 2^-24). Tolerance: 2*K*u*sum|x_i w_i| per element.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "ops/cpu/matmul.h"
#include "ops/ref/ref_ops.h"

namespace trinity {
namespace {

constexpr double kU32 = 1.0 / (1 << 24);

std::vector<float> randn(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

struct Shape {
  int64_t m, k, n;
};

class CpuMatmul : public ::testing::TestWithParam<std::tuple<Shape, DType>> {};

TEST_P(CpuMatmul, MatchesReference) {
  const auto [s, dtype] = GetParam();
  // The weight comes in two stacked parts (as q/k/v are packed into one GEMM).
  const int64_t n1 = s.n / 2 + 1, n2 = s.n - n1;
  auto wf = randn(s.n * s.k, 7), x = randn(s.m * s.k, 8);
  std::vector<uint16_t> w16(wf.size()), x16(x.size());
  for (size_t i = 0; i < wf.size(); ++i) {
    w16[i] = dtype == DType::kBF16 ? f32_to_bf16(wf[i]) : f32_to_f16(wf[i]);
    wf[i] = dtype == DType::kBF16  ? bf16_to_f32(w16[i])
            : dtype == DType::kF16 ? f16_to_f32(w16[i])
                                   : wf[i];
  }
  const void* wdata = dtype == DType::kF32 ? static_cast<const void*>(wf.data()) : w16.data();
  const size_t es = dtype_size(dtype);
  std::vector<cpu::MatrixRef> parts = {{dtype, wdata, n1, s.k}};
  if (n2 > 0) parts.push_back({dtype, static_cast<const uint8_t*>(wdata) + n1 * s.k * es, n2, s.k});
  auto pm = cpu::PackedMatmul::create(parts);
  ASSERT_TRUE(pm.ok()) << pm.status().message();
  ASSERT_EQ((*pm)->n(), s.n);
  const bool bf16 = dtype == DType::kBF16;
  EXPECT_EQ((*pm)->act_dtype(), bf16 ? DType::kBF16 : DType::kF32);
  if (bf16)
    for (size_t i = 0; i < x.size(); ++i) x16[i] = f32_to_bf16(x[i]), x[i] = bf16_to_f32(x16[i]);
  std::vector<float> want(s.m * s.n);
  ref::matmul(x.data(), s.m, s.k, wf.data(), DType::kF32, s.n, want.data());
  const int64_t ldd = s.n + 3;  // a strided destination
  std::vector<float> got(s.m * ldd, -7.0f);
  const void* src = bf16 ? static_cast<const void*>(x16.data()) : x.data();
  ASSERT_TRUE((*pm)->run(src, s.m, got.data(), ldd, 2).ok());
  for (int64_t r = 0; r < s.m; ++r) {
    for (int64_t c = 0; c < s.n; ++c) {
      double mag = 0.0;
      for (int64_t i = 0; i < s.k; ++i) mag += std::fabs(x[r * s.k + i] * wf[c * s.k + i]);
      ASSERT_NEAR(got[r * ldd + c], want[r * s.n + c], 2 * s.k * kU32 * mag + 1e-30)
          << r << "," << c;
    }
    for (int64_t c = s.n; c < ldd; ++c) ASSERT_EQ(got[r * ldd + c], -7.0f);  // padding untouched
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, CpuMatmul,
    ::testing::Combine(::testing::Values(Shape{1, 7, 5}, Shape{3, 33, 17}, Shape{37, 64, 96},
                                         Shape{130, 1031, 77}, Shape{16, 1024, 600}),
                       ::testing::Values(DType::kBF16, DType::kF32, DType::kF16)));

// Determinism: bit-identical across thread counts, and a row's result does not depend on how many
// rows are multiplied with it (what batching and the prefix cache rely on).
TEST(CpuMatmulDeterminism, RowsBitIdenticalAcrossThreadsAndM) {
  for (DType dtype : {DType::kBF16, DType::kF32}) {
    const int64_t K = 1024, N = 3072, M = 300;
    auto wf = randn(N * K, 9);
    std::vector<uint16_t> w16(wf.size());
    for (size_t i = 0; i < wf.size(); ++i) w16[i] = f32_to_bf16(wf[i]);
    const bool bf16 = dtype == DType::kBF16;
    auto pm = cpu::PackedMatmul::create(
        {{dtype, bf16 ? static_cast<const void*>(w16.data()) : wf.data(), N, K}});
    ASSERT_TRUE(pm.ok());
    auto x = randn(M * K, 10);
    std::vector<uint16_t> x16(x.size());
    for (size_t i = 0; i < x.size(); ++i) x16[i] = f32_to_bf16(x[i]);
    const size_t es = bf16 ? 2 : 4;
    const uint8_t* src = bf16 ? reinterpret_cast<const uint8_t*>(x16.data())
                              : reinterpret_cast<const uint8_t*>(x.data());
    std::vector<float> y1(M * N), y2(M * N);
    ASSERT_TRUE((*pm)->run(src, M, y1.data(), N, 1).ok());
    ASSERT_TRUE((*pm)->run(src, M, y2.data(), N, 2).ok());
    ASSERT_EQ(0, std::memcmp(y1.data(), y2.data(), y1.size() * 4)) << dtype_name(dtype);
    for (int64_t first : {0, 5, 37, 260}) {
      for (int64_t m : {1, 7, 32}) {
        std::vector<float> y(m * N);
        ASSERT_TRUE((*pm)->run(src + first * K * es, m, y.data(), N, 2).ok());
        ASSERT_EQ(0, std::memcmp(y.data(), y1.data() + first * N, y.size() * 4))
            << dtype_name(dtype) << " rows " << first << "+" << m;
      }
    }
  }
}

TEST(CpuMatmul, RejectsMismatchedParts) {
  std::vector<float> a(6), b(8);
  auto pm =
      cpu::PackedMatmul::create({{DType::kF32, a.data(), 2, 3}, {DType::kF32, b.data(), 2, 4}});
  EXPECT_FALSE(pm.ok());
  EXPECT_FALSE(cpu::PackedMatmul::create({}).ok());
}

TEST(CpuMatmul, ProbeNamesAnImplementation) {
  EXPECT_FALSE(cpu::probe_bf16_matmul_impl().empty());
}

}  // namespace
}  // namespace trinity
