// Score v1 against hand-computed values, labels at their boundaries, and examples assembled
// from crafted traces (tests/train/fitness_test_util.h).
#include <gtest/gtest.h>

#include <cmath>

#include "train/fitness_export.h"
#include "train/fitness_id.h"
#include "train/fitness_score.h"
#include "train/fitness_test_util.h"

namespace trinity::train {
namespace {

using testing::kTraceA;
using testing::kTraceB;

ScoreInputs inputs(Json status, Json agent, Json role, Json revisions = 0) {
  ScoreInputs in;
  in.verifier_status = std::move(status);
  in.agent_margin = std::move(agent);
  in.role_margin = std::move(role);
  in.revision_count = std::move(revisions);
  return in;
}

TEST(FitnessScore, AcceptedWithStrongMarginsIsOne) {
  // 0.5 + 0.3 (accepted) + 0.2 x clamp(log2(min(10/0.24, 20/1.06)) / 4 = 1.06, 0, 1) = 1.0.
  const ScoreResult r = score_v1(inputs("accepted", 10.0, 20.0), ScoreOptions{});
  EXPECT_EQ(r.score, 1.0);
  EXPECT_EQ(r.label, "positive");
  EXPECT_EQ(r.components.margin_strength, 1.0);
}

TEST(FitnessScore, EveryPenaltyTogetherClampsAtZero) {
  // 0.5 - 0.2 (revised) + 0 (margins 0) - 0.2 (2 revisions) - 0.05 (latency 200 vs 100: 1 - 2 =
  // -1) - 0.05 (cost 2 vs 1) - 0.25 (budget) = -0.25 -> 0.
  ScoreInputs in = inputs("revised", 0.0, 0.0, 2);
  in.observed_latency_ms = 200;
  in.estimated_cost_usd = 2.0;
  in.budget_exceeded = true;
  ScoreOptions o;
  o.latency_target_ms = 100;
  o.cost_target_usd = 1.0;
  const ScoreResult r = score_v1(in, o);
  EXPECT_EQ(r.score, 0.0);
  EXPECT_EQ(r.label, "negative");
  EXPECT_NEAR(r.components.revision, -0.2, 1e-15);
  EXPECT_NEAR(r.components.latency, -0.05, 1e-15);
  EXPECT_NEAR(r.components.cost, -0.05, 1e-15);
  EXPECT_EQ(r.components.budget, -0.25);
}

TEST(FitnessScore, HandComputedMiddleValues) {
  ScoreOptions o;
  // rejected, margins 4x the floors: log2(4) / 4 = 0.5 -> 0.1; 0.5 - 0.35 + 0.1 = 0.25.
  EXPECT_NEAR(score_v1(inputs("rejected", 0.96, 4.24), o).score, 0.25, 1e-12);
  // failed, agent 4x but role 2x: the smaller ratio, 2 -> 0.25 -> 0.05; 0.5 - 0.35 + 0.05 = 0.2.
  EXPECT_NEAR(score_v1(inputs("failed", 0.96, 2.12), o).score, 0.2, 1e-12);
  // revise with margins below the floors (ratio < 1 -> strength 0): 0.5 - 0.2 = 0.3.
  EXPECT_NEAR(score_v1(inputs("revise", 0.12, 0.53), o).score, 0.3, 1e-12);
  // "ok" counts as accepted: 0.5 + 0.3 + 0.05 (2x floors) = 0.85.
  EXPECT_NEAR(score_v1(inputs("ok", 0.48, 2.12), o).score, 0.85, 1e-12);
  // An unknown status adds nothing; a missing margin makes the strength 0: 0.5.
  EXPECT_EQ(score_v1(inputs("unknown", nullptr, 2.12), o).score, 0.5);
  EXPECT_EQ(score_v1(inputs(nullptr, 0.96, "4.24"), o).score, 0.5);
}

TEST(FitnessScore, RevisionsAreCappedAndOnlyNonNegativeIntegersCount) {
  ScoreOptions o;
  EXPECT_NEAR(score_v1(inputs("unknown", 0.0, 0.0, 5), o).components.revision, -0.3, 1e-15);
  EXPECT_EQ(score_v1(inputs("unknown", 0.0, 0.0, -1), o).components.revision, 0.0);
  EXPECT_EQ(score_v1(inputs("unknown", 0.0, 0.0, 1.0), o).components.revision, 0.0);
  EXPECT_EQ(score_v1(inputs("unknown", 0.0, 0.0, nullptr), o).components.revision, 0.0);
}

TEST(FitnessScore, LatencyAndCostNeedAPositiveTarget) {
  ScoreInputs in = inputs("unknown", 0.0, 0.0);
  in.observed_latency_ms = 50;
  in.estimated_cost_usd = 0.004;
  ScoreOptions o;
  EXPECT_EQ(score_v1(in, o).components.latency, 0.0);  // no target
  o.latency_target_ms = 200;
  o.cost_target_usd = 0.001;
  const ScoreResult r = score_v1(in, o);
  EXPECT_NEAR(r.components.latency, 0.05 * 0.75, 1e-15);  // 1 - 50/200
  EXPECT_NEAR(r.components.cost, -0.05, 1e-15);           // 1 - 4 = -3 -> -1
  EXPECT_NEAR(r.score, 0.5 + 0.0375 - 0.05, 1e-12);
  o.latency_target_ms = 0;  // not > 0: no contribution
  EXPECT_EQ(score_v1(in, o).components.latency, 0.0);
}

TEST(FitnessScore, BudgetExceededIsElixirTruthy) {
  ScoreInputs in = inputs("unknown", 0.0, 0.0);
  for (const Json& v : {Json(true), Json("provider_calls"), Json(1)}) {
    in.budget_exceeded = v;
    EXPECT_EQ(score_v1(in, ScoreOptions{}).components.budget, -0.25) << v;
  }
  for (const Json& v : {Json(false), Json(nullptr)}) {
    in.budget_exceeded = v;
    EXPECT_EQ(score_v1(in, ScoreOptions{}).components.budget, 0.0) << v;
  }
}

TEST(FitnessScore, AbsoluteMarginMode) {
  // The reference's own case: min(0.5, 0.25) / 0.5 = 0.5 -> 0.1; 0.5 + 0.1 = 0.6, neutral
  // between 0.2 and 0.7.
  ScoreOptions o;
  o.margin_mode = MarginMode::kAbsolute;
  o.margin_scale = 0.5;
  o.positive_threshold = 0.7;
  o.negative_threshold = 0.2;
  const ScoreResult r = score_v1(inputs("unknown", 0.5, 0.25), o);
  EXPECT_NEAR(r.score, 0.6, 1e-12);
  EXPECT_EQ(r.label, "neutral");
  EXPECT_EQ(r.components.margin_strength, 0.5);
}

TEST(FitnessScore, LabelsAtTheBoundaries) {
  const ScoreOptions o;
  EXPECT_STREQ(score_label(0.67, o), "positive");
  EXPECT_STREQ(score_label(std::nextafter(0.67, 0.0), o), "neutral");
  EXPECT_STREQ(score_label(0.33, o), "negative");
  EXPECT_STREQ(score_label(std::nextafter(0.33, 1.0), o), "neutral");
  EXPECT_STREQ(score_label(0.0, o), "negative");
  EXPECT_STREQ(score_label(1.0, o), "positive");
  // Through the formula: 0.5 + 0.3 - 0.1 (1 revision) = 0.7 (>= 0.67);
  // 0.5 - 0.2 = 0.3 (<= 0.33); 0.5 - 0.35 + 0.2 x 1 = 0.35 (neutral).
  EXPECT_EQ(score_v1(inputs("accepted", 0.0, 0.0, 1), o).label, "positive");
  EXPECT_EQ(score_v1(inputs("revise", 0.0, 0.0), o).label, "negative");
  EXPECT_EQ(score_v1(inputs("rejected", 10.0, 20.0), o).label, "neutral");
}

TEST(FitnessScore, OptionsValidateAndRoundTrip) {
  ScoreOptions o;
  o.negative_threshold = 0.8;
  EXPECT_FALSE(o.validate().ok());
  o = ScoreOptions{};
  o.margin_scale = 0;
  EXPECT_FALSE(o.validate().ok());
  o = ScoreOptions{};
  o.latency_target_ms = 250;
  auto back = ScoreOptions::from_json(o.to_json(), "x");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->to_json(), o.to_json());
  Json bad = o.to_json();
  bad["margin_mode"] = "nope";
  auto err = ScoreOptions::from_json(bad, "f.jsonl:3");
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.status().message().find("f.jsonl:3"), std::string::npos);
}

TEST(FitnessId, EtfOfTheNormalizedIdentity) {
  // %{case_id: nil, route_hash: "r", run_id: "a", turn: 1} -> [{"case_id", "nil"},
  // {"route_hash", "r"}, {"run_id", "a"}, {"turn", 1}]: 131, LIST(4), 4 x SMALL_TUPLE(2), NIL.
  const Json identity = {{"run_id", "a"}, {"turn", 1}, {"case_id", nullptr}, {"route_hash", "r"}};
  const std::string t = etf_encode_normalized(identity);
  std::string expected = "\x83\x6c";
  expected += std::string("\0\0\0\x04", 4);
  auto tuple_bin = [&](const std::string& k, const std::string& v) {
    std::string s = "\x68\x02\x6d";
    s += std::string("\0\0\0", 3) + static_cast<char>(k.size()) + k + "\x6d";
    s += std::string("\0\0\0", 3) + static_cast<char>(v.size()) + v;
    return s;
  };
  expected += tuple_bin("case_id", "nil") + tuple_bin("route_hash", "r") + tuple_bin("run_id", "a");
  expected += std::string("\x68\x02\x6d\0\0\0\x04", 7) + "turn" + "\x61\x01";
  expected += "\x6a";
  EXPECT_EQ(t, expected);
  // Integers by value: small, int32, big (parsed JSON numbers are unsigned in nlohmann).
  EXPECT_EQ(etf_encode_normalized(Json::parse("7")), std::string("\x83\x61\x07"));
  EXPECT_EQ(etf_encode_normalized(Json(-1)), std::string("\x83\x62\xff\xff\xff\xff"));
  EXPECT_EQ(etf_encode_normalized(Json(300)), std::string("\x83\x62\0\0\x01\x2c", 6));
  EXPECT_EQ(etf_encode_normalized(Json::parse("5000000000")),
            std::string("\x83\x6e\x05\0\0\xf2\x05\x2a\x01", 9));
  EXPECT_EQ(etf_encode_normalized(Json(true)), std::string("\x83\x6d\0\0\0\x04true", 10));
  auto id = fitness_example_id("a", 1, nullptr, "r");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->rfind("fitness:sha256:", 0), 0u);
  EXPECT_EQ(id->size(), 15u + 64u);
  EXPECT_NE(*id, *fitness_example_id("a", 2, nullptr, "r"));
}

std::vector<Json> export_examples(const std::vector<std::string>& traces, ExampleUnit unit,
                                  const ScoreOptions& score = {}) {
  auto read = read_traces(traces, false);
  EXPECT_TRUE(read.ok()) << read.status().message();
  auto assembled = assemble_candidates(read->entries, unit, coord::ContentMode::kHash);
  EXPECT_TRUE(assembled.ok()) << assembled.status().message();
  std::vector<Json> out;
  for (const auto& c : assembled->examples) out.push_back(score_candidate(c, score));
  return out;
}

TEST(FitnessTrace, RouteUnitScoresByHand) {
  const std::string dir = testing::temp_dir("route_unit");
  const auto a = testing::write_temp(dir, "a.jsonl", kTraceA);
  const auto b = testing::write_temp(dir, "b.jsonl", kTraceB);
  const std::vector<Json> ex = export_examples({a, b}, ExampleUnit::kRoute);
  ASSERT_EQ(ex.size(), 5u);
  // Sorted by run id, then turn.
  EXPECT_EQ(ex[0]["route"]["route_hash"], "r-a1");
  EXPECT_EQ(ex[4]["route"]["route_hash"], "r-b3");
  // a1: no verifier at turn 1 (unknown, 0); 4x floors -> 0.1; 0.5 + 0.1 = 0.6.
  EXPECT_NEAR(ex[0]["fitness"]["score"].get<double>(), 0.6, 1e-12);
  EXPECT_EQ(ex[0]["fitness"]["label"], "neutral");
  EXPECT_EQ(ex[0]["outcome"]["verifier_status"], "unknown");
  EXPECT_EQ(ex[0]["outcome"]["observed_latency_ms"], 100);
  EXPECT_EQ(ex[0]["route"]["reflex"]["action"], "direct_dispatch");
  EXPECT_EQ(ex[0]["route"]["reflex"]["forced_sequence"], Json::array());  // "bogus" dropped
  // a2: accepted +0.3, 2x floors -> 0.05: 0.85.
  EXPECT_NEAR(ex[1]["fitness"]["score"].get<double>(), 0.85, 1e-12);
  EXPECT_EQ(ex[1]["fitness"]["label"], "positive");
  EXPECT_EQ(ex[1]["outcome"]["source"], "verifier");
  EXPECT_FALSE(ex[1]["route"].contains("reflex"));
  // b1: at the floors (ratio 1 -> 0): 0.5.
  EXPECT_NEAR(ex[2]["fitness"]["score"].get<double>(), 0.5, 1e-12);
  // b2: revise -0.2, 1 revision -0.1: 0.2, negative.
  EXPECT_NEAR(ex[3]["fitness"]["score"].get<double>(), 0.2, 1e-12);
  EXPECT_EQ(ex[3]["outcome"]["verifier_status"], "revise");
  EXPECT_EQ(ex[3]["fitness"]["label"], "negative");
  // b3: no verifier; its budget snapshot: 1 revision (-0.1), exceeded (-0.25); margins 0.5 /
  // 2.0 -> min(2.083, 1.887) = 1.887 -> log2 / 4 = 0.2289 -> x 0.2.
  const double strength = std::log2(2.0 / 1.06) / 4.0;
  EXPECT_NEAR(ex[4]["fitness"]["score"].get<double>(), 0.5 - 0.1 - 0.25 + 0.2 * strength, 1e-12);
  EXPECT_EQ(ex[4]["outcome"]["budget_exceeded_key"], "provider_calls");
  // Hash content mode: no message text, no reply.
  EXPECT_EQ(testing::parse_lines(fitness_dataset_bytes(ex)).size(), 5u);
  EXPECT_EQ(fitness_dataset_bytes(ex).find("2+2"), std::string::npos);
  EXPECT_EQ(fitness_dataset_bytes(ex).find("secret-reply"), std::string::npos);
}

TEST(FitnessTrace, TargetsAddLatencyAndCostTerms) {
  const std::string dir = testing::temp_dir("targets");
  const auto a = testing::write_temp(dir, "a.jsonl", kTraceA);
  ScoreOptions o;
  o.latency_target_ms = 200;
  o.cost_target_usd = 0.004;
  const std::vector<Json> ex = export_examples({a}, ExampleUnit::kRoute, o);
  ASSERT_EQ(ex.size(), 2u);
  // a1: 0.6 + 0.05 x (1 - 100/200) + 0.05 x (1 - 0.002/0.004) = 0.65.
  EXPECT_NEAR(ex[0]["fitness"]["score"].get<double>(), 0.65, 1e-12);
  // a2: 0.85 + 0.05 x (1 - 300/200) + 0.05 x (1 - 0.006/0.004) = 0.8.
  EXPECT_NEAR(ex[1]["fitness"]["score"].get<double>(), 0.8, 1e-12);
  EXPECT_EQ(ex[1]["fitness"]["options"]["latency_target_ms"], 200.0);
}

TEST(FitnessTrace, RunUnitScoresByHand) {
  const std::string dir = testing::temp_dir("run_unit");
  const auto a = testing::write_temp(dir, "a.jsonl", kTraceA);
  const auto b = testing::write_temp(dir, "b.jsonl", kTraceB);
  const std::vector<Json> ex = export_examples({b, a}, ExampleUnit::kRun);
  ASSERT_EQ(ex.size(), 2u);
  // run-a: accepted +0.3; min margins 0.48 / 2.12 (2x) -> 0.05; 0.85.
  EXPECT_EQ(ex[0]["source"]["run_id"], "run-a");
  EXPECT_EQ(ex[0]["route"]["agent_margin"], 0.48);
  EXPECT_EQ(ex[0]["route"]["route_count"], 2);
  EXPECT_NEAR(ex[0]["fitness"]["score"].get<double>(), 0.85, 1e-12);
  EXPECT_EQ(ex[0]["outcome"]["observed_latency_ms"], 420);
  // run-b: failed -0.35, margins below the floors 0, 1 revision -0.1, budget -0.25: -0.2 -> 0.
  EXPECT_EQ(ex[1]["outcome"]["verifier_status"], "failed");
  EXPECT_EQ(ex[1]["fitness"]["score"], 0.0);
  EXPECT_EQ(ex[1]["fitness"]["label"], "negative");
  EXPECT_TRUE(ex[1]["source"]["turn"].is_null());
}

TEST(FitnessTrace, EvalResultsGiveEvalOutcomes) {
  const std::string dir = testing::temp_dir("eval");
  std::string text;
  for (const char* status : {"ok", "fail", "report"}) {
    const std::string id = std::string("qwen-router-prompt-eval:case-") + status;
    text +=
        R"({"event":"route_decision","run_id":")" + id + R"(","turn":0,"case_id":"case-)" + status +
        R"(","route_hash":"h","route_path":"qwen_router_prompt_eval","agent_margin":0.96,"role_margin":4.24})"
        "\n";
    text += R"({"event":"route_eval_result","run_id":")" + id + R"(","turn":0,"case_id":"case-)" +
            status + R"(","status":")" + status + "\"}\n";
  }
  const auto path = testing::write_temp(dir, "eval.jsonl", text);
  const std::vector<Json> ex = export_examples({path}, ExampleUnit::kRoute);
  ASSERT_EQ(ex.size(), 3u);
  // Sorted by run id: fail, ok, report.
  EXPECT_EQ(ex[0]["outcome"]["verifier_status"], "rejected");
  EXPECT_EQ(ex[1]["outcome"]["verifier_status"], "accepted");
  EXPECT_EQ(ex[2]["outcome"]["verifier_status"], "unknown");
  EXPECT_EQ(ex[1]["source"]["kind"], "eval");
  EXPECT_EQ(ex[1]["outcome"]["source"], "eval");
  // ok: 0.5 + 0.3 + 0.1 = 0.9; fail: 0.5 - 0.35 + 0.1 = 0.25.
  EXPECT_NEAR(ex[1]["fitness"]["score"].get<double>(), 0.9, 1e-12);
  EXPECT_NEAR(ex[0]["fitness"]["score"].get<double>(), 0.25, 1e-12);
}

TEST(FitnessTrace, FullContentCopiesTheMessages) {
  const std::string dir = testing::temp_dir("full");
  const auto a = testing::write_temp(dir, "a.jsonl", kTraceA);
  auto read = read_traces({a}, false);
  ASSERT_TRUE(read.ok());
  auto full = assemble_candidates(read->entries, ExampleUnit::kRoute, coord::ContentMode::kFull);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->examples[0].input["messages"][0]["content"], "What is 2+2?");
  EXPECT_FALSE(full->examples[1].input.contains("messages"));  // no input_content there
}

TEST(FitnessTrace, MalformedLineNamesFileAndLine) {
  const std::string dir = testing::temp_dir("malformed");
  const auto bad =
      testing::write_temp(dir, "bad.jsonl",
                          std::string(R"({"event":"route_decision","run_id":"x","turn":1})") +
                              "\n\n{not json\n[1,2]\n");
  auto r = read_traces({bad}, false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kParse);
  EXPECT_NE(r.status().message().find(bad + ":3:"), std::string::npos) << r.status().message();
  auto skipped = read_traces({bad}, true);
  ASSERT_TRUE(skipped.ok());
  EXPECT_EQ(skipped->entries.size(), 1u);
  ASSERT_EQ(skipped->skipped.size(), 2u);
  EXPECT_EQ(skipped->skipped[1].line, 4);
  EXPECT_EQ(skipped->skipped[1].reason, "JSON value is not an object");
  auto missing = read_traces({dir + "/none.jsonl"}, false);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("none.jsonl"), std::string::npos);
}

}  // namespace
}  // namespace trinity::train
