// Every path of the coordination loop, with a scripted router and scripted providers.
#include <random>
#include <thread>

#include "coord_test_util.h"
#include "router/mock_tiny.h"

namespace trinity::coord::testing {
namespace {

class LoopTest : public ::testing::Test {
 protected:
  LoopTest() : provider_(std::make_shared<ScriptedProvider>("scripted-model", &clock_)) {
    provider_->set(kRoleWorker, {{"42"}});
    provider_->set(kRoleThinker, {{"Think first."}});
    provider_->set(kRoleVerifier, {{"ACCEPT: correct"}});
  }
  RunResult run(std::vector<ScriptStep> steps, RunOptions opts = {}) {
    router_ = std::make_shared<ScriptedRouter>(std::move(steps));
    Orchestrator orch(router_, single_provider_pool(provider_));
    opts.clock = &clock_;
    opts.sinks.push_back(&sink_);
    opts.run_id = "test-run";
    return orch.run({{"user", "What is 6 * 7?"}}, opts);
  }
  // The reference's policy: a Verifier before any Worker answer fails the run.
  static RunOptions reference_opts() {
    RunOptions o;
    o.cold_verifier = ColdVerifier::kError;
    return o;
  }
  std::vector<std::string> dispatched_roles() {
    std::vector<std::string> r;
    for (const auto& req : provider_->requests()) r.push_back(role_name(req.role_id));
    return r;
  }

  FakeClock clock_;
  std::shared_ptr<ScriptedProvider> provider_;
  std::shared_ptr<ScriptedRouter> router_;
  MemorySink sink_;
};

TEST_F(LoopTest, WorkerThenVerifierAccept) {
  auto r = run({{3, kRoleWorker}, {5, kRoleVerifier}});
  ASSERT_TRUE(r.ok()) << r.status.message();
  EXPECT_EQ(r.outcome, "accepted");
  EXPECT_EQ(*r.answer, "42");
  EXPECT_EQ(r.usage.provider_calls, 2);
  EXPECT_EQ(dispatched_roles(), (std::vector<std::string>{"Worker", "Verifier"}));
  // The router sees the plain transcript: input + replies as assistant turns, no role prompts.
  auto seen = router_->seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], (std::vector<Message>{{"user", "What is 6 * 7?"}}));
  EXPECT_EQ(seen[1], (std::vector<Message>{{"user", "What is 6 * 7?"}, {"assistant", "42"}}));
  // The agent gets [system prompt, user rendering], and the verifier sees who said what.
  auto reqs = provider_->requests();
  ASSERT_EQ(reqs.size(), 2u);
  ASSERT_EQ(reqs[1].messages.size(), 2u);
  EXPECT_EQ(reqs[1].messages[0].role, "system");
  EXPECT_NE(reqs[1].messages[0].content.find("ACCEPT or REVISE"), std::string::npos);
  EXPECT_EQ(reqs[1].messages[1].role, "user");
  EXPECT_NE(reqs[1].messages[1].content.find("### assistant (turn 1: Worker, agent slot 3"),
            std::string::npos);
  EXPECT_EQ(reqs[0].agent_id, 3);
  EXPECT_EQ(reqs[1].agent_id, 5);
  EXPECT_EQ(sink_.types(),
            (std::vector<std::string>{
                "route_decision", "reflex_decision", "budget_snapshot", "budget_snapshot",
                "provider_dispatch_started", "provider_dispatch_finished", "budget_snapshot",
                "budget_snapshot", "route_decision", "reflex_decision", "budget_snapshot",
                "budget_snapshot", "provider_dispatch_started", "provider_dispatch_finished",
                "budget_snapshot", "budget_snapshot", "verifier_result", "run_finished"}));
  for (const auto& e : sink_.events) {
    EXPECT_EQ(e["schema_version"], 1);
    EXPECT_EQ(e["run_id"], "test-run");
    EXPECT_TRUE(e["timestamp_ms"].is_number_integer());
  }
  auto rd = sink_.of("route_decision")[0];
  EXPECT_EQ(rd["transcript_hash"].get<std::string>().size(), 64u);
  EXPECT_EQ(rd["route_hash"].get<std::string>().size(), 64u);
  EXPECT_EQ(rd["confidence_band"], "medium");
  EXPECT_EQ(sink_.of("run_finished")[0]["answer"], "42");
}

TEST_F(LoopTest, AcceptWithoutWorkerReturnsTheVerifierReply) {
  // Routed Verifier in the low band: reflex dispatches it even without a Worker answer.
  auto r = run({{0, kRoleVerifier, kLowAgent, kLowRole}}, reference_opts());
  ASSERT_TRUE(r.ok()) << r.status.message();
  EXPECT_EQ(*r.answer, "ACCEPT: correct");
}

TEST_F(LoopTest, ThinkerSuggestionIsFollowed) {
  provider_->set(kRoleThinker, {{"Plan.<suggestion>compute 6*7</suggestion><suggested_role> Solver "
                                 "</suggested_role>"}});
  // Turn 2 is routed Verifier but the Thinker's suggestion (solver -> Worker) wins.
  auto r = run({{1, kRoleThinker}, {2, kRoleVerifier}, {4, kRoleVerifier}});
  ASSERT_TRUE(r.ok()) << r.status.message();
  EXPECT_EQ(dispatched_roles(), (std::vector<std::string>{"Thinker", "Worker", "Verifier"}));
  EXPECT_EQ(provider_->requests()[1].agent_id, 2);  // the agent is always the routed one
  auto rd = sink_.of("route_decision")[1];
  EXPECT_EQ(rd["routed_role_name"], "Verifier");
  EXPECT_EQ(rd["role_name"], "Worker");
  EXPECT_EQ(rd["role_override_source"], "thinker");
  EXPECT_EQ(sink_.of("provider_dispatch_finished")[0]["thinker_suggested_role"], "Worker");
}

TEST_F(LoopTest, ThinkerWithoutValidSuggestionKeepsRouting) {
  provider_->set(kRoleThinker,
                 {{"<suggestion>x</suggestion><suggested_role>thinker</suggested_role>"}});
  auto r = run({{1, kRoleThinker}, {2, kRoleWorker}, {4, kRoleVerifier}});
  ASSERT_TRUE(r.ok()) << r.status.message();
  EXPECT_EQ(dispatched_roles(), (std::vector<std::string>{"Thinker", "Worker", "Verifier"}));
}

TEST_F(LoopTest, ThinkerSuggestingVerifierBeforeWorkerFails) {
  provider_->set(kRoleThinker,
                 {{"<suggestion>check</suggestion><suggested_role>verifier</suggested_role>"}});
  auto r = run({{1, kRoleThinker}, {2, kRoleWorker}}, reference_opts());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.failure_reason, "verifier_before_worker_response");
}

TEST_F(LoopTest, VerifierBeforeWorkerFailsWithoutDispatch) {
  auto r = run({{0, kRoleVerifier}}, reference_opts());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure_reason, "verifier_before_worker_response");
  EXPECT_NE(r.status.message().find("verifier_before_worker_response"), std::string::npos);
  EXPECT_TRUE(provider_->requests().empty());
  auto failed = sink_.of("run_failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["reason"], "verifier_before_worker_response");
  EXPECT_TRUE(sink_.of("provider_dispatch_started").empty());
}

TEST_F(LoopTest, MaxTurnsWithWorkerReturnsLatestWorker) {
  provider_->set(kRoleWorker, {{"first"}, {"second"}, {"third"}});
  RunOptions o;
  o.max_turns = 3;
  auto r = run({{0, kRoleWorker}}, o);
  ASSERT_TRUE(r.ok()) << r.status.message();
  EXPECT_EQ(r.outcome, "max_turns");
  EXPECT_EQ(*r.answer, "third");
  EXPECT_EQ(r.usage.provider_calls, 3);
}

TEST_F(LoopTest, MaxTurnsWithoutWorkerIsAnError) {
  RunOptions o = reference_opts();
  o.max_turns = 2;
  auto r = run({{0, kRoleThinker}}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure_reason, "max_turns_reached");
  EXPECT_EQ(r.usage.provider_calls, 2);
  EXPECT_EQ(sink_.of("run_failed")[0]["reason"], "max_turns_reached");
}

TEST_F(LoopTest, DefaultMaxTurnsIsFive) {
  auto r = run({{0, kRoleWorker}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.usage.provider_calls, 5);
}

TEST_F(LoopTest, ReviseAndUnknownVerdictsCountAsRevisions) {
  provider_->set(kRoleWorker, {{"draft"}, {"better"}, {"best"}});
  provider_->set(kRoleVerifier, {{"REVISE: wrong"}, {"Looks fine to me"}, {"accept\r\nok"}});
  RunOptions o;
  o.max_turns = 10;
  auto r = run({{0, kRoleWorker},
                {1, kRoleVerifier},
                {0, kRoleWorker},
                {1, kRoleVerifier},
                {0, kRoleWorker},
                {1, kRoleVerifier}},
               o);
  ASSERT_TRUE(r.ok()) << r.status.message();
  EXPECT_EQ(*r.answer, "best");
  EXPECT_EQ(r.usage.verifier_revisions, 2);
  auto vr = sink_.of("verifier_result");
  ASSERT_EQ(vr.size(), 3u);
  EXPECT_EQ(vr[0]["verdict"], "revise");
  EXPECT_EQ(vr[0]["diagnosis"], "wrong");
  EXPECT_EQ(vr[1]["verdict"], "unknown");
  EXPECT_EQ(vr[1]["revision_count"], 2);
  EXPECT_EQ(vr[2]["verdict"], "accept");
  EXPECT_EQ(vr[2]["status"], "accepted");
}

struct ReflexCase {
  const char* name;
  double agent_margin, role_margin;
  int routed_role;
  bool with_worker_first;
  std::vector<std::string> expected_roles;  // dispatched roles of the whole run
  const char* band;
  bool ok;
};

TEST_F(LoopTest, ReflexBandsForEachRoutedRole) {
  // Thinker replies suggest the Verifier: followed (and refused without a Worker answer) unless
  // the reflex forced the Thinker, in which case the next turn is the Verifier anyway.
  const std::vector<ReflexCase> cases = {
      {"high worker",
       kHighAgent,
       kHighRole,
       kRoleWorker,
       false,
       {"Worker", "Verifier"},
       "high",
       true},
      {"high thinker", kHighAgent, kHighRole, kRoleThinker, false, {"Thinker"}, "high", false},
      {"high verifier",
       kHighAgent,
       kHighRole,
       kRoleVerifier,
       true,
       {"Worker", "Verifier"},
       "high",
       true},
      {"high verifier first", kHighAgent, kHighRole, kRoleVerifier, false, {}, "high", false},
      {"medium worker",
       kMediumAgent,
       kMediumRole,
       kRoleWorker,
       false,
       {"Worker", "Verifier"},
       "medium",
       true},
      {"medium thinker",
       kMediumAgent,
       kMediumRole,
       kRoleThinker,
       false,
       {"Thinker"},
       "medium",
       false},
      {"medium verifier first",
       kMediumAgent,
       kMediumRole,
       kRoleVerifier,
       false,
       {},
       "medium",
       false},
      // low: Worker/Thinker are dispatched as Thinker and the next turn is forced to Verifier,
      // which may run without a Worker answer; a routed Verifier runs without one.
      {"low worker", kLowAgent, kLowRole, kRoleWorker, false, {"Thinker", "Verifier"}, "low", true},
      {"low thinker",
       kLowAgent,
       kLowRole,
       kRoleThinker,
       false,
       {"Thinker", "Verifier"},
       "low",
       true},
      {"low verifier", kLowAgent, kLowRole, kRoleVerifier, false, {"Verifier"}, "low", true},
      {"low role margin",
       kMediumAgent,
       0.5,
       kRoleWorker,
       false,
       {"Thinker", "Verifier"},
       "low",
       true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    provider_ = std::make_shared<ScriptedProvider>("m", &clock_);
    provider_->set(kRoleWorker, {{"42"}});
    // A suggestion that would be followed if the reflex did not force the Verifier.
    provider_->set(kRoleThinker,
                   {{"<suggestion>s</suggestion><suggested_role>verifier</suggested_role>"}});
    provider_->set(kRoleVerifier, {{"ACCEPT"}});
    sink_.events.clear();
    std::vector<ScriptStep> steps;
    if (c.with_worker_first) steps.push_back({0, kRoleWorker, kMediumAgent, kMediumRole});
    steps.push_back({2, c.routed_role, c.agent_margin, c.role_margin});
    steps.push_back({3, kRoleVerifier, kMediumAgent, kMediumRole});
    auto r = run(steps, reference_opts());  // the reference's reflex paths
    EXPECT_EQ(r.ok(), c.ok) << r.status.message();
    EXPECT_EQ(dispatched_roles(), c.expected_roles);
    auto rx = sink_.of("reflex_decision");
    ASSERT_FALSE(rx.empty());
    EXPECT_EQ(rx[c.with_worker_first ? 1 : 0]["confidence_class"], c.band);
  }
}

TEST_F(LoopTest, NoReflexKeepsTheRoutedRole) {
  RunOptions o;
  o.reflex.enabled = false;
  auto r = run({{0, kRoleWorker, kLowAgent, kLowRole}, {1, kRoleVerifier, kLowAgent, kLowRole}}, o);
  ASSERT_TRUE(r.ok()) << r.status.message();
  EXPECT_EQ(dispatched_roles(), (std::vector<std::string>{"Worker", "Verifier"}));
  auto rx = sink_.of("reflex_decision")[0];
  EXPECT_EQ(rx["reflex_enabled"], false);
  EXPECT_EQ(rx["confidence_class"], "low");
  EXPECT_EQ(rx["action"], "normal_dispatch");
  EXPECT_EQ(rx["reason"], "disabled");
}

TEST_F(LoopTest, ThresholdsAreOverridable) {
  RunOptions o = reference_opts();
  o.reflex.agent_floor = 0.6;  // 0.5 is now below the floor -> low
  auto r = run({{0, kRoleWorker}, {1, kRoleVerifier}}, o);
  ASSERT_TRUE(r.ok()) << r.status.message();
  EXPECT_EQ(dispatched_roles(), (std::vector<std::string>{"Thinker", "Verifier"}));
  auto rx = sink_.of("reflex_decision")[0];
  EXPECT_EQ(rx["thresholds"]["agent_floor"], 0.6);
  EXPECT_DOUBLE_EQ(rx["thresholds"]["agent_high"].get<double>(), 2.4);
  EXPECT_EQ(rx["thresholds"]["role_floor"], 1.06);
}

TEST_F(LoopTest, MissingMarginsAreMedium) {
  ScriptStep w{0, kRoleWorker, kLowAgent, kLowRole, true};
  ScriptStep v{0, kRoleVerifier, kLowAgent, kLowRole, true};
  auto r = run({w, v});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(dispatched_roles(), (std::vector<std::string>{"Worker", "Verifier"}));
  EXPECT_EQ(sink_.of("reflex_decision")[0]["confidence_class"], "medium");
  EXPECT_EQ(sink_.of("reflex_decision")[0]["confidence_band"], "unknown");
  EXPECT_EQ(sink_.of("route_decision")[0]["min_margin"], nullptr);
}

TEST_F(LoopTest, ProviderErrorEndsTheRunWithATypedError) {
  provider_->set(kRoleWorker,
                 {ScriptedReply::fail(Status(ErrorCode::kProvider, "upstream broke"))});
  auto r = run({{0, kRoleWorker}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status.code(), ErrorCode::kProvider);
  EXPECT_EQ(r.failure_reason, "provider_error");
  // The failed call's provider and model; its class is unknown (a scripted provider says none).
  ASSERT_TRUE(r.failed_call);
  ASSERT_FALSE(r.turns.empty());
  EXPECT_EQ(r.failed_call->provider, r.turns.back().provider);
  EXPECT_EQ(r.failed_call->model, r.turns.back().model);
  EXPECT_EQ(r.failed_call->failure.kind, ProviderFailureKind::kUnknown);
  auto fin = sink_.of("provider_dispatch_finished");
  ASSERT_EQ(fin.size(), 1u);
  EXPECT_EQ(fin[0]["status"], "error");
  EXPECT_EQ(sink_.types().back(), "run_failed");
}

TEST_F(LoopTest, CancelledRunStops) {
  std::atomic<bool> cancel{true};
  RunOptions o;
  o.cancel = &cancel;
  auto r = run({{0, kRoleWorker}}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status.code(), ErrorCode::kCancelled);
  EXPECT_TRUE(provider_->requests().empty());
}

TEST_F(LoopTest, CallbackSeesEveryEvent) {
  std::vector<std::string> seen;
  RunOptions o;
  o.on_event = [&](const OrderedJson& e) { seen.push_back(e["event"].get<std::string>()); };
  auto r = run({{0, kRoleWorker}, {1, kRoleVerifier}}, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(seen, sink_.types());
}

// ---- budgets: each exactly at its limit (passes) and one past (typed error) ----

class BudgetTest : public LoopTest {
 protected:
  // Worker then Verifier; each call takes 100 ms and 1000 in / 500 out tokens
  // (price 1 and 2 USD per Mtok: 2000 micro-dollars per call).
  RunResult run_wv(Budgets b, bool revise_once = false) {
    provider_->set(kRoleWorker, {{"42", 100, 1000, 500}});
    if (revise_once)
      provider_->set(kRoleVerifier, {{"REVISE: no", 100, 1000, 500}, {"ACCEPT", 100, 1000, 500}});
    else
      provider_->set(kRoleVerifier, {{"ACCEPT", 100, 1000, 500}});
    RunOptions o;
    o.budgets = b;
    return run({{0, kRoleWorker}, {1, kRoleVerifier}, {0, kRoleWorker}, {1, kRoleVerifier}}, o);
  }
  void expect_violation(const RunResult& r, const std::string& budget, const std::string& limit,
                        const std::string& observed, const std::string& checkpoint) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status.code(), ErrorCode::kBudgetExceeded);
    EXPECT_EQ(r.failure_reason, "budget_exceeded");
    ASSERT_TRUE(r.budget_violation.has_value());
    EXPECT_EQ(r.budget_violation->budget, budget);
    EXPECT_EQ(r.budget_violation->limit, limit);
    EXPECT_EQ(r.budget_violation->observed, observed);
    EXPECT_EQ(r.budget_violation->checkpoint, checkpoint);
    for (const std::string& s : {budget, limit, observed, checkpoint})
      EXPECT_NE(r.status.message().find(s), std::string::npos) << r.status.message();
    auto failed = sink_.of("run_failed");
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_EQ(failed[0]["budget_violation"]["budget"], budget);
    EXPECT_EQ(failed[0]["budget_exceeded"], true);
    EXPECT_EQ(failed[0]["budget_exceeded_key"], budget.substr(4));  // "max_" dropped
    EXPECT_EQ(failed[0]["status"], "failed");
    auto snaps = sink_.of("budget_snapshot");
    ASSERT_FALSE(snaps.empty());
    EXPECT_EQ(snaps.back()["status"], "exceeded");
    EXPECT_EQ(snaps.back()["budget_exceeded"], true);
    EXPECT_EQ(snaps.back()["budget_exceeded_key"], budget.substr(4));
    EXPECT_EQ(snaps.back()["checkpoint"], checkpoint);
  }
};

TEST_F(BudgetTest, ProviderCalls) {
  Budgets b;
  b.max_provider_calls = 2;
  EXPECT_TRUE(run_wv(b).ok());
  sink_.events.clear();
  b.max_provider_calls = 1;
  auto r = run_wv(b);
  expect_violation(r, "max_provider_calls", "1", "2", "before_dispatch");
  EXPECT_EQ(*r.latest_worker_answer, "42");
}

TEST_F(BudgetTest, VerifierRevisions) {
  Budgets b;
  b.max_verifier_revisions = 1;
  auto ok = run_wv(b, true);
  ASSERT_TRUE(ok.ok()) << ok.status.message();
  EXPECT_EQ(ok.usage.verifier_revisions, 1);
  sink_.events.clear();
  b.max_verifier_revisions = 0;
  expect_violation(run_wv(b, true), "max_verifier_revisions", "0", "1", "after_verifier_revision");
}

TEST_F(BudgetTest, ProviderLatency) {
  Budgets b;
  b.max_provider_latency_ms = 100;
  EXPECT_TRUE(run_wv(b).ok());
  sink_.events.clear();
  b.max_provider_latency_ms = 99;
  expect_violation(run_wv(b), "max_provider_latency_ms", "99", "100", "after_dispatch_latency");
}

TEST_F(BudgetTest, WallTime) {
  Budgets b;
  b.max_wall_time_ms = 201;  // the run takes 200 ms of (fake) time
  EXPECT_TRUE(run_wv(b).ok());
  sink_.events.clear();
  b.max_wall_time_ms = 200;  // elapsed >= limit
  expect_violation(run_wv(b), "max_wall_time_ms", "200", "200", "after_dispatch_latency");
}

TEST_F(BudgetTest, EstimatedCost) {
  Budgets b;
  b.max_estimated_cost_micro_usd = *usd_to_micro(0.004001);
  auto ok = run_wv(b);
  ASSERT_TRUE(ok.ok()) << ok.status.message();
  EXPECT_EQ(ok.usage.cost_micro_usd, 4000);
  sink_.events.clear();
  // Cumulative cost >= limit fails, as in the reference: reaching the limit exactly is enough.
  b.max_estimated_cost_micro_usd = *usd_to_micro(0.004);
  expect_violation(run_wv(b), "max_estimated_cost_usd", "0.004000", "0.004000", "after_dispatch");
}

TEST_F(BudgetTest, ZeroCostLimitStopsBeforeAnyCall) {
  Budgets b;
  b.max_estimated_cost_micro_usd = 0;
  auto r = run_wv(b);
  expect_violation(r, "max_estimated_cost_usd", "0.000000", "0.000000", "turn_start");
  EXPECT_TRUE(provider_->requests().empty());
}

TEST_F(BudgetTest, CheckedInTheDocumentedOrder) {
  Budgets b;
  b.max_wall_time_ms = 50;
  b.max_provider_calls = 0;
  b.max_provider_latency_ms = 1;
  b.max_estimated_cost_micro_usd = 1;
  // At turn_start nothing is exceeded yet (0 ms, 0 calls); before_dispatch: calls 1 > 0.
  expect_violation(run_wv(b), "max_provider_calls", "0", "1", "before_dispatch");
  sink_.events.clear();
  b.max_provider_calls = 5;
  // After the first call wall time (100 >= 50) comes before latency and cost.
  expect_violation(run_wv(b), "max_wall_time_ms", "50", "100", "after_dispatch_latency");
}

TEST(BudgetUnits, UsdToMicroAndCost) {
  EXPECT_EQ(*usd_to_micro(1.5), 1500000);
  EXPECT_FALSE(usd_to_micro(-1).ok());
  ProviderSpec s;
  s.price_in_per_mtok = 3.0;
  s.price_out_per_mtok = 15.0;
  EXPECT_EQ(call_cost_micro_usd(s, 1000, 200), 6000);  // 3000 + 3000 micro-dollars
}

// --- cold_verifier worker (the default): a Verifier turn before any Worker answer is dispatched
// as a Worker turn, and the last allowed turn without a Worker answer is a Worker turn.

TEST_F(LoopTest, ColdVerifierIsDispatchedAsAWorkerTurn) {
  auto r = run({{4, kRoleVerifier}, {5, kRoleVerifier}});
  ASSERT_TRUE(r.ok()) << r.status.message();
  EXPECT_EQ(r.outcome, "accepted");
  EXPECT_STREQ(r.run_status(), "accepted");
  EXPECT_EQ(*r.answer, "42");
  EXPECT_EQ(dispatched_roles(), (std::vector<std::string>{"Worker", "Verifier"}));
  EXPECT_EQ(provider_->requests()[0].agent_id, 4);  // the routed agent, as a Worker
  ASSERT_EQ(r.turns.size(), 2u);
  EXPECT_EQ(r.turns[0].reroute, "cold_verifier");
  EXPECT_EQ(r.turns[1].reroute, "");
  auto rx = sink_.of("reflex_decision")[0];
  EXPECT_EQ(rx["cold_verifier"], "worker");
  EXPECT_EQ(rx["role_name"], "Verifier");
  EXPECT_EQ(rx["reroute"]["reason"], "cold_verifier");
  EXPECT_EQ(rx["reroute"]["from_role"], "Verifier");
  EXPECT_EQ(rx["reroute"]["to_role"], "Worker");
  auto ds = sink_.of("provider_dispatch_started");
  EXPECT_EQ(ds[0]["role_name"], "Worker");
  EXPECT_EQ(ds[0]["rerouted_from"], "Verifier");
  EXPECT_EQ(ds[0]["reroute_reason"], "cold_verifier");
  EXPECT_TRUE(ds[1]["rerouted_from"].is_null());
  EXPECT_TRUE(sink_.of("reflex_decision")[1]["reroute"].is_null());
}

TEST_F(LoopTest, ReflexForcedColdVerifierIsAWorkerTurnToo) {
  // Low band: Thinker now, Verifier forced next; with no Worker answer yet that Verifier turn is
  // a Worker turn, and a low-band Verifier after it runs as usual.
  auto r = run({{0, kRoleWorker, kLowAgent, kLowRole},
                {1, kRoleWorker, kMediumAgent, kMediumRole},
                {2, kRoleVerifier, kLowAgent, kLowRole}});
  ASSERT_TRUE(r.ok()) << r.status.message();
  EXPECT_EQ(dispatched_roles(), (std::vector<std::string>{"Thinker", "Worker", "Verifier"}));
  EXPECT_EQ(r.turns[1].reroute, "cold_verifier");
  EXPECT_EQ(*r.answer, "42");
}

TEST_F(LoopTest, TheLastTurnWithoutAWorkerAnswerIsAWorkerTurn) {
  RunOptions o;
  o.max_turns = 3;
  auto r = run({{0, kRoleThinker}}, o);
  ASSERT_TRUE(r.ok()) << r.status.message();
  EXPECT_EQ(dispatched_roles(), (std::vector<std::string>{"Thinker", "Thinker", "Worker"}));
  EXPECT_EQ(r.turns[2].reroute, "last_turn");
  EXPECT_EQ(r.outcome, "max_turns");
  EXPECT_STREQ(r.run_status(), "unverified");
  EXPECT_EQ(*r.answer, "42");
  EXPECT_EQ(sink_.of("run_finished").size(), 1u);
  // A single allowed turn is a Worker turn whatever the route.
  provider_ = std::make_shared<ScriptedProvider>("m", &clock_);
  provider_->set(kRoleWorker, {{"only"}});
  RunOptions one;
  one.max_turns = 1;
  auto single = run({{2, kRoleVerifier}}, one);
  ASSERT_TRUE(single.ok()) << single.status.message();
  EXPECT_EQ(*single.answer, "only");
  EXPECT_STREQ(single.run_status(), "unverified");
}

TEST_F(LoopTest, ErrorPolicyKeepsTheReferencesLastTurn) {
  RunOptions o = reference_opts();
  o.max_turns = 3;
  auto r = run({{0, kRoleThinker}}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure_reason, "max_turns_reached");
  EXPECT_STREQ(r.run_status(), "failed");
  EXPECT_EQ(dispatched_roles(), (std::vector<std::string>{"Thinker", "Thinker", "Thinker"}));
}

TEST_F(LoopTest, UnderWorkerNoRunIsAcceptedWithoutAWorkerAnswer) {
  // Every route sequence of up to 5 steps over the three roles and two bands, verdicts mixed.
  const int roles[] = {kRoleWorker, kRoleThinker, kRoleVerifier};
  const double agent_margins[] = {kMediumAgent, kLowAgent};
  std::mt19937 rng(7);
  for (int trial = 0; trial < 400; ++trial) {
    std::vector<ScriptStep> steps;
    for (int t = 0; t < 5; ++t)
      steps.push_back({static_cast<int>(rng() % kNumAgents), roles[rng() % 3],
                       agent_margins[rng() % 2], kMediumRole});
    provider_ = std::make_shared<ScriptedProvider>("m", &clock_);
    provider_->set(kRoleWorker, {{"w1"}, {"w2"}});
    provider_->set(kRoleThinker,
                   {{"<suggestion>s</suggestion><suggested_role>verifier</suggested_role>"}});
    provider_->set(kRoleVerifier, {rng() % 2 ? ScriptedReply{"ACCEPT"} : ScriptedReply{"REVISE"}});
    RunOptions o;
    o.max_turns = 1 + static_cast<int>(rng() % 5);
    auto r = run(steps, o);
    ASSERT_TRUE(r.ok()) << "trial " << trial << ": " << r.failure_reason;
    ASSERT_TRUE(r.answer.has_value());
    EXPECT_EQ(r.answer->front(), 'w') << "trial " << trial << ": " << *r.answer;
    bool worker_seen = false;
    for (const auto& req : provider_->requests()) {
      if (req.role_id == kRoleVerifier) {
        EXPECT_TRUE(worker_seen) << "trial " << trial;
      }
      worker_seen = worker_seen || req.role_id == kRoleWorker;
    }
  }
}

}  // namespace
}  // namespace trinity::coord::testing

namespace trinity::coord::testing {
namespace {

// One mock_tiny router and the built-in mock pool serve 16 runs in parallel threads; every
// result and trace equals the one a sequential run produces.
TEST(Concurrency, SixteenRunsOnOneRouterMatchSequentialRuns) {
  auto router = std::make_shared<MockTinyRouter>();
  auto env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  auto pool = AgentPool::create(builtin_mock_pool(), false, env);
  ASSERT_TRUE(pool.ok()) << pool.status().message();
  Orchestrator orch(router, *pool);
  auto query = [](int i) {
    return std::vector<Message>{{"user", "question number " + std::to_string(i)}};
  };
  auto summary = [](const RunResult& r, const MemorySink& s) {
    std::string out = r.outcome + "|" + r.failure_reason + "|" + r.answer.value_or("-");
    for (const auto& e : s.events)
      if (e["event"] == "route_decision") out += "|" + e["route_hash"].get<std::string>();
    return out;
  };
  std::vector<std::string> expected(16), actual(16);
  for (int i = 0; i < 16; ++i) {
    MemorySink sink;
    RunOptions o;
    o.sinks.push_back(&sink);
    o.run_id = "seq";
    expected[static_cast<size_t>(i)] = summary(orch.run(query(i), o), sink);
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      MemorySink sink;
      RunOptions o;
      o.sinks.push_back(&sink);
      o.run_id = "par";
      actual[static_cast<size_t>(i)] = summary(orch.run(query(i), o), sink);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(actual, expected);
  int accepted = 0;
  for (const auto& s : expected) accepted += s.rfind("accepted", 0) == 0 ? 1 : 0;
  EXPECT_GT(accepted, 0);
}

}  // namespace
}  // namespace trinity::coord::testing
