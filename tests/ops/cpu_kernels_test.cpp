// Every fast kernel in ops/cpu against its scalar twin in ops/ref, on random inputs and odd
// sizes. Tolerances are worst-case rounding bounds (u = 2^-24 for f32, 2^-8 for bf16), stated
// next to each check.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "ops/cpu/kernels.h"
#include "ops/ref/ref_ops.h"

namespace trinity {
namespace {

constexpr double kU32 = 1.0 / (1 << 24);  // f32 unit roundoff
constexpr double kU16 = 1.0 / (1 << 8);   // bf16 unit roundoff

std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

std::vector<float> round_bf16(std::vector<float> v) {
  for (auto& x : v) x = bf16_to_f32(f32_to_bf16(x));
  return v;
}

std::vector<uint16_t> to_bf16(const std::vector<float>& v) {
  std::vector<uint16_t> h(v.size());
  for (size_t i = 0; i < v.size(); ++i) h[i] = f32_to_bf16(v[i]);
  return h;
}

TEST(CpuKernels, ReportsIsa) {
  const std::string isa = cpu::kernel_isa();
  EXPECT_TRUE(isa == "avx512" || isa == "generic") << isa;
}

TEST(CpuKernels, RmsNormMatchesReference) {
  for (int64_t dim : {1, 7, 16, 33, 1024, 1031}) {
    const int64_t rows = 5;
    auto x = randn(rows * dim, 1 + dim), w = randn(dim, 2 + dim, 0.1f);
    for (auto& v : w) v += 1.0f;
    std::vector<float> want(rows * dim), got(rows * dim);
    std::vector<uint16_t> got16(rows * dim);
    ref::rms_norm(x.data(), rows, dim, w.data(), 1e-6, want.data());
    cpu::rms_norm_rows(x.data(), rows, dim, dim, w.data(), 1e-6f, got.data(), dim, DType::kF32, 2);
    cpu::rms_norm_rows(x.data(), rows, dim, dim, w.data(), 1e-6f, got16.data(), dim, DType::kBF16,
                       2);
    for (int64_t i = 0; i < rows * dim; ++i) {
      // f32: the sum of dim squares in another order (<= dim*u relative), halved by the sqrt,
      // plus a few roundings of the products.
      const double tol = (dim + 8) * kU32 * std::fabs(want[i]) + 1e-30;
      ASSERT_NEAR(got[i], want[i], tol) << "dim " << dim << " i " << i;
      // bf16 output: one more rounding, <= u_bf16 relative.
      ASSERT_NEAR(bf16_to_f32(got16[i]), want[i], tol + kU16 * std::fabs(want[i])) << i;
    }
  }
}

TEST(CpuKernels, HeadNormRopeMatchesReference) {
  for (int64_t hd : {2, 12, 24, 64, 128}) {
    const int64_t heads = 3;
    auto x = randn(heads * hd, 10 + hd), w = randn(hd, 11 + hd, 0.1f);
    for (auto& v : w) v += 1.0f;
    auto ang = randn(hd / 2, 12 + hd, 3.0f);
    std::vector<float> cs(hd / 2), sn(hd / 2);
    for (int64_t i = 0; i < hd / 2; ++i) cs[i] = std::cos(ang[i]), sn[i] = std::sin(ang[i]);
    std::vector<float> want(heads * hd), got(heads * hd);
    ref::rms_norm(x.data(), heads, hd, w.data(), 1e-6, want.data());
    ref::rope(want.data(), heads, hd, cs.data(), sn.data());
    cpu::head_norm_rope(x.data(), heads, hd, w.data(), 1e-6f, cs.data(), sn.data(), got.data(),
                        DType::kF32);
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < hd; ++i) {
        // The norm's bound (as above) on both rotated inputs a, b, plus the rotation's rounding.
        const int64_t j = h * hd + (i < hd / 2 ? i + hd / 2 : i - hd / 2);
        const double mag = std::fabs(want[h * hd + i]) + std::fabs(want[j]) +
                           std::fabs(x[h * hd + i]) + std::fabs(x[j]);
        ASSERT_NEAR(got[h * hd + i], want[h * hd + i], (hd + 16) * kU32 * mag * 2)
            << hd << " " << i;
      }
  }
}

TEST(CpuKernels, SiluMulMatchesReference) {
  for (int64_t inter : {1, 15, 16, 80, 3072 + 5}) {
    const int64_t rows = 3;
    auto gu = randn(rows * 2 * inter, 20 + inter, 3.0f);
    std::vector<float> want(rows * inter), got(rows * inter);
    ref::silu_mul(gu.data(), rows, inter, want.data());
    cpu::silu_mul_rows(gu.data(), rows, inter, got.data(), DType::kF32, 2);
    for (int64_t i = 0; i < rows * inter; ++i) {
      // exp to ~2 ulp (vs libm's ~1), then +1, /, * : <= 16 u relative.
      ASSERT_NEAR(got[i], want[i], 16 * kU32 * std::fabs(want[i]) + 1e-30) << inter << " " << i;
    }
  }
}

struct AttnShape {
  int64_t H, KV, hd, n_q, q_pos0;
};

class CpuAttention : public ::testing::TestWithParam<AttnShape> {};

TEST_P(CpuAttention, MatchesReference) {
  const auto p = GetParam();
  const int64_t n_kv = p.q_pos0 + p.n_q;
  for (DType kvt : {DType::kF32, DType::kBF16}) {
    auto q = randn(p.n_q * p.H * p.hd, 30), k = randn(n_kv * p.KV * p.hd, 31),
         v = randn(n_kv * p.KV * p.hd, 32);
    if (kvt == DType::kBF16) k = round_bf16(k), v = round_bf16(v);
    std::vector<float> want(p.n_q * p.H * p.hd), got(want.size());
    ref::attention(q.data(), k.data(), v.data(), p.n_q, p.q_pos0, p.H, p.KV, p.hd, want.data());
    auto k16 = to_bf16(k), v16 = to_bf16(v);
    cpu::AttentionArgs a;
    a.q = q.data();
    a.ldq = p.H * p.hd;
    a.k = kvt == DType::kBF16 ? static_cast<const void*>(k16.data()) : k.data();
    a.v = kvt == DType::kBF16 ? static_cast<const void*>(v16.data()) : v.data();
    a.ldkv = p.KV * p.hd;
    a.kv_dtype = kvt;
    a.n_q = p.n_q;
    a.q_pos0 = p.q_pos0;
    a.out = got.data();
    a.ldo = p.H * p.hd;
    cpu::attention_causal({a}, p.H, p.KV, p.hd, 2);
    // Each score is an f32 dot of hd terms: |error| <= hd*u*sum|q_i k_i|*scale, and for these
    // N(0,1) inputs sum|q_i k_i| <= |q||k| ~ hd (x4 margin), so <= 4*hd^1.5*u; the online-softmax
    // rescaling, the f32 running sums and the 2-ulp exp add <= (n + 16)*u relative per weight. The
    // output is a convex combination of v rows, so its error is at most twice the relative weight
    // error times max|v|.
    double vmax = 0.0;
    for (float x : v) vmax = std::max(vmax, static_cast<double>(std::fabs(x)));
    const double rel_w = 4 * std::pow(p.hd, 1.5) * kU32 + (n_kv + 16) * kU32;
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_NEAR(got[i], want[i], 2 * rel_w * vmax) << "kv " << dtype_name(kvt) << " i " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, CpuAttention,
                         ::testing::Values(AttnShape{1, 1, 2, 1, 0}, AttnShape{4, 4, 12, 9, 0},
                                           AttnShape{4, 2, 24, 70, 0}, AttnShape{6, 2, 16, 5, 63},
                                           AttnShape{6, 2, 16, 17, 130},
                                           AttnShape{16, 8, 128, 40, 100},
                                           AttnShape{3, 1, 10, 200, 0}));

// The property the prefix cache and batching rely on: a query row's output does not depend on
// which other rows are computed with it, nor on the thread count.
TEST(CpuAttention, RowsAreBitIdenticalAcrossSplitsAndThreads) {
  const int64_t H = 4, KV = 2, hd = 16, n = 150;
  auto q = randn(n * H * hd, 40), k = randn(n * KV * hd, 41), v = randn(n * KV * hd, 42);
  auto run = [&](int64_t first, int threads) {
    std::vector<float> out((n - first) * H * hd);
    cpu::AttentionArgs a;
    a.q = q.data() + first * H * hd;
    a.ldq = H * hd;
    a.k = k.data();
    a.v = v.data();
    a.ldkv = KV * hd;
    a.n_q = n - first;
    a.q_pos0 = first;
    a.out = out.data();
    a.ldo = H * hd;
    cpu::attention_causal({a}, H, KV, hd, threads);
    return out;
  };
  const auto all1 = run(0, 1), all2 = run(0, 2);
  ASSERT_EQ(0, std::memcmp(all1.data(), all2.data(), all1.size() * 4));
  for (int64_t first : {1, 63, 64, 97, 149}) {
    const auto part = run(first, 2);
    ASSERT_EQ(0, std::memcmp(part.data(), all1.data() + first * H * hd, part.size() * 4))
        << "first " << first;
  }
}

}  // namespace
}  // namespace trinity
