// Determinism, batching, long inputs, the prefix cache and the profile registry of the cpu
// engine. Bitwise checks rely on each kernel computing a row independently of the other rows,
// of the thread count and of the batch (tests/ops checks the kernels themselves).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "model/cpu_test_util.h"
#include "model/engine_cpu.h"
#include "model/profiles.h"

namespace trinity {
namespace {

using testing_cpu::make_model;
using testing_cpu::make_test_engine;
using testing_cpu::max_row_rel_l2;
using testing_cpu::ModelShape;
using testing_cpu::random_ids;

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

const ModelShape kMedium{256, 512, 2, 4, 2, 64, DType::kBF16, true};

class CpuProfiles : public ::testing::TestWithParam<std::string> {};

TEST_P(CpuProfiles, BitIdenticalAcrossRunsAndThreadCounts) {
  auto w = make_model(kMedium, 5);
  ASSERT_TRUE(w);
  auto e1 = make_test_engine(w, GetParam(), 1), e2 = make_test_engine(w, GetParam(), 2);
  const int64_t n = 300, D = kMedium.hidden;
  auto ids = random_ids(n, 1000, 9);
  std::vector<float> a(n * D), b(n * D), c(n * D);
  ASSERT_TRUE(e1->forward_all(ids, a.data()).ok());
  ASSERT_TRUE(e2->forward_all(ids, b.data()).ok());
  ASSERT_TRUE(e2->forward_all(ids, c.data()).ok());
  EXPECT_TRUE(same_bits(a, b)) << "threads 1 vs 2";
  EXPECT_TRUE(same_bits(b, c)) << "run to run";
}

TEST_P(CpuProfiles, BatchedRowsEqualSingleSequenceRows) {
  auto w = make_model(kMedium, 6);
  ASSERT_TRUE(w);
  auto e = make_test_engine(w, GetParam(), 2, /*cache_mb=*/0);
  const int64_t D = kMedium.hidden;
  std::vector<std::vector<int32_t>> seqs;
  for (int i = 0; i < 7; ++i) seqs.push_back(random_ids(5 + 13 * i, 1000, 100 + i));
  std::vector<std::span<const int32_t>> spans(seqs.begin(), seqs.end());
  std::vector<int64_t> rows;
  for (const auto& s : seqs) rows.push_back(static_cast<int64_t>(s.size()) - 2);
  std::vector<float> batched(seqs.size() * D);
  ASSERT_TRUE(e->forward_rows(spans, rows, batched.data()).ok());
  for (size_t i = 0; i < seqs.size(); ++i) {
    std::vector<float> single(D), all(seqs[i].size() * D);
    ASSERT_TRUE(e->forward_rows({spans[i]}, {rows[i]}, single.data()).ok());
    ASSERT_EQ(0, std::memcmp(single.data(), batched.data() + i * D, D * 4)) << "sequence " << i;
    ASSERT_TRUE(e->forward_all(seqs[i], all.data()).ok());
    ASSERT_EQ(0, std::memcmp(single.data(), all.data() + rows[i] * D, D * 4)) << "sequence " << i;
  }
}

TEST_P(CpuProfiles, PrefixCacheReusesKvAndMatchesColdBitwise) {
  auto w = make_model(kMedium, 7);
  ASSERT_TRUE(w);
  auto warm = make_test_engine(w, GetParam(), 2, 64), cold = make_test_engine(w, GetParam(), 2, 0);
  const int64_t D = kMedium.hidden;
  auto base = random_ids(180, 1000, 11);
  auto route = [&](ForwardEngine& e, const std::vector<int32_t>& ids) {
    std::vector<float> out(D);
    std::vector<std::span<const int32_t>> seqs = {ids};
    EXPECT_TRUE(e.forward_rows(seqs, {static_cast<int64_t>(ids.size()) - 2}, out.data()).ok());
    return out;
  };
  // Turn 1, turn 2 (the transcript grows), an exact repeat, and a branch off turn 1's prefix.
  std::vector<int32_t> turn1(base.begin(), base.begin() + 100), turn2 = base;
  std::vector<int32_t> branch(base.begin(), base.begin() + 70);
  for (int32_t t : random_ids(40, 1000, 12)) branch.push_back(t);
  for (const auto* ids : {&turn1, &turn2, &turn2, &branch, &turn1}) {
    EXPECT_TRUE(same_bits(route(*warm, *ids), route(*cold, *ids))) << ids->size() << " tokens";
  }
  const PrefixCacheStats st = warm->prefix_cache_stats();
  EXPECT_EQ(st.misses, 1);
  EXPECT_EQ(st.hits, 4);
  // Routing row n-2 needs n-1 tokens. turn2 reuses all 99 of turn1's positions, the repeat 178
  // of 179 (the last token is always computed), the branch the 70 shared ones, turn1 again 98.
  EXPECT_EQ(st.reused_tokens, 99 + 178 + 70 + 98);
  EXPECT_GT(st.entries, 0);
  EXPECT_LE(st.bytes, st.budget_bytes);
  EXPECT_EQ(cold->prefix_cache_stats().hits, 0);
  warm->clear_prefix_cache();
  EXPECT_EQ(warm->prefix_cache_stats().entries, 0);
}

TEST_P(CpuProfiles, StageTimesCoverTheForwardAndReset) {
  auto w = make_model(kMedium, 9);
  ASSERT_TRUE(w);
  auto e = make_test_engine(w, GetParam(), 2, 64);
  const std::vector<std::string> names = {"embed",  "norm",     "gemm_qkv", "rope_kv",  "attention",
                                          "gemm_o", "gemm_mlp", "silu_mul", "residual", "kv_cache"};
  auto stages = e->stage_ms();
  ASSERT_EQ(stages.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(stages[i].first, names[i]);
    EXPECT_EQ(stages[i].second, 0.0) << names[i];
  }
  auto ids = random_ids(300, 1000, 21);
  std::vector<float> out(kMedium.hidden);
  std::vector<std::span<const int32_t>> seqs = {ids};
  ASSERT_TRUE(e->forward_rows(seqs, {298}, out.data()).ok());
  stages = e->stage_ms();
  double total = 0.0;
  for (const auto& [name, ms] : stages) {
    EXPECT_GE(ms, 0.0) << name;
    total += ms;
  }
  // Every matmul stage ran (300 rows take well over a clock tick).
  for (const char* g : {"gemm_qkv", "gemm_o", "gemm_mlp", "attention"})
    EXPECT_GT(
        std::find_if(stages.begin(), stages.end(), [&](auto& s) { return s.first == g; })->second,
        0.0)
        << g;
  EXPECT_GT(total, 0.0);
  e->reset_stage_ms();
  for (const auto& [name, ms] : e->stage_ms()) EXPECT_EQ(ms, 0.0) << name;
}

INSTANTIATE_TEST_SUITE_P(Profiles, CpuProfiles, ::testing::Values("cpu", "cpu-bf16"));

TEST(CpuPrefixCache, EvictsLeastRecentlyUsedWithinBudget) {
  auto w = make_model(kMedium, 8);
  ASSERT_TRUE(w);
  auto e = make_test_engine(w, "cpu", 2,
                            /*cache_mb=*/1);  // f32 KV: 2 layers * 2 * 128 * 4 B = 2 KiB/token
  const int64_t D = kMedium.hidden;
  std::vector<float> out(D);
  for (int i = 0; i < 6; ++i) {
    auto ids = random_ids(200, 1000, 50 + i);
    std::vector<std::span<const int32_t>> seqs = {ids};
    ASSERT_TRUE(e->forward_rows(seqs, {199}, out.data()).ok());
  }
  const PrefixCacheStats st = e->prefix_cache_stats();
  EXPECT_GT(st.evictions, 0);
  EXPECT_LE(st.bytes, st.budget_bytes);
  EXPECT_EQ(st.misses, 6);
}

// Inputs longer than one pass (1024 rows) run in several passes over the KV state; the result
// agrees with the reference.
TEST(CpuLongInput, MultiPassAgreesWithReference) {
  const ModelShape s{32, 48, 2, 4, 2, 8, DType::kF32, true};
  auto w = make_model(s, 9);
  ASSERT_TRUE(w);
  auto e = make_test_engine(w, "cpu", 2);
  auto ref = make_reference_engine(w);
  const int64_t n = 1300;
  auto ids = random_ids(n, 1000, 13);
  std::vector<float> got(n * s.hidden), want(n * s.hidden);
  ASSERT_TRUE(e->forward_all(ids, got.data()).ok());
  ASSERT_TRUE(ref->forward_all(ids, want.data()).ok());
  EXPECT_LE(max_row_rel_l2(got.data(), want.data(), n, s.hidden), 5e-5);
}

TEST(CpuEngine, RejectsBadInput) {
  auto w = make_model(ModelShape{32, 48, 1, 4, 2, 8, DType::kBF16, true}, 10);
  ASSERT_TRUE(w);
  auto e = make_test_engine(w, "cpu", 2);
  std::vector<int32_t> ids = {1, 2, 1000};
  std::vector<float> out(3 * 32);
  Status st = e->forward_all(ids, out.data());
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("position 2"), std::string::npos);
  std::vector<int32_t> ok_ids = {1, 2};
  std::vector<std::span<const int32_t>> seqs = {ok_ids};
  EXPECT_EQ(e->forward_rows(seqs, {2}, out.data()).code(), ErrorCode::kInvalidArgument);
}

TEST(RuntimeProfiles, RegistryListsProfilesWithDefaults) {
  const auto& all = runtime_profiles();
  ASSERT_GE(all.size(), 4u);
  EXPECT_EQ(default_profile_name(), "cpu");
  EXPECT_TRUE(all.front().is_default);
  for (const auto& p : all) {
    EXPECT_EQ(p.agent_margin_floor, 0.24);
    EXPECT_EQ(p.role_margin_floor, 1.06);
    EXPECT_EQ(p.fixture_dir(), "fixtures/runtime_profiles/" + p.name);
    EXPECT_EQ(profile_backend_label(p).rfind(p.backend + ":", 0), 0u) << profile_backend_label(p);
  }
  auto cuda = find_runtime_profile("cuda");
  ASSERT_TRUE(cuda.ok());
  EXPECT_EQ(profile_available(*cuda).code(), ErrorCode::kUnsupported);
  EXPECT_FALSE(find_runtime_profile("tpu").ok());
  EXPECT_NE(find_runtime_profile("tpu").status().message().find("cpu"), std::string::npos);
  EXPECT_EQ(find_runtime_profile("")->name, "cpu");
}

TEST(RuntimeProfiles, MakeEngineByName) {
  auto w = make_model(ModelShape{32, 48, 1, 4, 2, 8, DType::kBF16, true}, 11);
  ASSERT_TRUE(w);
  for (const std::string name : {"cpu", "cpu-bf16", "reference"}) {
    auto e = make_engine(name, w);
    ASSERT_TRUE(e.ok()) << name;
    EXPECT_EQ((*e)->profile(), name);
    EXPECT_FALSE((*e)->backend_label().empty());
  }
  auto cuda = make_engine("cuda", w);
  ASSERT_FALSE(cuda.ok());
  EXPECT_NE(cuda.status().message().find("CUDA"), std::string::npos);
}

}  // namespace
}  // namespace trinity
