// SVF adaptation against the float64 goldens in tests/data/golden/adapted (see its README):
// tensors 2-8 in full, the embedding and the LM head through 512 rows and every row norm.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>

#include "adapt/svf.h"
#include "common/compare.h"
#include "core/dtype.h"
#include "io/npy.h"

namespace trinity {
namespace {

const std::string kGolden = std::string(TRINITY_TEST_DATA_DIR) + "/golden";

std::string stem(const SvfTarget& t) {
  std::string f = t.checkpoint_file();
  return f.substr(0, f.size() - std::string(".safetensors").size());
}

// Checks one adapted tensor (HF orientation, f32 before the cast) against the golden; returns
// the worst per-row relative L2 error. For bf16 models also checks the bf16 cast.
struct Bf16Counts {
  int64_t other_neighbour = 0, checked = 0;
};

double check_target(const std::string& variant, const SvfTarget& t, const std::vector<float>& ours,
                    bool bf16, Bf16Counts* counts) {
  const std::string dir = kGolden + "/adapted/" + variant + "/";
  const int64_t m = t.hf_shape[0], n = t.hf_shape[1];
  std::vector<int64_t> rows;
  std::vector<float> want;
  if (t.index == 1 || t.index == 9) {
    auto r = read_npy(dir + stem(t) + ".rows.npy");
    auto v = read_npy(dir + stem(t) + ".row_values.npy");
    auto norms = read_npy(dir + stem(t) + ".row_norms.npy");
    EXPECT_TRUE(r.ok() && v.ok() && norms.ok());
    rows = r->to_i64();
    want = v->to_f32();
    std::vector<float> nw = norms->to_f32();
    EXPECT_EQ(static_cast<int64_t>(nw.size()), m);
    double worst_norm = 0;
    for (int64_t i = 0; i < m; ++i) {
      double s = 0;
      for (int64_t j = 0; j < n; ++j) s += static_cast<double>(ours[i * n + j]) * ours[i * n + j];
      worst_norm = testing::max_keep_nan(worst_norm, std::abs(std::sqrt(s) - nw[i]) / nw[i]);
    }
    EXPECT_LE(worst_norm, 1e-5) << t.path << " row norms";
  } else {
    auto v = read_npy(dir + stem(t) + ".npy");
    EXPECT_TRUE(v.ok()) << v.status().message();
    EXPECT_EQ(v->shape, t.hf_shape);
    want = v->to_f32();
    for (int64_t i = 0; i < m; ++i) rows.push_back(i);
  }
  double worst = 0;
  for (size_t r = 0; r < rows.size(); ++r) {
    const float* a = ours.data() + rows[r] * n;
    const float* b = want.data() + static_cast<int64_t>(r) * n;
    worst = testing::max_keep_nan(worst, testing::row_rel_l2(a, b, n));
    if (!bf16) continue;
    double norm = 0;
    for (int64_t j = 0; j < n; ++j) norm += static_cast<double>(b[j]) * b[j];
    // f32 arithmetic leaves ~1e-7 x the row norm of absolute noise, so elements below 1e-4 x
    // the row norm are held to one bf16 ulp at that floor instead of at their own magnitude.
    const float floor = static_cast<float>(1e-4 * std::sqrt(norm));
    for (int64_t j = 0; j < n; ++j, ++counts->checked) {
      const float mine = bf16_to_f32(f32_to_bf16(a[j]));
      const float ref = bf16_to_f32(f32_to_bf16(b[j]));
      // One bf16 ulp (8 significant bits) at the golden value.
      const float ulp = std::ldexp(1.0f, std::ilogb(std::max(std::abs(b[j]), floor)) - 7);
      EXPECT_LE(std::abs(mine - b[j]), ulp * 1.0001f) << t.path << " row " << rows[r];
      if (mine != ref) ++counts->other_neighbour;
    }
  }
  return worst;
}

void run_golden(const std::string& variant, SvdComputeType type) {
  auto w = load_qwen3_weights(kGolden + "/model_" + variant);
  ASSERT_TRUE(w.ok()) << w.status().message();
  auto targets = svf_targets((*w)->config);
  ASSERT_EQ(targets[1].path, "decoder.blocks.2.self_attention.query.kernel");
  auto rv = load_router_vector(kGolden + "/router_vector.npy", (*w)->config, targets);
  ASSERT_TRUE(rv.ok()) << rv.status().message();
  Bf16Counts counts;
  for (const SvfTarget& t : targets) {
    auto src = svf_source_weight(**w, t);
    ASSERT_TRUE(src.ok()) << src.status().message();
    std::span<const float> z(rv->offsets.data() + t.offset_start,
                             static_cast<size_t>(t.offset_end - t.offset_start));
    auto out = svf_adapt(**src, z, type);
    ASSERT_TRUE(out.ok()) << out.status().message();
    const double worst = check_target(variant, t, *out, variant == "bf16", &counts);
    EXPECT_LE(worst, 1e-5) << variant << " " << t.path;
    std::printf("  %s %-45s worst row rel L2 %.2e\n", variant.c_str(), t.path.c_str(), worst);
  }
  // README: up to ~0.1% of the elements may land on the other bf16 neighbour.
  EXPECT_LE(static_cast<double>(counts.other_neighbour),
            0.001 * static_cast<double>(counts.checked))
      << counts.other_neighbour << " of " << counts.checked << " on the other bf16 neighbour";
  if (variant == "bf16")
    std::printf("  bf16: %lld of %lld elements on the other neighbour\n",
                static_cast<long long>(counts.other_neighbour),
                static_cast<long long>(counts.checked));
}

TEST(SvfGolden, F32Model) {
  run_golden("f32", SvdComputeType::kF32);
}
TEST(SvfGolden, Bf16Model) {
  run_golden("bf16", SvdComputeType::kF32);
}
TEST(SvfGolden, Bf16ModelSourceComputeType) {
  run_golden("bf16", SvdComputeType::kSource);
}

TEST(RouterVector, NpyAndSafetensorsAgreeAndSplit) {
  auto w = load_qwen3_weights(kGolden + "/model_f32");
  ASSERT_TRUE(w.ok());
  auto targets = svf_targets((*w)->config);
  auto a = load_router_vector(kGolden + "/router_vector.npy", (*w)->config, targets);
  auto b = load_router_vector(kGolden + "/router_vector.safetensors", (*w)->config, targets);
  ASSERT_TRUE(a.ok()) << a.status().message();
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(a->offsets.size(), 272u);
  EXPECT_EQ(a->head.size(), 320u);
  EXPECT_EQ(a->offsets, b->offsets);
  EXPECT_EQ(a->head, b->head);
  EXPECT_EQ(b->tensor, "trinity_router_es_vector");
  EXPECT_EQ(a->sha256.size(), 64u);
  auto head = read_npy(kGolden + "/router_head.npy");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->to_f32(), a->head);
}

TEST(RouterVector, WrongLengthIsAClearError) {
  const std::string p =
      ::testing::TempDir() + "/short_vector_" + std::to_string(::getpid()) + ".npy";
  std::vector<float> v(591, 0.5f);
  ASSERT_TRUE(write_npy_f32(p, v.data(), {591}).ok());
  auto r = load_router_vector(p, 272, 32);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "router vector size mismatch: expected 592, got 591");
  auto r2 = load_router_vector(p, 271, 32);
  EXPECT_TRUE(r2.ok());
  std::vector<float> m(592);
  ASSERT_TRUE(write_npy_f32(p, m.data(), {2, 296}).ok());
  auto r3 = load_router_vector(p, 272, 32);
  ASSERT_FALSE(r3.ok());
  EXPECT_NE(r3.status().message().find("1-D"), std::string::npos);
}

TEST(RouterVector, Float64NpyIsAccepted) {
  // Hand-built version 1.0 header for '<f8' of 4 values.
  std::string hdr = "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }";
  while ((10 + hdr.size() + 1) % 64 != 0) hdr += ' ';
  hdr += '\n';
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8);
  bytes += static_cast<char>(hdr.size() & 0xff);
  bytes += static_cast<char>(hdr.size() >> 8);
  bytes += hdr;
  const double vals[4] = {0.25, -1.5, 2.0, 3.0};
  bytes.append(reinterpret_cast<const char*>(vals), sizeof(vals));
  auto r = parse_router_vector(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), true,
                               2, 0, "mem.npy");
  ASSERT_FALSE(r.ok());  // 2 + 10*0 != 4
  auto ok = parse_router_vector(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), true,
                                4, 0, "mem.npy");
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->offsets, (std::vector<float>{0.25f, -1.5f, 2.0f, 3.0f}));
  EXPECT_EQ(ok->source_dtype, "F64");
}

}  // namespace
}  // namespace trinity
