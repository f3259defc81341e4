// The SVF overlay (model/svf_overlay.h): the factored forward against the materialized
// adaptation (svf.h), the cpu engine against the reference twin, and switching.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "adapt/svf.h"
#include "adapt/svf_overlay_build.h"
#include "common/compare.h"
#include "core/random.h"
#include "model/cpu_test_util.h"
#include "model/forward.h"

namespace trinity {
namespace {

using testing::max_row_rel_l2;
using testing_cpu::make_model;
using testing_cpu::make_test_engine;
using testing_cpu::ModelShape;
using testing_cpu::random_ids;

std::vector<float> random_offsets(int64_t n, uint64_t seed, double sigma) {
  std::vector<float> z(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    z[static_cast<size_t>(i)] = static_cast<float>(sigma * counter_normal(seed, 7, i));
  return z;
}

// Hidden rows of every position through the reference, with an optional overlay.
std::vector<float> reference_hidden(const Qwen3Weights& w, const std::vector<int32_t>& ids,
                                    const SvfApplied* svf) {
  std::vector<float> out(ids.size() * static_cast<size_t>(w.config.hidden_size));
  Status st = forward_reference(w, ids, out.data(), nullptr, svf);
  EXPECT_TRUE(st.ok()) << st.message();
  return out;
}

// Odd shapes: wide q (q_dim > hidden), narrow k/v, an intermediate that is not a multiple of 16.
const ModelShape kShape{48, 88, 3, 4, 2, 16, DType::kF32, true};

TEST(SvfOverlay, FactorsReproduceTheMatrix) {
  auto w = make_model(kShape, 11);
  ASSERT_TRUE(w);
  const Qwen3Layer& L = w->layers[1];
  for (const Weight* m : {&L.q_proj, &L.k_proj, &L.o_proj, &L.down_proj}) {
    auto f = build_svf_factor(*m, true);
    ASSERT_TRUE(f.ok()) << f.status().message();
    // Q P^T = W (unit scales), f32 factors: relative 1e-5.
    double num = 0, den = 0;
    for (int64_t i = 0; i < m->rows(); ++i)
      for (int64_t c = 0; c < m->cols(); ++c) {
        double acc = 0;
        for (int64_t j = 0; j < f->k; ++j) acc += double(f->q[i * f->k + j]) * f->p[c * f->k + j];
        const double want = m->at(i * m->cols() + c);
        num += (acc - want) * (acc - want), den += want * want;
      }
    EXPECT_LE(std::sqrt(num / den), 1e-5) << m->rows() << "x" << m->cols();
  }
}

TEST(SvfOverlay, ReferenceMatchesTheMaterializedAdaptation) {
  auto w = make_model(kShape, 12);
  ASSERT_TRUE(w);
  auto overlay = build_svf_overlay(*w);
  ASSERT_TRUE(overlay.ok()) << overlay.status().message();
  const auto targets = svf_targets(w->config);
  const std::vector<float> z = random_offsets(svf_offset_count(targets), 3, 0.3);
  auto scales = svf_scales(**overlay, z);
  ASSERT_TRUE(scales.ok()) << scales.status().message();
  const SvfApplied applied{overlay->get(), &*scales};
  const auto ids = random_ids(37, w->config.vocab_size, 5);
  const auto got = reference_hidden(*w, ids, &applied);

  // The same offsets materialized by the export's SVF (f32 model: no dtype rounding).
  auto adapted = std::make_shared<Qwen3Weights>(*w);
  RouterVector rv;
  rv.offsets = z;
  rv.hidden = w->config.hidden_size;
  rv.head.assign(static_cast<size_t>(kRouterHeadRows * rv.hidden), 0.0f);
  ASSERT_TRUE(adapt_weights_in_memory(*adapted, rv, targets).ok());
  const auto want = reference_hidden(*adapted, ids, nullptr);
  // f32 factors and f32 reconstruction each ~1e-6 relative; the forward amplifies little.
  EXPECT_LE(max_row_rel_l2(got.data(), want.data(), 37, kShape.hidden), 2e-5);
  // And the offsets did change the hidden states (the test can fail).
  const auto base = reference_hidden(*w, ids, nullptr);
  EXPECT_GE(max_row_rel_l2(got.data(), base.data(), 37, kShape.hidden), 1e-2);
}

void expect_engine_matches_reference(const std::string& profile, DType dtype, double tol) {
  ModelShape shape = kShape;
  shape.dtype = dtype;
  auto w = make_model(shape, 13);
  ASSERT_TRUE(w);
  auto overlay = build_svf_overlay(*w);
  ASSERT_TRUE(overlay.ok()) << overlay.status().message();
  auto engine = make_test_engine(w, profile);
  ASSERT_TRUE(engine);
  ASSERT_TRUE(engine->set_svf_overlay(*overlay).ok());
  const int64_t n_off = (*overlay)->offset_count() + w->config.hidden_size;  // + the LM head's
  const std::vector<std::vector<int32_t>> seqs = {random_ids(29, w->config.vocab_size, 1),
                                                  random_ids(5, w->config.vocab_size, 2),
                                                  random_ids(64, w->config.vocab_size, 3)};
  for (uint64_t cand = 0; cand < 3; ++cand) {
    const std::vector<float> z = random_offsets(n_off, 100 + cand, 0.2);
    ASSERT_TRUE(engine->set_svf_offsets(z).ok());
    auto scales = svf_scales(**overlay, z);
    ASSERT_TRUE(scales.ok());
    const SvfApplied applied{overlay->get(), &*scales};
    std::vector<std::span<const int32_t>> spans;
    std::vector<int64_t> rows;
    for (const auto& s : seqs) spans.emplace_back(s), rows.push_back(int64_t(s.size()) - 2);
    std::vector<float> got(seqs.size() * static_cast<size_t>(shape.hidden));
    ASSERT_TRUE(engine->forward_rows(spans, rows, got.data()).ok());
    for (size_t s = 0; s < seqs.size(); ++s) {
      const auto want = reference_hidden(*w, seqs[s], &applied);
      EXPECT_LE(max_row_rel_l2(got.data() + s * shape.hidden, want.data() + rows[s] * shape.hidden,
                               1, shape.hidden),
                tol)
          << profile << " candidate " << cand << " sequence " << s;
    }
  }
}

// cpu: f32 factors with f32-level GEMMs, ~1e-5 like the profile itself.
TEST(SvfOverlay, CpuEngineMatchesReferenceF32) {
  expect_engine_matches_reference("cpu", DType::kF32, 1e-4);
}
TEST(SvfOverlay, CpuEngineMatchesReferenceBf16Split) {
  expect_engine_matches_reference("cpu", DType::kBF16, 1e-4);
}
// cpu-bf16: bf16 factors and activations, ~4e-3 per GEMM like the profile.
TEST(SvfOverlay, CpuBf16EngineMatchesReference) {
  expect_engine_matches_reference("cpu-bf16", DType::kBF16, 3e-2);
}

TEST(SvfOverlay, SwitchingBackGivesTheSameBits) {
  auto w = make_model(kShape, 14);
  ASSERT_TRUE(w);
  auto overlay = build_svf_overlay(*w);
  ASSERT_TRUE(overlay.ok());
  auto engine = make_test_engine(w, "cpu");
  ASSERT_TRUE(engine->set_svf_overlay(*overlay).ok());
  const int64_t n_off = (*overlay)->offset_count();
  const auto ids = random_ids(40, w->config.vocab_size, 9);
  auto hidden = [&](const std::vector<float>& z) {
    EXPECT_TRUE(engine->set_svf_offsets(z).ok());
    std::vector<float> out(static_cast<size_t>(kShape.hidden));
    EXPECT_TRUE(engine->forward_rows({ids}, {38}, out.data()).ok());
    return out;
  };
  const auto a = random_offsets(n_off, 1, 0.2), b = random_offsets(n_off, 2, 0.2);
  const auto ha = hidden(a), hb = hidden(b), ha2 = hidden(a);
  EXPECT_EQ(ha, ha2);  // the prefix cache was dropped at each switch
  EXPECT_NE(ha, hb);
}

TEST(SvfOverlay, ScalesRejectBadOffsets) {
  auto w = make_model(kShape, 15);
  ASSERT_TRUE(w);
  auto overlay = build_svf_overlay(*w);
  ASSERT_TRUE(overlay.ok());
  const int64_t n = (*overlay)->offset_count();
  EXPECT_FALSE(svf_scales(**overlay, std::vector<float>(static_cast<size_t>(n - 1), 0.f)).ok());
  std::vector<float> z(static_cast<size_t>(n), 0.f);
  z[5] = std::numeric_limits<float>::quiet_NaN();
  auto bad = svf_scales(**overlay, z);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("embed_tokens offset 5"), std::string::npos);
  std::fill(z.begin(), z.end(), -2.0f);  // every S (1 + z) negative
  EXPECT_FALSE(svf_scales(**overlay, z).ok());
  std::fill(z.begin(), z.end(), 0.f);
  auto unit = svf_scales(**overlay, z);
  ASSERT_TRUE(unit.ok());
  for (float s : unit->embed) EXPECT_EQ(s, 1.0f);
}

}  // namespace
}  // namespace trinity
