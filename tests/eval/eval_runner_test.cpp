// Verdicts (expected route, floors, snapshot fields), snapshot resolution per profile, and
// determinism detection with an injected nondeterministic router.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "core/file_util.h"
#include "eval/refresh.h"
#include "eval/resolve.h"
#include "eval/runner.h"
#include "eval/snapshot.h"
#include "eval_test_util.h"

namespace trinity::eval {
namespace {

using testing::make_case;
using testing::ScriptedRouter;

// Agent 0 (margin 3.0), role 1 (margin 2.5) from ScriptedRouter's default logits.
std::vector<EvalCase> two_cases() {
  return {make_case("c1", "first prompt", 0, 1), make_case("c2", "second prompt", 0, 1)};
}

Snapshot snapshot_of(const Router& router, const std::vector<EvalCase>& cases) {
  auto run = run_eval(router, cases, EvalOptions{});
  EXPECT_TRUE(run.ok());
  return snapshot_from_run(*run);
}

TEST(EvalVerdict, ExpectedRouteAndFloors) {
  ScriptedRouter router;
  auto cases = two_cases();
  cases[1].expected = ExpectedRoute{0, 2};  // role differs
  EvalOptions opt;
  opt.floors = {0.5, 1.0};
  auto run = run_eval(router, cases, opt);
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(run->results[0].verdict, Verdict::kPass);
  EXPECT_EQ(run->results[1].verdict, Verdict::kFail);
  ASSERT_EQ(run->results[1].failures.size(), 1u);
  EXPECT_NE(run->results[1].failures[0].find("expected"), std::string::npos);
  EXPECT_EQ(run->summary.passed, 1);
  EXPECT_EQ(run->summary.failed, 1);
  EXPECT_EQ(run->summary.failed_ids, std::vector<std::string>{"c2"});
  EXPECT_EQ(run->summary.roles_selected[1], 2);
  EXPECT_EQ(run->summary.agents_selected[0], 2);
  ASSERT_TRUE(run->summary.min_agent_margin.has_value());
  EXPECT_DOUBLE_EQ(*run->summary.min_agent_margin, 3.0);
  EXPECT_DOUBLE_EQ(*run->summary.min_role_margin, 2.5);

  // A floor above the margin fails every case; --no-assert reports without failing.
  opt.floors = {3.5, 1.0};
  run = run_eval(router, two_cases(), opt);
  ASSERT_TRUE(run.ok());
  for (const auto& r : run->results) {
    EXPECT_EQ(r.verdict, Verdict::kFail);
    ASSERT_EQ(r.failures.size(), 1u);
    EXPECT_NE(r.failures[0].find("agent margin 3.000000 < floor 3.500000"), std::string::npos);
  }
  opt.floors = {0.5, 2.6};
  run = run_eval(router, two_cases(), opt);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->summary.failed, 2);
  EXPECT_NE(run->results[0].failures[0].find("role margin"), std::string::npos);
  opt.assert_results = false;
  run = run_eval(router, two_cases(), opt);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->summary.failed, 0);
  EXPECT_EQ(run->summary.report_only, 2);
  EXPECT_EQ(run->results[0].verdict, Verdict::kReportOnly);
  EXPECT_FALSE(run->results[0].failures.empty());  // still reported
}

TEST(EvalVerdict, CaseWithoutExpectationIsCheckedOnFloorsOnly) {
  ScriptedRouter router;
  auto cases = two_cases();
  cases[0].expected.reset();
  auto run = run_eval(router, cases, EvalOptions{});
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->results[0].verdict, Verdict::kPass);
}

TEST(EvalVerdict, SnapshotTokenCountChangeFailsLogitsChangeDoesNot) {
  ScriptedRouter router;
  const auto cases = two_cases();
  Snapshot snap = snapshot_of(router, cases);
  EvalOptions opt;
  opt.snapshot = &snap;
  opt.floors = {0.5, 1.0};

  auto run = run_eval(router, cases, opt);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->summary.passed, 2);

  // Logits, margins and route_hash are not compared with the snapshot.
  Snapshot logits_changed = snap;
  logits_changed.cases[0].agent_logits_rounded[0] += 0.5;
  logits_changed.cases[0].role_logits_rounded[2] -= 0.25;
  logits_changed.cases[0].agent_margin = 99.0;
  logits_changed.cases[0].route_hash = std::string(64, '0');
  opt.snapshot = &logits_changed;
  run = run_eval(router, cases, opt);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->results[0].verdict, Verdict::kPass)
      << ::testing::PrintToString(run->results[0].failures);

  // token_count is.
  Snapshot tokens_changed = snap;
  tokens_changed.cases[0].token_count += 1;
  opt.snapshot = &tokens_changed;
  run = run_eval(router, cases, opt);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->results[0].verdict, Verdict::kFail);
  EXPECT_EQ(run->results[0].snapshot_mismatches, std::vector<std::string>{"token_count"});
  EXPECT_EQ(run->results[1].verdict, Verdict::kPass);

  // So are agent_id, role_id and transcript_hash.
  for (const std::string field : {"agent_id", "role_id", "transcript_hash"}) {
    Snapshot changed = snap;
    if (field == "agent_id") changed.cases[1].agent_id = 3;
    if (field == "role_id") changed.cases[1].role_id = 0;
    if (field == "transcript_hash") changed.cases[1].transcript_hash[0] ^= 1;
    opt.snapshot = &changed;
    run = run_eval(router, cases, opt);
    ASSERT_TRUE(run.ok());
    EXPECT_EQ(run->results[1].verdict, Verdict::kFail) << field;
    EXPECT_EQ(run->results[1].snapshot_mismatches, std::vector<std::string>{field});
  }

  // A case the snapshot does not know passes its snapshot check, as in the reference
  // (`is_nil(expected)`), and is reported as having no entry.
  Snapshot partial = snap;
  partial.cases.pop_back();
  opt.snapshot = &partial;
  run = run_eval(router, cases, opt);
  ASSERT_TRUE(run.ok());
  EXPECT_TRUE(run->results[1].snapshot_missing);
  EXPECT_FALSE(run->results[1].snapshot_checked);
  EXPECT_EQ(run->results[1].verdict, Verdict::kPass);
  EXPECT_TRUE(run->results[1].failures.empty());
}

TEST(EvalDeterminism, StableRouterUsesBatchesAndReportsNothing) {
  ScriptedRouter router;
  EvalOptions opt;
  opt.determinism_runs = 4;
  auto run = run_eval(router, two_cases(), opt);
  ASSERT_TRUE(run.ok());
  EXPECT_TRUE(run->determinism.empty());
  EXPECT_EQ(run->determinism_runs, 4);
  EXPECT_EQ(router.batch_calls.load(), 4);  // one batched pass per run
  EXPECT_EQ(router.calls.load(), 8);
  EXPECT_EQ(run->summary.failed, 0);
  // Every extra pass recomputes: the prefix cache is cleared before it (not before the first).
  EXPECT_EQ(router.events, "bcbcbcb");

  ScriptedRouter single;
  ASSERT_TRUE(run_eval(single, two_cases(), EvalOptions{}).ok());
  EXPECT_EQ(single.events, "b");  // one pass: nothing cleared
}

TEST(EvalDeterminism, NondeterministicRouterIsDetected) {
  ScriptedRouter router;
  router.drift_after_calls = 2;  // the first pass (2 calls) is stable, later passes drift
  router.drift_case_substring = "second";
  EvalOptions opt;
  opt.determinism_runs = 3;
  auto run = run_eval(router, two_cases(), opt);
  ASSERT_TRUE(run.ok()) << run.status().message();
  ASSERT_EQ(run->determinism.size(), 2u);  // c2 in runs 2 and 3
  EXPECT_EQ(run->determinism[0].id, "c2");
  EXPECT_EQ(run->determinism[0].run, 2);
  EXPECT_EQ(run->determinism[1].run, 3);
  EXPECT_NE(run->determinism[0].route_hash, run->determinism[0].first_route_hash);
  EXPECT_EQ(run->results[0].verdict, Verdict::kPass);
  EXPECT_EQ(run->results[1].verdict, Verdict::kFail);
  EXPECT_EQ(run->summary.failed_ids, std::vector<std::string>{"c2"});

  EvalOptions bad;
  bad.determinism_runs = 0;
  EXPECT_FALSE(run_eval(router, two_cases(), bad).ok());
}

TEST(EvalRun, RouterErrorNamesTheCase) {
  class Failing final : public Router {
   public:
    Result<RouteDecision> route(const std::vector<Message>& m) const override {
      if (m[0].content == "second prompt") return invalid_argument("cannot route this");
      return make_route_decision(m, {1, 0, 0, 0, 0, 0, 0}, {1, 0, 0});
    }
    std::string profile() const override { return "failing"; }
  } failing;
  auto run = run_eval(failing, two_cases(), EvalOptions{});
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.status().message().find("case 'c2'"), std::string::npos) << run.status().message();
}

class ResolveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = ::testing::TempDir() + "/eval_resolve_" + std::to_string(::getpid());
    std::filesystem::remove_all(root_);
    ASSERT_TRUE(make_dirs(root_ + "/fixtures/runtime_profiles/reference").ok());
    ASSERT_TRUE(make_dirs(root_ + "/fixtures/runtime_profiles/cpu").ok());
    ASSERT_TRUE(write_file_atomic(
                    root_ + "/fixtures/runtime_profiles/reference/router_cases_logits.json", "{}")
                    .ok());
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::string root_;
};

TEST_F(ResolveTest, ProfileFixtureFlagAndNoFallback) {
  auto rel = profile_snapshot_relpath("reference", "evals/router_cases.json");
  ASSERT_TRUE(rel.ok());
  EXPECT_EQ(*rel, "fixtures/runtime_profiles/reference/router_cases_logits.json");

  auto c = resolve_snapshot("", "reference", "evals/router_cases.json", {root_});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->source, SnapshotSource::kProfileFixture);
  EXPECT_EQ(c->path, root_ + "/fixtures/runtime_profiles/reference/router_cases_logits.json");

  // The cpu profile has a directory but no snapshot: none, never reference's.
  c = resolve_snapshot("", "cpu", "evals/router_cases.json", {root_});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->source, SnapshotSource::kNone);
  EXPECT_TRUE(c->path.empty());
  EXPECT_EQ(c->looked_for,
            "fixtures/runtime_profiles/cpu/router_cases_logits.json or "
            "fixtures/runtime_profiles/cpu/qwen_router_prompt_eval_logits.json");

  // Other stems do not match.
  c = resolve_snapshot("", "reference", "other/cases.json", {root_});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->source, SnapshotSource::kNone);

  // --snapshot wins, and must exist.
  const std::string flag = root_ + "/fixtures/runtime_profiles/reference/router_cases_logits.json";
  c = resolve_snapshot(flag, "cpu", "evals/router_cases.json", {root_});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->source, SnapshotSource::kFlag);
  EXPECT_EQ(c->path, flag);
  EXPECT_FALSE(resolve_snapshot(root_ + "/missing.json", "cpu", "x.json", {root_}).ok());

  // The first root holding the file wins.
  const std::string other = root_ + "/second";
  ASSERT_TRUE(make_dirs(other + "/fixtures/runtime_profiles/cpu").ok());
  ASSERT_TRUE(
      write_file_atomic(other + "/fixtures/runtime_profiles/cpu/router_cases_logits.json", "{}")
          .ok());
  c = resolve_snapshot("", "cpu", "evals/router_cases.json", {root_, other});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->path, other + "/fixtures/runtime_profiles/cpu/router_cases_logits.json");

  // The reference's own file name is found beside ours, for any cases file; ours wins.
  const std::string ref_name =
      root_ + "/fixtures/runtime_profiles/cpu/qwen_router_prompt_eval_logits.json";
  ASSERT_TRUE(write_file_atomic(ref_name, "{}").ok());
  c = resolve_snapshot("", "cpu", "elsewhere/qwen_router_prompt_eval_cases.json", {root_});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->source, SnapshotSource::kProfileFixture);
  EXPECT_EQ(c->path, ref_name);
  ASSERT_TRUE(
      write_file_atomic(root_ + "/fixtures/runtime_profiles/cpu/router_cases_logits.json", "{}")
          .ok());
  c = resolve_snapshot("", "cpu", "evals/router_cases.json", {root_});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->path, root_ + "/fixtures/runtime_profiles/cpu/router_cases_logits.json");
  // Ours wins across roots too: the reference's name in the first root, ours in the second.
  const std::string third = root_ + "/third";
  ASSERT_TRUE(make_dirs(third + "/fixtures/runtime_profiles/reference").ok());
  ASSERT_TRUE(write_file_atomic(
                  third + "/fixtures/runtime_profiles/reference/" + kReferenceSnapshotName, "{}")
                  .ok());
  c = resolve_snapshot("", "reference", "evals/router_cases.json", {third, root_});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->path, root_ + "/fixtures/runtime_profiles/reference/router_cases_logits.json");

  EXPECT_FALSE(profile_snapshot_relpath("../reference", "x.json").ok());
  EXPECT_FALSE(profile_snapshot_relpath("..", "x.json").ok());
}

}  // namespace
}  // namespace trinity::eval
