// Every fast kernel in ops/cpu against its scalar twin in ops/ref, on random inputs and odd
// sizes. Tolerances are worst-case rounding bounds (u = 2^-24 for f32, 2^-8 for bf16), stated
// next to each check.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/compare.h"
#include "ops/cpu/kernels.h"
#include "ops/cpu/kernels_isa.h"
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

TEST(CpuKernels, SiluMulBf16OutputAndExtremeInputs) {
  // Large |g| exercises exp's clamps (silu(-100) ~ -4e-42 * u, silu(100) = 100 * u); the bf16
  // output must be the f32 result rounded once (<= 1 bf16 ulp = 2^-8 relative from the f32
  // value, which is itself within 16 u of the reference).
  for (int64_t inter : {1, 17, 3072 + 5}) {
    const int64_t rows = 4;
    auto gu = randn(rows * 2 * inter, 90 + inter, 40.0f);
    std::vector<float> want(rows * inter), got32(rows * inter);
    std::vector<uint16_t> got16(rows * inter);
    ref::silu_mul(gu.data(), rows, inter, want.data());
    cpu::silu_mul_rows(gu.data(), rows, inter, got32.data(), DType::kF32, 3);
    cpu::silu_mul_rows(gu.data(), rows, inter, got16.data(), DType::kBF16, 1);
    for (int64_t i = 0; i < rows * inter; ++i) {
      ASSERT_TRUE(std::isfinite(got32[i])) << i;
      ASSERT_NEAR(got32[i], want[i], 16 * kU32 * std::fabs(want[i]) + 1e-30) << inter << " " << i;
      ASSERT_EQ(got16[i], f32_to_bf16(got32[i])) << inter << " " << i;
    }
  }
}

struct AttnShape {
  int64_t H, KV, hd, n_q, q_pos0;
};

// The attention task kernels this CPU can run: the production AVX-512 one, the plain-loop
// kernel's AVX-512 build (the previous production kernel) and its baseline-ISA build (the
// fallback on CPUs without AVX-512, otherwise never run by these tests).
struct AttnKernel {
  const char* name;
  cpu::AttentionTaskFn fn;
};
std::vector<AttnKernel> attention_kernels() {
  std::vector<AttnKernel> ks;
  if (std::string(cpu::kernel_isa()) == "avx512") {
    ks.push_back({"avx512", cpu::avx512::attention_task});
    ks.push_back({"avx512_loops", cpu::avx512::attention_task_loops});
  }
  ks.push_back({"generic_loops", cpu::generic::attention_task_loops});
  return ks;
}

// The AVX512_BF16 kernel (bf16 K/V only), where this CPU has it: it rounds q and p to bf16, so it
// is held to its own derived bounds (Bf16DotKernelMatchesReference), not MatchesReference's.
std::vector<AttnKernel> bf16_attention_kernels() {
  if (!cpu::cpu_has_avx512_bf16()) return {};
  return {{"avx512_bf16", cpu::avx512::attention_task_bf16}};
}

// One segment of n_q query rows at positions q_pos0.. over K/V buffers that hold positions
// 0 .. q_pos0 + n_q - 1 (f32 or bf16 per kv_dtype); out of out_dtype.
cpu::AttentionArgs attn_args(const float* q, const void* k, const void* v, DType kv_dtype,
                             int64_t n_q, int64_t q_pos0, int64_t H, int64_t KV, int64_t hd,
                             void* out, DType out_dtype) {
  cpu::AttentionArgs a;
  a.q = q;
  a.ldq = H * hd;
  a.k = k;
  a.v = v;
  a.ldkv = KV * hd;
  a.kv_dtype = kv_dtype;
  a.n_q = n_q;
  a.q_pos0 = q_pos0;
  a.out = out;
  a.ldo = H * hd;
  a.out_dtype = out_dtype;
  return a;
}

class CpuAttention : public ::testing::TestWithParam<AttnShape> {};

TEST_P(CpuAttention, MatchesReference) {
  const auto p = GetParam();
  const int64_t n_kv = p.q_pos0 + p.n_q, group = p.H / p.KV, blocks = (n_kv + 63) / 64;
  const double scale = 1.0 / std::sqrt(static_cast<double>(p.hd));
  for (DType kvt : {DType::kF32, DType::kBF16}) {
    auto q = randn(p.n_q * p.H * p.hd, 30), k = randn(n_kv * p.KV * p.hd, 31),
         v = randn(n_kv * p.KV * p.hd, 32);
    if (kvt == DType::kBF16) k = round_bf16(k), v = round_bf16(v);
    const auto k16 = to_bf16(k), v16 = to_bf16(v);
    const void* kp = kvt == DType::kBF16 ? static_cast<const void*>(k16.data()) : k.data();
    const void* vp = kvt == DType::kBF16 ? static_cast<const void*>(v16.data()) : v.data();
    std::vector<float> want(p.n_q * p.H * p.hd);
    ref::attention(q.data(), k.data(), v.data(), p.n_q, p.q_pos0, p.H, p.KV, p.hd, want.data());
    // A worst-case error bound per (row, head), u = 2^-24, n = visible keys:
    //  - each score q.k * scale is an f32 chain of hd FMAs on the pre-scaled q (one more
    //    rounding): |ds| <= es = (hd + 2) u scale max_s sum_i |q_i k_si|;
    //  - each weight exp(s - max) then carries a relative error of at most
    //    rho = es + u |s - max| (the subtraction) + 4u (the ~2-ulp exp) + 6u per key block (the
    //    online-softmax rescale: an exp and a product per block in the output and in the sum);
    //  - the f32 sums of n weighted values and of n weights add <= (n + 2) u relative each.
    // The output is sum w v / sum w, so |got - want| <= 2 (rho + (n + 2) u) max_s |v_s| (plus
    // the final roundings). For N(0,1) data and hd = 128 this is ~1e-4 max|v|, while the
    // observed errors are ~1e-6: the bound is loose but never flaky, and a dropped or doubled
    // key (a weight error ~1/n) still fails it by orders of magnitude.
    std::vector<double> tol_row(p.n_q * p.H);
    for (int64_t t = 0; t < p.n_q; ++t)
      for (int64_t h = 0; h < p.H; ++h) {
        const int64_t g = h / group, n = p.q_pos0 + t + 1;
        const float* qt = q.data() + (t * p.H + h) * p.hd;
        double es = 0.0, smax = -1e300, smin = 1e300, vmax = 0.0;
        for (int64_t s = 0; s < n; ++s) {
          const float* ks = k.data() + (s * p.KV + g) * p.hd;
          const float* vs = v.data() + (s * p.KV + g) * p.hd;
          double dot = 0.0, mag = 0.0;
          for (int64_t i = 0; i < p.hd; ++i) {
            dot += static_cast<double>(qt[i]) * ks[i];
            mag += std::fabs(static_cast<double>(qt[i]) * ks[i]);
            vmax = std::max(vmax, static_cast<double>(std::fabs(vs[i])));
          }
          es = std::max(es, (p.hd + 2) * kU32 * scale * mag);
          smax = std::max(smax, dot * scale), smin = std::min(smin, dot * scale);
        }
        const double rho = es + kU32 * (smax - smin) + 4 * kU32 + 6 * kU32 * blocks;
        tol_row[t * p.H + h] = 2 * (rho + (n + 2) * kU32) * vmax + 1e-30;
      }
    for (DType ot : {DType::kF32, DType::kBF16})
      for (const auto& kern : attention_kernels()) {
        std::vector<float> got(want.size());
        std::vector<uint16_t> got16(want.size());
        void* out = ot == DType::kBF16 ? static_cast<void*>(got16.data()) : got.data();
        const auto a = attn_args(q.data(), kp, vp, kvt, p.n_q, p.q_pos0, p.H, p.KV, p.hd, out, ot);
        cpu::attention_causal_with({a}, p.H, p.KV, p.hd, 2,
                                   cpu::attention_query_block({a}, p.H, p.KV, p.hd, 2), kern.fn);
        for (size_t i = 0; i < want.size(); ++i) {
          const double g = ot == DType::kBF16 ? bf16_to_f32(got16[i]) : got[i];
          // Output rounding: u (f32) or u_bf16 (bf16) relative.
          const double tol = tol_row[i / p.hd] + (ot == DType::kBF16 ? kU16 : kU32) * std::fabs(g);
          ASSERT_NEAR(g, want[i], tol)
              << kern.name << " kv " << dtype_name(kvt) << " out " << dtype_name(ot) << " i " << i;
        }
      }
  }
}

// The bf16-dot kernel (attention_bf16_avx512.cpp) computes, for query row x head (n visible keys,
// blocks of 64 at absolute multiples of 64):
//   q~ = bf16(f32(q * f32(1/sqrt(hd))))                 (nearest even; the only q rounding)
//   s_j = q~ . k_j, m_b = max of s over the visible keys of blocks 0..b (running max)
//   p~_j = bf16(exp(s_j - m_b(j)))                      (the only p rounding)
//   out = sum_j p~_j c_j v_j / sum_j p~_j c_j, c_j = exp(m_b(j) - m_last)
// with every operation on bf16 operands exact (products of two bf16 fit an f32) and the sums in
// f32. The test evaluates this in f64, so the roundings to bf16 are reproduced exactly, and
// bounds what is left (u = 2^-24):
//  - the f32 score chain (hd/2 vdpbf16ps, at most 2 roundings each): |ds_j| <= es_j =
//    (hd + 2) u sum_i |q~_i k_ji|, and the max the kernel subtracts is off by <= esmax = max es_j;
//  - so the kernel's f32 p_j is within rho_j = 2 esmax + u |s_j - m_b| + 8u (subtraction, the
//    ~2-ulp exp, the comparison's own rounding) of exp(s_j - m_b) relative, and it rounds to the
//    same bf16 unless that interval holds a rounding boundary: such keys are flagged and may be
//    one bf16 ulp (<= 2^-7 relative) off, which moves the normalized output by at most
//    2^-7 / (1 - 2^-7) w_j (|v_j| + |out|);
//  - every other weight is the emulated one up to the running max's error (2 esmax) and the
//    per-block rescale (6u per block), and the f32 sums of <= n products and of n weights add
//    (n + 2) u each: 2 (2 esmax + 6u blocks + (n + 2) u + 2u) max|v|, as in MatchesReference.
// Flags are rare (~2 rho / 2^-7 of the keys) and the rest of the bound is the f32 kernel's, so a
// dropped, doubled or future key (a weight error ~1/n) still fails it.
// The contract versus ref::attention (f64, unrounded q and p) is checked too, as a worst case:
// rounding q moves each score by <= 2^-8 scale sum |q_i k_ji| (on top of the f32 error) and
// rounding p moves each weight by <= 2^-8 relative, so |got - ref| <= 2 (2^-8 scale max_j
// sum_i |q_i k_ji| + 2^-8 + rho_f32 + (n + 2) u) max|v|. That bound is loose (~0.06 max|v| for
// N(0,1) data and hd = 128), the emulated one is the sharp test.
TEST_P(CpuAttention, Bf16DotKernelMatchesReference) {
  const auto kernels = bf16_attention_kernels();
  if (kernels.empty()) GTEST_SKIP() << "no AVX512_BF16";
  const auto p = GetParam();
  const int64_t n_kv = p.q_pos0 + p.n_q, group = p.H / p.KV, blocks = (n_kv + 63) / 64;
  const double scale = 1.0 / std::sqrt(static_cast<double>(p.hd));
  const float fscale = static_cast<float>(scale);  // the kernel's f32 scale
  constexpr double kUlp16 = 2 * kU16;              // a bf16 ulp relative to the value, at most
  auto q = randn(p.n_q * p.H * p.hd, 30), k = round_bf16(randn(n_kv * p.KV * p.hd, 31)),
       v = round_bf16(randn(n_kv * p.KV * p.hd, 32));
  const auto k16 = to_bf16(k), v16 = to_bf16(v);
  std::vector<float> want(p.n_q * p.H * p.hd);
  ref::attention(q.data(), k.data(), v.data(), p.n_q, p.q_pos0, p.H, p.KV, p.hd, want.data());
  std::vector<double> emul(want.size()), tol(want.size()), tol_ref(want.size());
  std::vector<double> qt(p.hd), s(n_kv), w(n_kv), m_blk(blocks);
  std::vector<char> flag(n_kv);
  int64_t flagged = 0, total = 0;
  for (int64_t t = 0; t < p.n_q; ++t)
    for (int64_t h = 0; h < p.H; ++h) {
      const int64_t g = h / group, n = p.q_pos0 + t + 1, nb = (n + 63) / 64;
      const float* qrow = q.data() + (t * p.H + h) * p.hd;
      for (int64_t i = 0; i < p.hd; ++i) qt[i] = bf16_to_f32(f32_to_bf16(qrow[i] * fscale));
      double esmax = 0.0, eq = 0.0, vmax = 0.0;
      for (int64_t j = 0; j < n; ++j) {
        const float* kj = k.data() + (j * p.KV + g) * p.hd;
        double dot = 0.0, mag = 0.0, mag_q = 0.0;
        for (int64_t i = 0; i < p.hd; ++i) {
          dot += qt[i] * kj[i];
          mag += std::fabs(qt[i] * kj[i]);
          mag_q += std::fabs(static_cast<double>(qrow[i]) * kj[i]);
          vmax = std::max(vmax, static_cast<double>(std::fabs(v[(j * p.KV + g) * p.hd + i])));
        }
        s[j] = dot;
        esmax = std::max(esmax, (p.hd + 2) * kU32 * mag);
        eq = std::max(eq, kU16 * scale * mag_q);
        m_blk[j / 64] = std::max(j % 64 == 0 ? -INFINITY : m_blk[j / 64], dot);
      }
      for (int64_t b = 1; b < nb; ++b) m_blk[b] = std::max(m_blk[b], m_blk[b - 1]);
      double den = 0.0;
      for (int64_t j = 0; j < n; ++j) {
        const double mb = m_blk[j / 64], pj = std::exp(s[j] - mb);
        const double rho = 2 * esmax + kU32 * (mb - s[j]) + 8 * kU32;
        const auto lo = f32_to_bf16(static_cast<float>(pj * (1 - rho)));
        flag[j] = lo != f32_to_bf16(static_cast<float>(pj * (1 + rho)));
        flagged += flag[j], ++total;
        w[j] = bf16_to_f32(f32_to_bf16(static_cast<float>(pj))) * std::exp(mb - m_blk[nb - 1]);
        den += w[j];
      }
      const double rho_f32 = 2 * esmax + 6 * kU32 * blocks + 2 * kU32;
      const double base = 2 * (rho_f32 + (n + 2) * kU32) * vmax + 1e-30;
      const double base_ref = 2 * (eq + kU16 + rho_f32 + (n + 2) * kU32) * vmax + 1e-30;
      for (int64_t d = 0; d < p.hd; ++d) {
        double acc = 0.0;
        for (int64_t j = 0; j < n; ++j) acc += w[j] * v[(j * p.KV + g) * p.hd + d];
        const double out = acc / den;
        double fl = 0.0;
        for (int64_t j = 0; j < n; ++j)
          if (flag[j])
            fl += w[j] / den * (std::fabs(v[(j * p.KV + g) * p.hd + d]) + std::fabs(out));
        const size_t i = static_cast<size_t>((t * p.H + h) * p.hd + d);
        emul[i] = out;
        tol[i] = base + kUlp16 / (1 - kUlp16) * fl;
        tol_ref[i] = base_ref;
      }
    }
  for (DType ot : {DType::kF32, DType::kBF16})
    for (const auto& kern : kernels) {
      std::vector<float> got(want.size());
      std::vector<uint16_t> got16(want.size());
      void* out = ot == DType::kBF16 ? static_cast<void*>(got16.data()) : got.data();
      const auto a = attn_args(q.data(), k16.data(), v16.data(), DType::kBF16, p.n_q, p.q_pos0, p.H,
                               p.KV, p.hd, out, ot);
      cpu::attention_causal_with({a}, p.H, p.KV, p.hd, 2,
                                 cpu::attention_query_block({a}, p.H, p.KV, p.hd, 2), kern.fn);
      double worst = 0.0;  // largest error / tolerance against the emulation
      for (size_t i = 0; i < want.size(); ++i) {
        const double g = ot == DType::kBF16 ? bf16_to_f32(got16[i]) : got[i];
        const double out_round = (ot == DType::kBF16 ? kU16 : kU32) * std::fabs(g);
        ASSERT_NEAR(g, emul[i], tol[i] + out_round)
            << kern.name << " out " << dtype_name(ot) << " i " << i << " (emulated bf16 rounding)";
        ASSERT_NEAR(g, want[i], tol_ref[i] + out_round + kU32 * std::fabs(want[i]))
            << kern.name << " out " << dtype_name(ot) << " i " << i << " (reference)";
        worst = testing::max_keep_nan(worst, std::fabs(g - emul[i]) / (tol[i] + out_round));
      }
      RecordProperty(std::string("worst_error_over_tol_") + dtype_name(ot), std::to_string(worst));
    }
  RecordProperty("flagged_keys", std::to_string(flagged) + "/" + std::to_string(total));
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, CpuAttention,
    ::testing::Values(AttnShape{1, 1, 2, 1, 0}, AttnShape{4, 4, 12, 9, 0},
                      AttnShape{4, 2, 24, 70, 0}, AttnShape{6, 2, 16, 5, 63},
                      AttnShape{6, 2, 16, 17, 130}, AttnShape{16, 8, 128, 40, 100},
                      AttnShape{3, 1, 10, 200, 0},
                      // hd 2 / 6 / 34 (not multiples of 16), groups 1 / 2 / 3, odd lengths,
                      // cached prefixes that do and do not end on a key block.
                      AttnShape{2, 2, 2, 150, 0}, AttnShape{3, 1, 6, 33, 1},
                      AttnShape{6, 2, 34, 129, 64}, AttnShape{9, 3, 34, 65, 130},
                      AttnShape{6, 3, 128, 97, 31}, AttnShape{4, 2, 34, 1, 200},
                      AttnShape{16, 8, 128, 150, 0}, AttnShape{16, 8, 128, 64, 1024},
                      // Several P.V column chunks, with a partial last one; the largest hd.
                      AttnShape{4, 2, 130, 20, 50}, AttnShape{2, 1, 1024, 3, 70},
                      // Odd hd (the bf16 kernel pads its last dim pair with a zero).
                      AttnShape{4, 2, 33, 70, 60}, AttnShape{3, 3, 1, 9, 0}));

// A row's output is bit-identical whether it is computed alone, inside a bigger batch, in a
// slice that starts elsewhere (another t0 and cached prefix), next to other segments, with any
// query block or thread count: its arithmetic depends only on its q, its position and K/V.
TEST(CpuAttention, RowIsBitIdenticalAloneAndInAnyBatch) {
  struct Config {
    int64_t H, KV, hd;
    DType kv, out;
  };
  const int64_t n = 150, pos0 = 37;  // 150 query rows after a 37-position cached prefix
  for (const Config& c :
       {Config{16, 8, 128, DType::kF32, DType::kF32},
        Config{16, 8, 128, DType::kBF16, DType::kBF16}, Config{9, 3, 34, DType::kBF16, DType::kF32},
        Config{2, 2, 6, DType::kF32, DType::kBF16}, Config{6, 2, 33, DType::kBF16, DType::kF32}}) {
    const int64_t n_kv = pos0 + n, row = c.H * c.hd;
    const size_t osz = dtype_size(c.out);
    auto q = randn(n * row, 50), kf = randn(n_kv * c.KV * c.hd, 51),
         vf = randn(n_kv * c.KV * c.hd, 52);
    const auto k16 = to_bf16(kf), v16 = to_bf16(vf);
    const void* k = c.kv == DType::kBF16 ? static_cast<const void*>(k16.data()) : kf.data();
    const void* v = c.kv == DType::kBF16 ? static_cast<const void*>(v16.data()) : vf.data();
    auto kernels = attention_kernels();
    if (c.kv == DType::kBF16)
      for (const auto& kern : bf16_attention_kernels()) kernels.push_back(kern);
    for (const auto& kern : kernels) {
      // Rows [a, b) as one segment (positions pos0 + a ..), returned as bytes.
      auto slice = [&](int64_t a, int64_t b) {
        return attn_args(q.data() + a * row, k, v, c.kv, b - a, pos0 + a, c.H, c.KV, c.hd, nullptr,
                         c.out);
      };
      auto run = [&](std::vector<cpu::AttentionArgs> segs, int threads, int64_t qb) {
        std::vector<std::vector<uint8_t>> outs;
        for (auto& s : segs) {
          outs.emplace_back(static_cast<size_t>(s.n_q * row) * osz);
          s.out = outs.back().data();
        }
        if (qb == 0) qb = cpu::attention_query_block(segs, c.H, c.KV, c.hd, threads);
        cpu::attention_causal_with(segs, c.H, c.KV, c.hd, threads, qb, kern.fn);
        return outs;
      };
      const auto all = run({slice(0, n)}, 2, 0)[0];
      auto expect_rows = [&](const std::vector<uint8_t>& got, int64_t a, const char* what) {
        ASSERT_EQ(0, std::memcmp(got.data(), all.data() + a * row * osz, got.size()))
            << kern.name << " hd " << c.hd << " kv " << dtype_name(c.kv) << " out "
            << dtype_name(c.out) << ": " << what << " from row " << a;
      };
      for (int64_t t : {0, 1, 15, 16, 26, 27, 63, 90, 91, 149})  // 27, 91: position % 64 == 0
        expect_rows(run({slice(t, t + 1)}, 1, 0)[0], t, "alone");
      for (auto [a, b] : {std::pair<int64_t, int64_t>{5, 77}, {64, 129}, {100, 150}, {0, 3}})
        expect_rows(run({slice(a, b)}, 2, 0)[0], a, "slice");
      for (int threads : {1, 3})
        for (int64_t qb : {16, 32, 128})
          expect_rows(run({slice(0, n)}, threads, qb)[0], 0, "split");
      // Several segments in one call (the batched path).
      const auto multi = run({slice(10, 11), slice(0, n), slice(40, 107)}, 2, 0);
      expect_rows(multi[0], 10, "segment 0");
      expect_rows(multi[1], 0, "segment 1");
      expect_rows(multi[2], 40, "segment 2");
    }
  }
}

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

// attention_causal picks the kernel per task by its K/V dtype: bf16 K/V runs the AVX512_BF16
// kernel where the CPU has it, f32 K/V the f32 kernel bit for bit (attention_task_bf16 hands f32
// tasks to it), also inside one call that mixes both.
TEST(CpuAttention, DispatchByKvDtype) {
  if (std::string(cpu::kernel_isa()) != "avx512") GTEST_SKIP() << "no AVX-512";
  const int64_t H = 16, KV = 8, hd = 128, n = 70, pos0 = 50, row = H * hd;
  auto q = randn(n * row, 60), kf = randn((pos0 + n) * KV * hd, 61),
       vf = randn((pos0 + n) * KV * hd, 62);
  const auto k16 = to_bf16(kf), v16 = to_bf16(vf);
  const cpu::AttentionTaskFn bf16_fn =
      cpu::cpu_has_avx512_bf16() ? cpu::avx512::attention_task_bf16 : cpu::avx512::attention_task;
  std::vector<float> got32(n * row), got16(n * row), want32(n * row), want16(n * row);
  const auto a32 = attn_args(q.data(), kf.data(), vf.data(), DType::kF32, n, pos0, H, KV, hd,
                             got32.data(), DType::kF32);
  const auto a16 = attn_args(q.data(), k16.data(), v16.data(), DType::kBF16, n, pos0, H, KV, hd,
                             got16.data(), DType::kF32);
  cpu::attention_causal({a32, a16}, H, KV, hd, 2);
  auto w32 = a32, w16 = a16;
  w32.out = want32.data(), w16.out = want16.data();
  cpu::attention_causal_with({w32}, H, KV, hd, 1, 32, cpu::avx512::attention_task);
  cpu::attention_causal_with({w16}, H, KV, hd, 1, 32, bf16_fn);
  EXPECT_EQ(0, std::memcmp(got32.data(), want32.data(), got32.size() * 4));
  EXPECT_EQ(0, std::memcmp(got16.data(), want16.data(), got16.size() * 4));
  if (cpu::cpu_has_avx512_bf16()) {  // f32 K/V through the bf16 entry point: the f32 kernel
    std::vector<float> via(n * row);
    w32.out = via.data();
    cpu::attention_causal_with({w32}, H, KV, hd, 2, 128, cpu::avx512::attention_task_bf16);
    EXPECT_EQ(0, std::memcmp(via.data(), want32.data(), via.size() * 4));
  }
}

}  // namespace
}  // namespace trinity
