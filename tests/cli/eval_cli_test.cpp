// `trinity eval` end to end with the model-free mock_tiny profile.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

#include "core/file_util.h"
#include "core/json.h"
#include "eval/cases.h"
#include "eval/snapshot.h"
#include "router/mock_tiny.h"

namespace trinity {
namespace {

struct CmdResult {
  int rc = -1;
  std::string out, err;
};

class EvalCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/eval_cli_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    ASSERT_TRUE(make_dirs(dir_).ok());
    // Cases whose expectations are mock_tiny's own routes.
    auto file =
        eval::load_cases_file(std::string(TRINITY_TEST_DATA_DIR) + "/golden/routes/cases.json");
    ASSERT_TRUE(file.ok()) << file.status().message();
    MockTinyRouter mock;
    for (auto& c : file->cases) {
      auto d = mock.route(c.messages);
      ASSERT_TRUE(d.ok());
      c.expected = eval::ExpectedRoute{d->agent_id, d->role_id};
    }
    cases_ = dir_ + "/mock_cases.json";
    ASSERT_TRUE(write_file_atomic(cases_, eval::cases_to_text(*file)).ok());
    file_ = std::move(file).value();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs `trinity eval --profile mock_tiny <args>` in `cwd` (default: the temp dir). These
  // tests check trinity's assertions, so they pass --assert (mock_tiny cases are otherwise
  // REPORT ONLY, as in the reference) unless `args` asks for --no-assert or `reference_mode`.
  CmdResult eval(const std::string& args, const std::string& cwd = "",
                 bool reference_mode = false) {
    const std::string err_path = dir_ + "/stderr.txt";
    const bool assert_flag = !reference_mode && args.find("--no-assert") == std::string::npos;
    const std::string cmd = "cd '" + (cwd.empty() ? dir_ : cwd) +
                            "' && '" TRINITY_BINARY "' eval --profile mock_tiny " +
                            (assert_flag ? "--assert " : "") + args + " 2>'" + err_path + "'";
    CmdResult r;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return r;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
    const int status = ::pclose(p);
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    auto e = read_file(err_path);
    if (e.ok()) r.err = *e;
    return r;
  }

  std::string dir_, cases_;
  eval::CasesFile file_;
};

// mock_tiny's role margins are 1 + h/255 (>= 1): a 0.5 floor passes them all.
const char* kFloors = " --min-agent-margin 0.5 --min-role-margin 0.5";

TEST_F(EvalCli, ListCasesAndUnknownCase) {
  CmdResult r = eval("--cases mock_cases.json --list-cases");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out,
            "g1_math\ng2_unicode\ng3_system_user\ng4_three_messages\ng5_whitespace\n"
            "g6_minimal\n");
  r = eval("--cases mock_cases.json --case g1_math --case nope_42");
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("nope_42"), std::string::npos) << r.err;
  r = eval("--cases missing.json");
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("missing.json"), std::string::npos) << r.err;
}

TEST_F(EvalCli, AllPassTextOutput) {
  CmdResult r = eval("--cases mock_cases.json --verbose --show-logits --determinism-runs 3" +
                     std::string(kFloors));
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("profile  : mock_tiny"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("snapshot : none"), std::string::npos);
  EXPECT_NE(r.out.find("[1/6] g1_math - PASS"), std::string::npos);
  EXPECT_NE(r.out.find("[6/6] g6_minimal - PASS"), std::string::npos);
  EXPECT_NE(r.out.find("transcript_hash "), std::string::npos);
  EXPECT_NE(r.out.find("agent_logits ["), std::string::npos);
  EXPECT_NE(r.out.find("passed 6, failed 0 (of 6)"), std::string::npos);
  EXPECT_NE(r.out.find("3 runs, all route_hashes stable"), std::string::npos);
  EXPECT_NE(r.out.find("ALL PASSED"), std::string::npos);
}

TEST_F(EvalCli, WrongExpectationFailsAndListsTheId) {
  eval::CasesFile f = file_;
  f.cases[2].expected->role_id = (f.cases[2].expected->role_id + 1) % 3;
  ASSERT_TRUE(write_file_atomic(cases_, eval::cases_to_text(f)).ok());
  CmdResult r = eval("--cases mock_cases.json" + std::string(kFloors));
  EXPECT_EQ(r.rc, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("[3/6] g3_system_user - FAIL"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("g3_system_user"), std::string::npos) << r.err;
  r = eval("--cases mock_cases.json --no-assert" + std::string(kFloors));
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("[3/6] g3_system_user - REPORT ONLY"), std::string::npos) << r.out;
  // Only the selected case runs.
  r = eval("--cases mock_cases.json --case g1_math --json" + std::string(kFloors));
  ASSERT_EQ(r.rc, 0) << r.err;
  Json j = Json::parse(r.out);
  EXPECT_EQ(j["cases"].size(), 1u);
}

// A cases file and snapshot as the reference writes them: its file name in the profile's
// fixture directory, entries with only the required keys, and one case with no entry (passes).
TEST_F(EvalCli, ReferenceSnapshotFileIsFoundAndMissingEntriesPass) {
  Json entries = Json::array();
  MockTinyRouter mock;
  for (size_t i = 1; i < file_.cases.size(); ++i) {  // no entry for the first case
    auto d = mock.route(file_.cases[i].messages);
    ASSERT_TRUE(d.ok());
    entries.push_back({{"id", file_.cases[i].id},
                       {"agent_id", d->agent_id},
                       {"role_id", d->role_id},
                       {"token_count", d->token_count},
                       {"transcript_hash", d->transcript_hash}});
  }
  const std::string fixture = dir_ + "/fixtures/runtime_profiles/mock_tiny";
  ASSERT_TRUE(make_dirs(fixture).ok());
  ASSERT_TRUE(write_file_atomic(fixture + "/qwen_router_prompt_eval_logits.json",
                                Json{{"schema_version", 1}, {"cases", entries}}.dump())
                  .ok());
  CmdResult r = eval("--cases mock_cases.json --json" + std::string(kFloors));
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  Json j = Json::parse(r.out);
  EXPECT_EQ(j["snapshot"]["source"], "profile fixture");
  EXPECT_NE(j["snapshot"]["path"].get<std::string>().find("qwen_router_prompt_eval_logits.json"),
            std::string::npos);
  EXPECT_EQ(j["cases"][0]["snapshot"]["missing"], true);
  EXPECT_EQ(j["cases"][0]["verdict"], "PASS");
  EXPECT_EQ(j["cases"][1]["snapshot"]["checked"], true);
  // A differing entry still fails.
  entries[0]["token_count"] = entries[0]["token_count"].get<int>() + 1;
  ASSERT_TRUE(write_file_atomic(fixture + "/qwen_router_prompt_eval_logits.json",
                                Json{{"schema_version", 1}, {"cases", entries}}.dump())
                  .ok());
  r = eval("--cases mock_cases.json" + std::string(kFloors));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.err.find(file_.cases[1].id), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("no entry for any"), std::string::npos) << r.err;
  // A snapshot that knows none of the cases compares nothing: every case passes, with a warning.
  ASSERT_TRUE(write_file_atomic(fixture + "/qwen_router_prompt_eval_logits.json",
                                R"({"schema_version":1,"cases":[{"id":"other","agent_id":0,)"
                                R"("role_id":0,"token_count":1,"transcript_hash":"x"}]})")
                  .ok());
  r = eval("--cases mock_cases.json" + std::string(kFloors));
  EXPECT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("has no entry for any of the 6 case(s)"), std::string::npos) << r.err;
}

TEST_F(EvalCli, SnapshotOutThenProfileFixtureResolutionAndTokenCountFailure) {
  CmdResult r = eval(
      "--cases mock_cases.json --snapshot-out snap.json --write-expected refreshed.json"
      " --trace-out trace.jsonl --report report.html --json" +
      std::string(kFloors));
  ASSERT_EQ(r.rc, 0) << r.err;
  Json j = Json::parse(r.out);
  EXPECT_EQ(j["summary"]["passed"], 6);
  EXPECT_EQ(j["profile"], "mock_tiny");
  EXPECT_NE(r.err.find("wrote snapshot of 6 case(s) to snap.json"), std::string::npos) << r.err;

  auto snap = eval::load_snapshot_file(dir_ + "/snap.json");
  ASSERT_TRUE(snap.ok()) << snap.status().message();
  EXPECT_EQ(snap->cases.size(), 6u);
  auto refreshed = eval::load_cases_file(dir_ + "/refreshed.json");
  ASSERT_TRUE(refreshed.ok());
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(refreshed->cases[i].expected, file_.cases[i].expected);
  auto trace = read_file(dir_ + "/trace.jsonl");
  ASSERT_TRUE(trace.ok());
  EXPECT_NE(trace->find("\"event\":\"route_eval_result\""), std::string::npos);
  auto html = read_file(dir_ + "/report.html");
  ASSERT_TRUE(html.ok());
  EXPECT_NE(html->find("<svg class=\"bars\""), std::string::npos);

  // The profile's own fixture (relative to the current directory) is picked up...
  const std::string fixture = dir_ + "/fixtures/runtime_profiles/mock_tiny";
  ASSERT_TRUE(make_dirs(fixture).ok());
  eval::Snapshot changed = *snap;
  changed.cases[1].token_count += 1;                // must fail
  changed.cases[3].agent_logits_rounded[0] += 0.5;  // must not
  ASSERT_TRUE(eval::write_snapshot_file(fixture + "/mock_cases_logits.json", changed).ok());
  r = eval("--cases mock_cases.json" + std::string(kFloors));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("(profile fixture)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[2/6] g2_unicode - FAIL"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[4/6] g4_three_messages - PASS"), std::string::npos) << r.out;
  // ...--snapshot wins over it...
  r = eval("--cases mock_cases.json --snapshot snap.json" + std::string(kFloors));
  EXPECT_EQ(r.rc, 0) << r.out;
  // ...and another profile's fixture is never used.
  std::filesystem::rename(fixture, dir_ + "/fixtures/runtime_profiles/cpu");
  r = eval("--cases mock_cases.json" + std::string(kFloors));
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("snapshot : none"), std::string::npos) << r.out;
}

TEST_F(EvalCli, ProfileDefaultFloorsApply) {
  // Without flags the profile's reflex floors (0.24 / 1.06) are used and shown.
  CmdResult r = eval("--cases mock_cases.json --json");
  Json j = Json::parse(r.out);
  EXPECT_DOUBLE_EQ(j["floors"]["agent"].get<double>(), 0.24);
  EXPECT_DOUBLE_EQ(j["floors"]["role"].get<double>(), 1.06);
  EXPECT_EQ(j["floors"]["source"], "profile defaults");
  int below = 0;
  for (const auto& c : j["cases"]) below += c["decision"]["role_margin"].get<double>() < 1.06;
  EXPECT_EQ(j["summary"]["failed"], below);
  EXPECT_EQ(r.rc, below ? 1 : 0);
}

// The reference's text form, line by line, for two cases; mock_tiny cases are REPORT ONLY by
// default (even with a wrong expectation), as in the reference.
TEST_F(EvalCli, ReferenceFormatLineByLine) {
  ASSERT_GE(file_.cases.size(), 2u);
  eval::CasesFile wrong = file_;
  wrong.cases[1].expected->agent_id = (wrong.cases[1].expected->agent_id + 1) % 7;
  ASSERT_TRUE(write_file_atomic(dir_ + "/wrong.json", eval::cases_to_text(wrong)).ok());
  const std::string a = file_.cases[0].id, b = file_.cases[1].id;
  auto r = eval("--cases wrong.json --format reference --case " + a + " --case " + b, "", true);
  ASSERT_EQ(r.rc, 0) << r.err << r.out;

  MockTinyRouter mock;
  auto block = [&](size_t i, const eval::EvalCase& c) {
    auto d = mock.route(c.messages);
    EXPECT_TRUE(d.ok());
    auto route = [](int agent, int role) {
      return "  agent " + std::to_string(agent) + ": " + agent_label(agent) + "\n  role  " +
             std::to_string(role) + ": " + role_name(role) + "\n";
    };
    return "\n[" + std::to_string(i) + "/2] " + c.id + " - REPORT ONLY\n\nExpected route:\n" +
           route(c.expected->agent_id, c.expected->role_id) + "\nRouter returned:\n" +
           route(d->agent_id, d->role_id) +
           "\nRouter input tokens: " + std::to_string(d->token_count) + "\n";
  };
  std::string roles, agents;
  {
    std::map<int, int> rc, ac;
    for (size_t i = 0; i < 2; ++i) {
      auto d = mock.route(file_.cases[i].messages);
      rc[d->role_id]++;
      ac[d->agent_id]++;
    }
    for (auto [k, v] : rc)
      roles += (roles.empty() ? "" : ", ") + std::string(role_name(k)) + "=" + std::to_string(v);
    for (auto [k, v] : ac)
      agents += (agents.empty() ? "" : ", ") + std::to_string(k) + "=" + std::to_string(v);
  }
  const std::string expected =
      "\n=== QWEN ROUTER PROMPT EVAL ===\n\nArtifact\n  -\n\nRuntime profile\n  mock_tiny\n\n"
      "Native logs\n  hidden in normal mode: tmp/examples/qwen_router_prompt_eval.native.log\n"
      "  use --debug-native-logs to print XLA/CUDA compiler logs inline\n\n" +
      block(1, wrong.cases[0]) + block(2, wrong.cases[1]) +
      "\n\nSummary\n  passed: 2\n  failed: 0\n  roles selected: " + roles +
      "\n  agent slots selected: " + agents + "\n\nPASS qwen_router_prompt_eval\n\n";
  EXPECT_EQ(r.out, expected);

  // With --assert the wrong expectation fails: the reference's failure line, exit 1.
  auto f = eval("--cases wrong.json --format reference --case " + a + " --case " + b);
  EXPECT_EQ(f.rc, 1);
  EXPECT_NE(f.out.find("\nqwen_router_prompt_eval failed cases=" + b + "\n"), std::string::npos)
      << f.out;
  EXPECT_EQ(f.out.find("Summary"), std::string::npos);
}

TEST_F(EvalCli, ReflexReportAndTraces) {
  auto r = eval(
      "--cases mock_cases.json --format reference --reflex-report --reflex-margin-mode absolute "
      "--reflex-low-agent-margin 999 --reflex-low-role-margin 999 --reflex-high-agent-margin 1000 "
      "--reflex-high-role-margin 1000 --trace-out t.jsonl --reflex-trace-out rx.jsonl",
      "", true);
  ASSERT_EQ(r.rc, 0) << r.err;
  const size_t n = file_.cases.size();
  EXPECT_NE(r.out.find("\nReflex classification\n  " + file_.cases[0].id +
                       ": low -> thinker_then_verifier\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\nReflex summary\n  high: 0\n  medium: 0\n  low: " + std::to_string(n) +
                       "\n  direct_dispatch: 0\n  normal_dispatch: 0\n  thinker_then_verifier: " +
                       std::to_string(n) + "\n"),
            std::string::npos)
      << r.out;
  for (const char* path : {"t.jsonl", "rx.jsonl"}) {
    auto text = read_file(dir_ + "/" + path);
    ASSERT_TRUE(text.ok());
    std::vector<Json> lines;
    size_t start = 0, end;
    while ((end = text->find('\n', start)) != std::string::npos) {
      lines.push_back(Json::parse(text->substr(start, end - start)));
      start = end + 1;
    }
    ASSERT_EQ(lines.size(), 2 * n) << path;
    const Json& route = lines[0];
    const Json& second = lines[1];
    EXPECT_EQ(route["event"], "route_decision");
    EXPECT_EQ(route["route_path"], "qwen_router_prompt_eval");
    EXPECT_EQ(route["runtime_profile"], "mock_tiny");
    EXPECT_EQ(route["run_id"], "qwen-router-prompt-eval:" + file_.cases[0].id);
    EXPECT_FALSE(route.contains("artifact_root"));
    if (std::string(path) == "t.jsonl") {
      EXPECT_EQ(second["event"], "route_eval_result");
      EXPECT_EQ(second["status"], "report");
      EXPECT_EQ(second["expected_agent_id"], file_.cases[0].expected->agent_id);
    } else {
      EXPECT_EQ(second["event"], "reflex_decision");
      EXPECT_EQ(second["confidence_class"], "low");
      EXPECT_EQ(second["action"], "thinker_then_verifier");
      EXPECT_EQ(second["thresholds"]["low_agent"], 999.0);
      EXPECT_EQ(second["forced_sequence"], Json::array({"thinker", "verifier"}));
    }
  }
  auto same = eval("--cases mock_cases.json --trace-out x.jsonl --reflex-trace-out x.jsonl");
  EXPECT_EQ(same.rc, 2);
  EXPECT_NE(same.err.find("must use different paths"), std::string::npos) << same.err;
  auto neg = eval("--cases mock_cases.json --reflex-high-agent-margin -1");
  EXPECT_EQ(neg.rc, 2);
  EXPECT_NE(neg.err.find("reflex high agent margin must be a finite number >= 0"),
            std::string::npos)
      << neg.err;
}

}  // namespace
}  // namespace trinity
