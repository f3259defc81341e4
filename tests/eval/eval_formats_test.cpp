// The reference's cases and snapshot formats: parse, write back byte for byte, clear errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include "core/file_util.h"
#include "eval/cases.h"
#include "eval/refresh.h"
#include "eval/runner.h"
#include "eval/snapshot.h"
#include "eval_test_util.h"

namespace trinity::eval {
namespace {

using testing::golden_routes_dir;

std::string read_or_die(const std::string& path) {
  auto t = read_file(path);
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? *t : std::string();
}

TEST(EvalCases, GoldenCasesFileRoundTripsByteForByte) {
  const std::string path = golden_routes_dir() + "/cases.json";
  auto file = load_cases_file(path);
  ASSERT_TRUE(file.ok()) << file.status().message();
  ASSERT_EQ(file->cases.size(), 6u);
  EXPECT_EQ(file->cases[0].id, "g1_math");
  ASSERT_TRUE(file->cases[0].expected.has_value());
  EXPECT_EQ(file->cases[0].expected->agent_id, 6);
  EXPECT_EQ(file->cases[0].expected->role_id, 2);
  EXPECT_EQ(file->cases[3].messages.size(), 3u);
  EXPECT_EQ(file->cases[3].messages[1].role, "assistant");
  EXPECT_EQ(file->cases[5].messages[0].content, "");
  EXPECT_EQ(file->cases[0].tags, std::vector<std::string>{"golden"});
  EXPECT_EQ(cases_to_text(*file), read_or_die(path));
}

TEST(EvalCases, ExtraKeysAreKeptAndExpectationsRefresh) {
  const std::string text = R"({
  "schema_version": 1,
  "description": "extra top-level key",
  "cases": [
    {
      "id": "a",
      "messages": [{"role": "user", "content": "hi"}],
      "expected": {"agent_id": 1, "role_id": 0},
      "tags": [],
      "notes": "",
      "custom": 5
    }
  ]
})";
  auto file = parse_cases(text, "t.json");
  ASSERT_TRUE(file.ok()) << file.status().message();
  OrderedJson j = cases_to_json(*file);
  EXPECT_EQ(j["description"], "extra top-level key");
  EXPECT_EQ(j["cases"][0]["custom"], 5);

  EvalRun run;
  CaseResult r;
  r.id = "a";
  r.decision.agent_id = 5;
  r.decision.role_id = 2;
  run.results.push_back(r);
  CasesFile refreshed = with_returned_expectations(*file, run);
  auto again = parse_cases(cases_to_text(refreshed), "refreshed");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->cases[0].expected, (ExpectedRoute{5, 2}));
  EXPECT_EQ(cases_to_json(*again)["cases"][0]["custom"], 5);
}

TEST(EvalCases, ErrorsNameFileCaseAndField) {
  struct Bad {
    const char* text;
    const char* needle;
  };
  const Bad bad[] = {
      {R"({"cases": []})", "f.json: field 'schema_version' is missing"},
      {R"({"schema_version": 2, "cases": []})", "schema_version' must be 1"},
      {R"({"schema_version": 1})", "field 'cases' is missing"},
      {R"({"schema_version": 1, "cases": [{"messages": []}]})", "cases[0]: field 'id'"},
      {R"({"schema_version": 1, "cases": [{"id": "x"}]})", "cases[0] (id 'x'): field 'messages'"},
      {R"({"schema_version": 1, "cases": [{"id": "x", "messages": [{"role": "bot",
        "content": "a"}]}]})",
       "role must be system, user or assistant"},
      {R"({"schema_version": 1, "cases": [{"id": "x", "messages": [{"role": "user",
        "content": "a"}], "expected": {"agent_id": 9, "role_id": 0}}]})",
       "(id 'x'): field 'expected': field 'agent_id' must be in 0..6"},
      {R"({"schema_version": 1, "cases": [{"id": "x", "messages": [{"role": "user",
        "content": "a"}], "expected": {"agent_id": 1}}]})",
       "field 'role_id' is missing"},
      {R"({"schema_version": 1, "cases": [{"id": "x", "messages": [{"role": "user",
        "content": "a"}], "tags": "t"}]})",
       "field 'tags' must be an array"},
      {R"({"schema_version": 1, "cases": [
        {"id": "x", "messages": [{"role": "user", "content": "a"}]},
        {"id": "x", "messages": [{"role": "user", "content": "b"}]}]})",
       "cases[1]: duplicate id 'x'"},
      {R"({"schema_version": 1, "cases": [)", "f.json: invalid JSON"},
      {R"({"schema_version": 1, "x": -1.07e47393659, "cases": []})", "f.json: invalid JSON"},
  };
  for (const auto& b : bad) {
    auto r = parse_cases(b.text, "f.json");
    ASSERT_FALSE(r.ok()) << b.text;
    EXPECT_NE(r.status().message().find(b.needle), std::string::npos)
        << r.status().message() << "\n  wanted: " << b.needle;
  }
}

TEST(EvalCases, MissingFileIsAClearError) {
  auto r = load_cases_file("/nonexistent/cases.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/nonexistent/cases.json"), std::string::npos);
}

TEST(EvalSnapshot, GoldenSnapshotsRoundTripByteForByte) {
  for (const char* name : {"f32", "bf16"}) {
    const std::string path = golden_routes_dir() + "/" + name + ".snapshot.json";
    auto snap = load_snapshot_file(path);
    ASSERT_TRUE(snap.ok()) << snap.status().message();
    ASSERT_EQ(snap->cases.size(), 6u) << name;
    EXPECT_EQ(snap->schema_version, 1);
    EXPECT_FALSE(snap->generated_at.empty());
    EXPECT_EQ(snapshot_to_text(*snap), read_or_die(path)) << name;
  }
}

// The writer on decisions rebuilt from the reference's unrounded f32 logits reproduces the
// reference snapshot exactly (rounding, margins, hashes, key order, number formatting).
TEST(EvalSnapshot, WriterReproducesTheReferenceFromDecisions) {
  testing::GoldenRouter router(golden_routes_dir() + "/f32.details.json");
  ASSERT_EQ(router.size(), 6u);
  auto cases = load_cases_file(golden_routes_dir() + "/cases.json");
  ASSERT_TRUE(cases.ok()) << cases.status().message();
  auto golden = load_snapshot_file(golden_routes_dir() + "/f32.snapshot.json");
  ASSERT_TRUE(golden.ok());

  EvalOptions opt;
  opt.snapshot = &*golden;
  auto run = run_eval(router, cases->cases, opt);
  ASSERT_TRUE(run.ok()) << run.status().message();
  for (const auto& r : run->results) {
    EXPECT_EQ(r.verdict, Verdict::kPass) << r.id << ": " << ::testing::PrintToString(r.failures);
    EXPECT_TRUE(r.snapshot_checked) << r.id;
  }
  Snapshot mine = snapshot_from_run(*run);
  mine.generated_at = golden->generated_at;
  EXPECT_EQ(snapshot_to_text(mine), read_or_die(golden_routes_dir() + "/f32.snapshot.json"));

  const std::string out =
      ::testing::TempDir() + "/" + std::to_string(::getpid()) + "_eval_snapshot_out.json";
  ASSERT_TRUE(write_snapshot_file(out, mine).ok());
  EXPECT_EQ(read_or_die(out), snapshot_to_text(mine));
}

TEST(EvalSnapshot, OnlyTheReferencesRequiredKeysAreNeeded) {
  // An entry with id, agent_id, role_id, token_count and transcript_hash alone.
  const std::string text =
      R"({"schema_version":1,"cases":[{"id":"a","agent_id":3,"role_id":1,"token_count":4,)"
      R"("transcript_hash":"abc"},{"id":"b","agent_id":0,"role_id":2,"token_count":9,)"
      R"("transcript_hash":"def","agent_margin":null,"route_hash":null}]})";
  auto s = parse_snapshot(text, "ref.json");
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_EQ(s->cases.size(), 2u);
  EXPECT_EQ(s->cases[0].token_count, 4);
  EXPECT_TRUE(s->cases[0].agent_logits_rounded.empty());
  EXPECT_TRUE(s->cases[0].route_hash.empty());
  EXPECT_FALSE(s->cases[1].agent_margin.has_value());
  // Written back, absent fields stay absent.
  auto again = parse_snapshot(snapshot_to_text(*s), "again.json");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(snapshot_to_json(*again), snapshot_to_json(*s));
  for (const char* key : {"id", "agent_id", "role_id", "token_count", "transcript_hash"}) {
    Json d = Json::parse(text);
    d["cases"][0].erase(key);
    auto r = parse_snapshot(d.dump(), "ref.json");
    ASSERT_FALSE(r.ok()) << key;
    EXPECT_NE(r.status().message().find(key), std::string::npos) << r.status().message();
  }
}

TEST(EvalSnapshot, ErrorsNameFileCaseAndField) {
  const std::string good = read_or_die(golden_routes_dir() + "/f32.snapshot.json");
  auto doc = Json::parse(good);
  {
    Json d = doc;
    d["cases"][1].erase("token_count");
    auto r = parse_snapshot(d.dump(), "s.json");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("s.json: cases[1] (id 'g2_unicode'): field 'token_count'"),
              std::string::npos)
        << r.status().message();
  }
  {
    Json d = doc;
    d["cases"][0]["agent_logits_rounded"].push_back(1.0);
    auto r = parse_snapshot(d.dump(), "s.json");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("'agent_logits_rounded' must be an array of 7"),
              std::string::npos)
        << r.status().message();
  }
  {
    auto r = parse_snapshot(R"({"schema_version": 1, "cases": [], "x": 1e999999})", "s.json");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("s.json: invalid JSON"), std::string::npos);
  }
  {
    Json d = doc;
    d["schema_version"] = 3;
    auto r = parse_snapshot(d.dump(), "s.json");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("schema_version"), std::string::npos);
  }
  {
    Json d = doc;
    d["cases"][2]["id"] = "g1_math";
    auto r = parse_snapshot(d.dump(), "s.json");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("duplicate id 'g1_math'"), std::string::npos);
  }
}

}  // namespace
}  // namespace trinity::eval
