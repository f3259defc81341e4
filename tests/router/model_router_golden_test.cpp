// The whole routing pipeline against the float64 goldens (tests/data/golden/routes): the golden
// model + router vector adapted in memory (--vector path), the real tokenizer, the reference
// engine. Tolerances from the golden README: decisions identical; logits within 1e-4 (f32
// model; the smallest golden margin is 0.35) and 3e-3 (bf16 model, where a few adapted elements
// can land on the other bf16 neighbour); token_count and transcript_hash exact; route_hash
// exact whenever our rounded logits equal the golden rounded logits, and on every case the
// golden route_hash equals our hash of the golden decision (counted and asserted).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "adapt/svf.h"
#include "core/json.h"
#include "router/etf_hash.h"
#include "router/model_router.h"

namespace trinity {
namespace {

const std::string kGolden = std::string(TRINITY_TEST_DATA_DIR) + "/golden";

class RouterGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(RouterGolden, DecisionsLogitsAndHashesMatch) {
  const std::string dtype = GetParam();
  const double tol = dtype == "f32" ? 1e-4 : 3e-3;
  auto w = load_qwen3_weights(kGolden + "/model_" + dtype);
  ASSERT_TRUE(w.ok()) << w.status().message();
  auto targets = svf_targets((*w)->config);
  auto rv = load_router_vector(kGolden + "/router_vector.npy", (*w)->config, targets);
  ASSERT_TRUE(rv.ok()) << rv.status().message();
  ASSERT_TRUE(adapt_weights_in_memory(**w, *rv, targets).ok());
  auto tok = tok::Tokenizer::load(TRINITY_TOKENIZER_DIR);
  ASSERT_TRUE(tok.ok()) << tok.status().message();
  ModelRouter router(*tok, make_reference_engine(*w), rv->head);

  auto details = load_json_file(kGolden + "/routes/" + dtype + ".details.json");
  auto cases = load_json_file(kGolden + "/routes/cases.json");
  ASSERT_TRUE(details.ok() && cases.ok());
  std::vector<std::vector<Message>> batch;
  for (const auto& c : (*cases)["cases"]) {
    auto m = messages_from_json(c["messages"], "cases.json");
    ASSERT_TRUE(m.ok());
    batch.push_back(*m);
  }
  auto got = router.route_batch(batch);
  ASSERT_TRUE(got.ok()) << got.status().message();
  ASSERT_EQ(got->size(), (*details)["cases"].size());
  size_t hash_checked = 0, end_to_end = 0;
  for (size_t i = 0; i < got->size(); ++i) {
    const Json& want = (*details)["cases"][i];
    const RouteDecision& d = (*got)[i];
    const std::string id = want["id"];
    EXPECT_EQ(d.agent_id, want["agent_id"].get<int>()) << id;
    EXPECT_EQ(d.role_id, want["role_id"].get<int>()) << id;
    EXPECT_EQ(d.token_count, want["token_count"].get<int64_t>()) << id;
    EXPECT_EQ(d.transcript_hash, want["transcript_hash"].get<std::string>()) << id;
    for (int a = 0; a < kNumAgents; ++a)
      EXPECT_NEAR(d.agent_logits[a], want["agent_logits_f32"][a].get<double>(), tol) << id;
    for (int r = 0; r < kNumRoles; ++r)
      EXPECT_NEAR(d.role_logits[r], want["role_logits_f32"][r].get<double>(), tol) << id;
    // route_hash is a function of the rounded logits: equal when they are equal.
    bool same_rounding = true;
    auto mine = d.rounded_logits();
    for (int k = 0; k < kNumAgents; ++k)
      same_rounding &= mine[k] == elixir_round(want["agent_logits_f32"][k].get<float>());
    for (int k = 0; k < kNumRoles; ++k)
      same_rounding &=
          mine[kNumAgents + k] == elixir_round(want["role_logits_f32"][k].get<float>());
    if (same_rounding) {
      EXPECT_EQ(d.route_hash, want["route_hash"].get<std::string>()) << id;
      ++end_to_end;
    }
    // Every case: the golden route_hash is our hash of OUR decision with the golden's rounded
    // logits (so it checks the decision and the hash function end to end, all but the last
    // rounding), and our route_hash is our hash of our own decision and rounded logits.
    std::array<double, kNumAgents + kNumRoles> golden_rounded{};
    for (int k = 0; k < kNumAgents; ++k)
      golden_rounded[k] = elixir_round(want["agent_logits_f32"][k].get<float>());
    for (int k = 0; k < kNumRoles; ++k)
      golden_rounded[kNumAgents + k] = elixir_round(want["role_logits_f32"][k].get<float>());
    auto golden_hash =
        route_hash(d.agent_id, d.role_id, golden_rounded.data(), golden_rounded.size());
    ASSERT_TRUE(golden_hash.ok());
    EXPECT_EQ(*golden_hash, want["route_hash"].get<std::string>()) << id;
    auto own_hash = route_hash(d.agent_id, d.role_id, mine.data(), mine.size());
    ASSERT_TRUE(own_hash.ok());
    EXPECT_EQ(d.route_hash, *own_hash) << id;
    ++hash_checked;
  }
  // The golden logits are f32 casts of an f64 run; ours differ from them by ~1e-6 (f32) to
  // ~1e-3 (bf16), so 6-decimal roundings rarely all agree and the end-to-end comparison above
  // seldom runs (it ran for 0 of 6 cases when this was written). The per-case hash checks do.
  std::printf("[route_hash %s] hash function checked on %zu of %zu cases; end to end on %zu\n",
              dtype.c_str(), hash_checked, got->size(), end_to_end);
  RecordProperty("route_hash_checked", std::to_string(hash_checked));
  RecordProperty("route_hash_end_to_end", std::to_string(end_to_end));
  EXPECT_EQ(hash_checked, got->size());
  EXPECT_EQ(got->size(), 6u);
  // The seq_len <= 1 rule: ids [872] route from position 0.
  const Json& single = (*details)["single_token_ids"];
  auto s = router.route_ids({{"user", "x"}}, single["ids"].get<std::vector<int32_t>>());
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(single["position"].get<int>(), 0);
  EXPECT_EQ(s->agent_id, single["agent_id"].get<int>());
  EXPECT_EQ(s->role_id, single["role_id"].get<int>());
  for (int a = 0; a < kNumAgents; ++a)
    EXPECT_NEAR(s->agent_logits[a], single["agent_logits_f32"][a].get<double>(), tol);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, RouterGolden, ::testing::Values("f32", "bf16"));

TEST(ModelRouter, RoutePosition) {
  EXPECT_EQ(ModelRouter::route_position(0), 0);
  EXPECT_EQ(ModelRouter::route_position(1), 0);
  EXPECT_EQ(ModelRouter::route_position(2), 0);
  EXPECT_EQ(ModelRouter::route_position(16), 14);
}

}  // namespace
}  // namespace trinity
