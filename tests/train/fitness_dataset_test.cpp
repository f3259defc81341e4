// fitness export (files, manifest, determinism, duplicates), inspect and replay.
#include <gtest/gtest.h>

#include "core/file_util.h"
#include "core/sha256.h"
#include "train/fitness_dataset.h"
#include "train/fitness_export.h"
#include "train/fitness_test_util.h"

namespace trinity::train {
namespace {

using testing::kTraceA;
using testing::kTraceB;

ExportOptions options(std::vector<std::string> traces, const std::string& out) {
  ExportOptions o;
  o.trace_paths = std::move(traces);
  o.out_dir = out;
  o.generated_at = "2025-01-01T00:00:00Z";
  return o;
}

TEST(FitnessExport, WritesDatasetAndManifest) {
  const std::string dir = testing::temp_dir("export");
  const auto a = testing::write_temp(dir, "a.jsonl", kTraceA);
  const auto b = testing::write_temp(dir, "b.jsonl", kTraceB);
  auto r = export_fitness(options({a, b}, dir + "/out"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto bytes = read_file(dir + "/out/fitness.jsonl");
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, r->dataset);
  const std::vector<Json> lines = testing::parse_lines(*bytes);
  ASSERT_EQ(lines.size(), 5u);
  for (const Json& e : lines) {
    EXPECT_EQ(e["schema_version"], "trinity.sakana.fitness_example.v1");
    for (const char* m : {"source", "input", "route", "outcome", "fitness", "provenance"})
      EXPECT_TRUE(e[m].is_object()) << m;
  }
  auto manifest = load_json_file(dir + "/out/manifest.json");
  ASSERT_TRUE(manifest.ok());
  const Json& m = *manifest;
  EXPECT_EQ(m["schema_version"], "trinity.sakana.fitness_manifest.v1");
  EXPECT_EQ(m["record_count"], 5);
  // a1 0.6 neutral, a2 0.85 positive, b1 0.5 neutral, b2 0.2 negative, b3 ~0.196 negative.
  EXPECT_EQ(m["positive_count"], 1);
  EXPECT_EQ(m["neutral_count"], 2);
  EXPECT_EQ(m["negative_count"], 2);
  EXPECT_EQ(m["dataset_digest"], "sha256:" + sha256_hex(*bytes));
  EXPECT_EQ(m["files"]["fitness.jsonl"]["sha256"], sha256_hex(*bytes));
  EXPECT_EQ(m["files"]["fitness.jsonl"]["bytes"], bytes->size());
  EXPECT_EQ(m["runtime_profiles"], Json::array({"mock_tiny"}));
  EXPECT_EQ(m["example_unit"], "route");
  EXPECT_EQ(m["generated_at"], "2025-01-01T00:00:00Z");
}

TEST(FitnessExport, SameTracesGiveSameBytesInAnyFileOrder) {
  const std::string dir = testing::temp_dir("determinism");
  const auto a = testing::write_temp(dir, "a.jsonl", kTraceA);
  const auto b = testing::write_temp(dir, "b.jsonl", kTraceB);
  for (ExampleUnit unit : {ExampleUnit::kRoute, ExampleUnit::kRun}) {
    ExportOptions ab = options({a, b}, dir + "/ab"), ba = options({b, a}, dir + "/ba");
    ab.unit = ba.unit = unit;
    ASSERT_TRUE(export_fitness(ab).ok());
    const std::string first = *read_file(dir + "/ab/fitness.jsonl");
    const std::string first_manifest = *read_file(dir + "/ab/manifest.json");
    ASSERT_TRUE(export_fitness(ab).ok());  // again
    EXPECT_EQ(*read_file(dir + "/ab/fitness.jsonl"), first);
    ASSERT_TRUE(export_fitness(ba).ok());
    EXPECT_EQ(*read_file(dir + "/ba/fitness.jsonl"), first);
    EXPECT_EQ(*read_file(dir + "/ba/manifest.json"), first_manifest);
  }
}

TEST(FitnessExport, DuplicatesMergeAndConflictsAreCounted) {
  const std::string dir = testing::temp_dir("dupes");
  const auto a = testing::write_temp(dir, "a.jsonl", kTraceA);
  const auto copy = testing::write_temp(dir, "a_copy.jsonl", kTraceA);
  auto r = export_fitness(options({copy, a}, dir + "/out"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->manifest["record_count"], 2);
  EXPECT_EQ(r->manifest["conflict_count"], 0);
  // The kept copy is the first by path: a.jsonl.
  EXPECT_EQ(r->examples[0]["provenance"]["source_trace_path"], a);
  std::string changed = kTraceA;
  changed.replace(changed.find("\"selected_agent_id\":2"), 21, "\"selected_agent_id\":6");
  const auto conflicting = testing::write_temp(dir, "z.jsonl", changed);
  auto c = export_fitness(options({a, conflicting}, dir + "/out2"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->manifest["record_count"], 2);
  EXPECT_EQ(c->manifest["conflict_count"], 1);
  EXPECT_EQ(c->examples[0]["route"]["selected_agent_id"], 2);  // a.jsonl's
}

TEST(FitnessExport, MalformedTraceFailsUnlessSkipped) {
  const std::string dir = testing::temp_dir("export_bad");
  const auto bad = testing::write_temp(dir, "bad.jsonl", std::string(kTraceA) + "oops\n");
  auto r = export_fitness(options({bad}, dir + "/out"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(bad + ":11:"), std::string::npos) << r.status().message();
  EXPECT_FALSE(file_exists(dir + "/out/fitness.jsonl"));
  ExportOptions skip = options({bad}, dir + "/out");
  skip.skip_invalid = true;
  auto s = export_fitness(skip);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->manifest["skipped_count"], 1);
  EXPECT_EQ(s->manifest["skipped"][0]["line"], 11);
}

TEST(FitnessExport, DeeplyNestedTraceLineIsInvalidNotAStackOverflow) {
  // A run_id nested 200,000 deep: copying and canonicalizing it recursed off the stack's end
  // (reproduced with fuzz_train_trace on a large input).
  const std::string dir = testing::temp_dir("export_deep");
  const std::string deep = R"({"event":"route_decision","run_id":)" + std::string(200000, '[') +
                           std::string(200000, ']') + "}\n";
  const auto bad = testing::write_temp(dir, "deep.jsonl", std::string(kTraceA) + deep);
  auto r = export_fitness(options({bad}, dir + "/out"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(bad + ":11: invalid JSON: arrays and objects nested deeper"),
            std::string::npos)
      << r.status().message();
  ExportOptions skip = options({bad}, dir + "/out");
  skip.skip_invalid = true;
  auto s = export_fitness(skip);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->manifest["skipped_count"], 1);
  EXPECT_EQ(s->manifest["record_count"], 2);
}

TEST(FitnessInspect, ExportIsReadyAndVerified) {
  const std::string dir = testing::temp_dir("inspect");
  const auto a = testing::write_temp(dir, "a.jsonl", kTraceA);
  ASSERT_TRUE(export_fitness(options({a}, dir + "/out")).ok());
  auto r = inspect_fitness(dir + "/out/fitness.jsonl", {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)["schema_version"], "trinity.sakana.fitness_dataset_report.v1");
  EXPECT_EQ((*r)["record_count"], 2);
  EXPECT_EQ((*r)["manifest_digest_verified"], true);
  EXPECT_EQ((*r)["dataset_status"], "candidate_eval_ready");
  EXPECT_EQ((*r)["label_balance"]["positive"], 0.5);
  EXPECT_EQ((*r)["missing_outcome_counts"]["orchestrator"], 1);
  EXPECT_EQ((*r)["reflex_counts"]["direct_dispatch"], 1);
  EXPECT_EQ((*r)["duplicates"]["example_id"]["rows"], 0);
  EXPECT_EQ((*r)["digest"], "sha256:" + sha256_hex(*read_file(dir + "/out/fitness.jsonl")));
  // A changed file no longer matches its manifest.
  ASSERT_TRUE(
      write_file_atomic(dir + "/out/fitness.jsonl", *read_file(dir + "/out/fitness.jsonl") + "\n")
          .ok());
  auto tampered = inspect_fitness(dir + "/out/fitness.jsonl", {});
  ASSERT_TRUE(tampered.ok());
  EXPECT_EQ((*tampered)["dataset_status"], "invalid");
  EXPECT_EQ((*tampered)["status_reason"], "manifest_digest_mismatch");
}

TEST(FitnessInspect, CountsDuplicates) {
  const std::string dir = testing::temp_dir("inspect_dupes");
  // Rows 1 and 2: the same example (same id, same run and turn); row 3 shares row 1's input
  // hash in another run; row 4 stands alone. No manifest beside it.
  const std::string text =
      R"({"example_id":"e1","source":{"run_id":"r1","turn":1},"input":{"input_hash":"h1"},"fitness":{"label":"positive"}}
{"example_id":"e1","source":{"run_id":"r1","turn":1},"input":{"input_hash":"h1"},"fitness":{"label":"positive"}}
{"example_id":"e2","source":{"run_id":"r2","turn":1},"input":{"input_hash":"h1"},"fitness":{"label":"negative"}}
{"example_id":"e3","source":{"run_id":"r3","turn":1},"input":{"input_hash":"h3"},"fitness":{"label":"neutral"}}
)";
  const auto path = testing::write_temp(dir, "f.jsonl", text);
  auto r = inspect_fitness(path, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  const Json& d = (*r)["duplicates"];
  EXPECT_EQ(d["example_id"]["groups"], 1);
  EXPECT_EQ(d["example_id"]["rows"], 1);
  EXPECT_EQ(d["example_id"]["keys"], Json::array({"e1"}));
  EXPECT_EQ(d["input_hash"]["groups"], 1);
  EXPECT_EQ(d["input_hash"]["rows"], 2);  // h1 three times
  EXPECT_EQ(d["run"]["rows"], 1);
  EXPECT_EQ((*r)["dataset_status"], "replay_ready");
  EXPECT_EQ((*r)["status_reason"], "manifest_missing");
  EXPECT_EQ((*r)["positive_count"], 2);
}

TEST(FitnessInspect, MalformedLineNamesFileAndLine) {
  const std::string dir = testing::temp_dir("inspect_bad");
  const auto path = testing::write_temp(dir, "f.jsonl", "{\"example_id\":\"e\"}\n\"text\"\n");
  auto r = inspect_fitness(path, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(path + ":2: JSON value is not an object"), std::string::npos)
      << r.status().message();
}

TEST(FitnessReplay, RecomputesStoredScoresAndFindsTampering) {
  const std::string dir = testing::temp_dir("replay");
  const auto a = testing::write_temp(dir, "a.jsonl", kTraceA);
  const auto b = testing::write_temp(dir, "b.jsonl", kTraceB);
  ExportOptions o = options({a, b}, dir + "/out");
  o.score.latency_target_ms = 200;  // stored with each example: replay needs no flag
  ASSERT_TRUE(export_fitness(o).ok());
  const std::string file = dir + "/out/fitness.jsonl";
  auto r = replay_fitness(file, {}, ScoreOptions{});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)["schema_version"], "trinity.sakana.fitness_replay_report.v1");
  EXPECT_EQ((*r)["status"], "ok");
  EXPECT_EQ((*r)["score_mismatch_count"], 0);
  EXPECT_TRUE((*r)["status_reason"].is_null());
  EXPECT_EQ((*r)["component_summary"]["base"]["mean"], 0.5);
  EXPECT_EQ((*r)["component_summary"]["base"]["count"], 5);
  const Json& econ = (*r)["reflex_economics"];
  EXPECT_EQ(econ["direct_dispatch"]["count"], 1);
  EXPECT_EQ(econ["none"]["count"], 4);
  // Without a reflex: a2 accepted of 4; b2 revised; b3 over budget; latencies 300 (a2) only.
  EXPECT_EQ(econ["none"]["acceptance_rate"], 0.25);
  EXPECT_EQ(econ["none"]["budget_exceeded_rate"], 0.25);
  EXPECT_EQ(econ["none"]["avg_latency_ms"], 300.0);
  // At 4x / 1x the floors only a1 (4x exactly) is high, and it has no verdict.
  EXPECT_EQ((*r)["reflex_classes"]["class_counts"]["high"], 1);
  EXPECT_EQ((*r)["reflex_classes"]["accepted_direct_count"], 0);

  std::string text = *read_file(file);
  const size_t at = text.find("\"label\":\"positive\"");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 18, "\"label\":\"negative\"");
  ASSERT_TRUE(write_file_atomic(file, text).ok());
  auto t = replay_fitness(file, {}, ScoreOptions{});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)["status"], "mismatch");
  EXPECT_EQ((*t)["label_mismatch_count"], 1);
  EXPECT_EQ((*t)["mismatches"][0]["actual"], "positive");
  EXPECT_EQ((*t)["status_reason"], "manifest_digest_mismatch");
}

TEST(FitnessReplay, ExamplesWithoutStoredOptionsUseTheFallback) {
  const std::string dir = testing::temp_dir("replay_fallback");
  // 0.5 + 0.05 x (1 - 100/200) = 0.525 with a 200 ms target; 0.5 without.
  const auto path = testing::write_temp(
      dir, "f.jsonl",
      R"({"example_id":"e","route":{},"outcome":{"observed_latency_ms":100},"fitness":{"score":0.525,"label":"neutral"}})"
      "\n");
  auto plain = replay_fitness(path, {}, ScoreOptions{});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ((*plain)["score_mismatch_count"], 1);
  ScoreOptions with_target;
  with_target.latency_target_ms = 200;
  auto targeted = replay_fitness(path, {}, with_target);
  ASSERT_TRUE(targeted.ok());
  EXPECT_EQ((*targeted)["status"], "ok");
  EXPECT_EQ((*targeted)["status_reason"], "manifest_missing");
}

}  // namespace
}  // namespace trinity::train
