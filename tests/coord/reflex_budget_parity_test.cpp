// Reference parity of the reflex policy (modes, thresholds, missing margins, the derivation
// band), the budget semantics, the role prompts and the message shapes.
#include <limits>

#include "coord/prompts.h"
#include "coord_test_util.h"
#include "router/etf_hash.h"

namespace trinity::coord::testing {
namespace {

RouteDecision decision(std::optional<double> agent, std::optional<double> role) {
  RouteDecision d;
  d.agent_margin = agent;
  d.role_margin = role;
  return d;
}

TEST(ReflexPolicy, ModesAndExplicitThresholds) {
  ReflexConfig cfg;
  ReflexThresholds t = resolve_thresholds(cfg, ReflexFloors{});
  EXPECT_DOUBLE_EQ(t.low_agent, 0.24);
  EXPECT_DOUBLE_EQ(t.high_role, 4.24);
  cfg.mode = ReflexMode::kAbsolute;
  t = resolve_thresholds(cfg, ReflexFloors{});
  EXPECT_EQ(t.high_agent, 1.0);
  EXPECT_EQ(t.high_role, 1.0);
  EXPECT_EQ(t.low_agent, 0.1);
  EXPECT_EQ(t.low_role, 0.1);
  cfg.high_role = 3.0;  // explicit values replace either mode's
  cfg.low_agent = 0.0;
  t = resolve_thresholds(cfg, ReflexFloors{});
  EXPECT_EQ(t.high_role, 3.0);
  EXPECT_EQ(t.low_agent, 0.0);
  EXPECT_EQ(t.high_agent, 1.0);
  cfg.low_role = -0.5;
  EXPECT_FALSE(cfg.validate().ok());
  cfg.low_role = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(cfg.validate().ok());
  EXPECT_FALSE(parse_reflex_mode("relative").ok());
  EXPECT_FALSE(parse_confidence_band("unknown").ok());
}

TEST(ReflexPolicy, ClassificationOrder) {
  ReflexConfig cfg;
  cfg.mode = ReflexMode::kAbsolute;
  cfg.low_agent = 0.01;  // 0.05 is above the low threshold...
  cfg.low_role = 0.01;
  const ReflexThresholds t = resolve_thresholds(cfg, ReflexFloors{});
  // ...but the derivation band (both margins >= 0.1 for medium) is low: low wins.
  ReflexDecision r = evaluate_reflex(decision(0.05, 5.0), kRoleWorker, t, cfg);
  EXPECT_EQ(r.band, ConfidenceBand::kLow);
  EXPECT_STREQ(r.reason, "low_margin");
  EXPECT_EQ(r.next_role_override, kRoleThinker);
  EXPECT_STREQ(route_confidence_band(decision(0.05, 5.0)), "low");
  EXPECT_STREQ(route_confidence_band(decision(0.1, 0.1)), "medium");
  EXPECT_STREQ(route_confidence_band(decision(1.0, 1.0)), "high");
  EXPECT_STREQ(route_confidence_band(decision(std::nullopt, 1.0)), "unknown");

  EXPECT_EQ(evaluate_reflex(decision(1.0, 1.0), kRoleWorker, t, cfg).band, ConfidenceBand::kHigh);
  EXPECT_STREQ(evaluate_reflex(decision(1.0, 1.0), kRoleWorker, t, cfg).reason, "high_confidence");
  EXPECT_EQ(evaluate_reflex(decision(0.5, 2.0), kRoleWorker, t, cfg).band, ConfidenceBand::kMedium);
  // Low: a Thinker is followed by a Verifier, a Verifier is dispatched as is.
  ReflexConfig strict = cfg;
  strict.low_agent = 10;
  const ReflexThresholds ts = resolve_thresholds(strict, ReflexFloors{});
  EXPECT_EQ(evaluate_reflex(decision(1, 1), kRoleThinker, ts, strict).next_role_override,
            kRoleVerifier);
  EXPECT_FALSE(evaluate_reflex(decision(1, 1), kRoleVerifier, ts, strict).next_role_override);
  // Disabled: still classified, never acts.
  strict.enabled = false;
  r = evaluate_reflex(decision(1, 1), kRoleWorker, ts, strict);
  EXPECT_EQ(r.band, ConfidenceBand::kLow);
  EXPECT_EQ(r.action, ReflexAction::kNormalDispatch);
  EXPECT_STREQ(r.reason, "disabled");
  EXPECT_FALSE(r.next_role_override);
}

TEST(ReflexPolicy, MissingMarginClassIsConfigurable) {
  ReflexConfig cfg;
  const ReflexThresholds t = resolve_thresholds(cfg, ReflexFloors{});
  const RouteDecision none = decision(std::nullopt, std::nullopt);
  EXPECT_EQ(evaluate_reflex(none, kRoleWorker, t, cfg).band, ConfidenceBand::kMedium);
  cfg.missing_margin = ConfidenceBand::kLow;
  ReflexDecision r = evaluate_reflex(none, kRoleWorker, t, cfg);
  EXPECT_EQ(r.band, ConfidenceBand::kLow);
  EXPECT_STREQ(r.reason, "missing_margin");
  cfg.missing_margin = ConfidenceBand::kHigh;
  EXPECT_EQ(evaluate_reflex(none, kRoleWorker, t, cfg).action, ReflexAction::kDirectDispatch);
}

TEST(BudgetRules, AfterVerifierRevisionReportsOnlyRevisions) {
  Budgets b;
  b.max_estimated_cost_micro_usd = 10;
  b.max_provider_calls = 1;
  b.max_verifier_revisions = 1;
  BudgetUsage u;
  u.cost_micro_usd = 50;
  u.provider_calls = 5;
  u.verifier_revisions = 1;
  EXPECT_FALSE(check_budgets(b, u, "after_verifier_revision"));
  EXPECT_TRUE(check_budgets(b, u, "after_dispatch"));
  u.verifier_revisions = 2;
  auto v = check_budgets(b, u, "after_verifier_revision");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->key, "verifier_revisions");
  EXPECT_EQ(v->budget, "max_verifier_revisions");
}

TEST(BudgetRules, ReferenceKeys) {
  Budgets b;
  b.max_wall_time_ms = 1;
  BudgetUsage u;
  u.elapsed_ms = 1;
  EXPECT_EQ(check_budgets(b, u, "turn_start")->key, "wall_time_ms");
  b = Budgets{};
  b.max_provider_latency_ms = 1;
  u.max_latency_ms = 2;
  EXPECT_EQ(check_budgets(b, u, "after_dispatch_latency")->key, "provider_latency_ms");
  b = Budgets{};
  b.max_estimated_cost_micro_usd = 5;
  u.cost_micro_usd = 5;  // >= fails
  EXPECT_EQ(check_budgets(b, u, "after_dispatch")->key, "estimated_cost_usd");
}

class ParityLoopTest : public ::testing::Test {
 protected:
  RunResult run(std::shared_ptr<const AgentPool> pool, std::vector<ScriptStep> steps,
                RunOptions opts) {
    Orchestrator orch(std::make_shared<ScriptedRouter>(std::move(steps)), std::move(pool));
    opts.clock = &clock_;
    opts.sinks.push_back(&sink_);
    opts.run_id = "parity";
    return orch.run({{"user", "What is 6 * 7?"}}, opts);
  }
  FakeClock clock_;
  MemorySink sink_;
};

TEST_F(ParityLoopTest, FailedSlowCallIsAProviderFailure) {
  auto p = std::make_shared<ScriptedProvider>("m", &clock_);
  ScriptedReply slow_failure = ScriptedReply::fail(Status(ErrorCode::kProvider, "HTTP 502"));
  slow_failure.latency_ms = 500;
  p->set(kRoleWorker, {slow_failure});
  RunOptions o;
  o.budgets.max_provider_latency_ms = 100;
  auto r = run(single_provider_pool(p), {{0, kRoleWorker}}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure_reason, "provider_error");
  EXPECT_EQ(r.status.code(), ErrorCode::kProvider);
  auto finished = sink_.of("provider_dispatch_finished");
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_EQ(finished[0]["ok"], false);
  EXPECT_EQ(finished[0]["error_ref"], sha256_ref("reason", "HTTP 502"));
  EXPECT_TRUE(finished[0]["response_ref"].is_null());
}

TEST_F(ParityLoopTest, CostBudgetOverAnUnpricedPoolWarnsOnce) {
  auto pool = AgentPool::create(builtin_mock_pool(), false,
                                [](const std::string&) { return std::optional<std::string>(); });
  ASSERT_TRUE(pool.ok());
  RunOptions o;
  o.budgets.max_estimated_cost_micro_usd = 1000000;
  auto r = run(*pool, {{0, kRoleWorker}, {1, kRoleVerifier}}, o);
  ASSERT_TRUE(r.ok()) << r.status.message();
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("can never fire"), std::string::npos);
  ASSERT_EQ(sink_.of("run_warning").size(), 1u);
  EXPECT_EQ(sink_.of("run_warning")[0]["code"], "cost_budget_cannot_fire");
}

TEST_F(ParityLoopTest, ReferenceEventFields) {
  auto p = std::make_shared<ScriptedProvider>("m", &clock_);
  p->set(kRoleWorker, {{"42"}});
  p->set(kRoleVerifier, {{"ACCEPT - looks right"}});
  RunOptions o;
  o.artifact.artifact_ref = "artifact:test";
  o.artifact.artifact_revision = "v1";
  auto r = run(single_provider_pool(p), {{3, kRoleWorker}, {5, kRoleVerifier}}, o);
  ASSERT_TRUE(r.ok()) << r.status.message();
  auto rd = sink_.of("route_decision");
  ASSERT_EQ(rd.size(), 2u);
  EXPECT_EQ(rd[0]["selected_agent_id"], 3);
  EXPECT_EQ(rd[0]["artifact_ref"], "artifact:test");
  EXPECT_EQ(rd[0]["artifact_revision"], "v1");
  EXPECT_TRUE(rd[0]["artifact_hash_ref"].is_null());
  EXPECT_EQ(rd[0]["route_path"], "orchestrator");
  EXPECT_EQ(rd[0]["provider_pool"], "custom");
  // Form B of [user "What is 6 * 7?"], then of the transcript with the Worker reply.
  EXPECT_EQ(rd[0]["transcript_hash"], *trace_transcript_hash({{"user", "What is 6 * 7?"}}));
  EXPECT_EQ(rd[1]["input_hash"],
            *trace_transcript_hash({{"user", "What is 6 * 7?"}, {"assistant", "42"}}));
  auto vr = sink_.of("verifier_result");
  ASSERT_EQ(vr.size(), 1u);
  EXPECT_EQ(vr[0]["status"], "accepted");
  EXPECT_EQ(vr[0]["safe_status"], "accepted");
  EXPECT_EQ(vr[0]["diagnosis"], "looks right");
  EXPECT_EQ(vr[0]["verifier_response_ref"],
            sha256_ref("verifier-response", "ACCEPT - looks right"));
  EXPECT_EQ(vr[0]["route_hash"], rd[1]["route_hash"]);
  auto fin = sink_.of("run_finished");
  ASSERT_EQ(fin.size(), 1u);
  EXPECT_EQ(fin[0]["status"], "finished");
  EXPECT_EQ(fin[0]["total_turns"], 2);
  EXPECT_EQ(fin[0]["final_response_ref"], sha256_ref("response", "42"));
  EXPECT_EQ(fin[0]["wall_time_ms"], fin[0]["elapsed_ms"]);
}

TEST(Prompts, ReferencePresetAndMessageShape) {
  auto pool = parse_pool_text(
      R"({"slots": {"0": {"provider": "mock", "model": "a"}, "1": {"provider": "mock", "model": "a"},
          "2": {"provider": "mock", "model": "a"}, "3": {"provider": "mock", "model": "a"},
          "4": {"provider": "mock", "model": "a"}, "5": {"provider": "mock", "model": "a"},
          "6": {"provider": "mock", "model": "a", "name": "last"}},
          "prompts": "reference", "message_shape": "reference"})",
      "pool.json");
  ASSERT_TRUE(pool.ok()) << pool.status().message();
  EXPECT_EQ(pool->message_shape, MessageShape::kReference);
  EXPECT_EQ(pool->slots[6].name, "last");
  EXPECT_EQ(pool->prompts.system[kRoleVerifier],
            "Check the current solution for correctness, completeness, and responsiveness. Start "
            "your response with exactly ACCEPT or REVISE. After REVISE, include a concise "
            "diagnosis.");
  const std::vector<Message> transcript = {
      {"system", "be brief"}, {"user", "q"}, {"assistant", "a1"}, {"assistant", "a2"}};
  auto msgs = build_agent_messages(pool->prompts, MessageShape::kReference, kRoleThinker, 3,
                                   transcript, {});
  ASSERT_EQ(msgs.size(), 5u);
  EXPECT_EQ(msgs[0].role, "system");
  EXPECT_EQ(msgs[0].content, reference_role_prompts().system[kRoleThinker]);
  EXPECT_EQ(std::vector<Message>(msgs.begin() + 1, msgs.end()), transcript);  // verbatim
  auto rendered =
      build_agent_messages(pool->prompts, MessageShape::kRendered, kRoleThinker, 3, transcript, {});
  ASSERT_EQ(rendered.size(), 2u);
  EXPECT_EQ(rendered[1].role, "user");

  auto bad = parse_pool_text(R"({"slots": [], "message_shape": "chat"})", "p.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("p.json: message_shape"), std::string::npos);
  // The default Thinker prompt asks for the values the reference parses.
  EXPECT_NE(default_role_prompts().system[kRoleThinker].find("solver or verifier"),
            std::string::npos);
}

TEST(Pools, ReferenceBuiltins) {
  auto d = load_pool("default");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->name, "default");
  EXPECT_EQ(d->slots[0].name, "fast_openai");
  EXPECT_EQ(d->slots[6].name, "fallback_openai");
  for (const auto& s : d->slots) {
    EXPECT_EQ(s.provider, "openai");
    EXPECT_EQ(s.model, "gpt-4o-mini");
    EXPECT_EQ(s.api_key_env, "OPENAI_API_KEY");
  }
  auto no_live =
      resolve_api_keys(*d, false, [](const std::string&) { return std::optional<std::string>(); });
  EXPECT_FALSE(no_live.ok());
  auto m = load_pool("mock");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->slots[3].name, "mock_3");
  EXPECT_EQ(m->slots[3].model, "mock-agent-3");
}

}  // namespace
}  // namespace trinity::coord::testing
