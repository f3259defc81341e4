// RunResult's JSON form and the agent pool's construction.
#include <cstdio>

#include "coord/fallback.h"
#include "coord/orchestrator.h"

namespace trinity::coord {
const char* RunResult::run_status() const {
  if (!ok() || !answer) return "failed";
  return outcome == "accepted" ? "accepted" : "unverified";
}

OrderedJson RunResult::to_json() const {
  OrderedJson j;
  j["run_id"] = run_id;
  j["status"] = run_status();
  j["outcome"] = outcome;
  j["answer"] = answer ? OrderedJson(*answer) : OrderedJson(nullptr);
  if (!ok()) {
    j["reason"] = failure_reason;
    j["error"] = status.message();
    j["error_code"] = error_code_name(status.code());
  }
  if (budget_violation) j["budget_exceeded"] = budget_violation->to_json();
  j["turns"] = OrderedJson::array();
  for (const TurnRecord& t : turns) {
    OrderedJson r;
    r["turn"] = t.turn;
    r["agent_id"] = t.agent_id;
    r["agent_label"] = agent_label(t.agent_id);
    r["routed_role"] = role_name(t.routed_role_id);
    r["role"] = role_name(t.role_id);
    r["agent_margin"] = opt_json(t.agent_margin);
    r["role_margin"] = opt_json(t.role_margin);
    r["confidence_band"] = t.band;
    r["confidence_class"] = t.confidence_class;
    r["reflex_action"] = t.action;
    r["provider"] = t.provider;
    r["model"] = t.model;
    if (t.fallback_index > 0) r["fallback_index"] = t.fallback_index;
    r["latency_ms"] = t.latency_ms;
    r["estimated_cost_usd"] = micro_to_usd(t.cost_micro_usd);
    if (!t.verdict.empty()) r["verdict"] = t.verdict;
    if (!t.reroute.empty()) r["reroute"] = t.reroute;
    j["turns"].push_back(std::move(r));
  }
  j["provider_calls"] = usage.provider_calls;
  j["revision_count"] = usage.verifier_revisions;
  j["elapsed_ms"] = usage.elapsed_ms;
  j["estimated_cost_usd"] = micro_to_usd(usage.cost_micro_usd);
  if (!warnings.empty()) j["warnings"] = warnings;
  return j;
}

Result<std::shared_ptr<const AgentPool>> AgentPool::create(PoolConfig config, bool allow_live,
                                                           const EnvLookup& env, HttpClient* http) {
  TRINITY_ASSIGN_OR_RETURN(ApiKeys keys, resolve_pool_keys(config, allow_live, env));
  auto pool = std::make_shared<AgentPool>();
  pool->circuits = std::make_shared<CircuitRegistry>();
  for (const auto& [name, value] : keys) pool->secrets.push_back(value);
  for (int i = 0; i < kNumAgents; ++i) {
    const ProviderSpec& spec = config.slots[static_cast<size_t>(i)];
    auto p = make_slot_provider(spec, keys, http, pool->circuits.get());
    if (!p.ok()) return p.status();
    pool->providers[static_cast<size_t>(i)] = std::move(p).value();
    for (size_t f = 0; f <= spec.fallbacks.size(); ++f)
      for (const auto& [name, value] : (f == 0 ? spec : spec.fallbacks[f - 1]).headers)
        if (value.size() >= 6) pool->secrets.push_back(value);
  }
  pool->config = std::move(config);
  return std::shared_ptr<const AgentPool>(std::move(pool));
}

std::shared_ptr<const AgentPool> AgentPool::from_providers(
    std::array<std::shared_ptr<Provider>, kNumAgents> providers, RolePrompts prompts,
    std::vector<std::string> secrets) {
  auto pool = std::make_shared<AgentPool>();
  pool->config.name = "custom";
  pool->config.prompts = std::move(prompts);
  for (int i = 0; i < kNumAgents; ++i)
    pool->config.slots[static_cast<size_t>(i)] = providers[static_cast<size_t>(i)]->spec();
  pool->providers = std::move(providers);
  pool->secrets = std::move(secrets);
  return pool;
}

}  // namespace trinity::coord
