#include "server/pool_provider.h"

#include <algorithm>

#include "coord/fallback.h"

namespace trinity::server {

Result<std::shared_ptr<const PoolProvider>> PoolProvider::create(coord::PoolConfig config,
                                                                 bool allow_live,
                                                                 const coord::EnvLookup& env,
                                                                 coord::HttpClient* http) {
  TRINITY_ASSIGN_OR_RETURN(auto keys, coord::resolve_pool_keys(config, allow_live, env));
  auto p = std::make_shared<PoolProvider>();
  TRINITY_ASSIGN_OR_RETURN(p->base_, coord::AgentPool::create(config, allow_live, env, http));
  p->keys_ = std::move(keys);
  p->http_ = http;
  p->rebuildable_ = true;
  return std::shared_ptr<const PoolProvider>(std::move(p));
}

std::shared_ptr<const PoolProvider> PoolProvider::fixed(
    std::shared_ptr<const coord::AgentPool> pool) {
  auto p = std::make_shared<PoolProvider>();
  p->base_ = std::move(pool);
  return p;
}

Result<std::shared_ptr<const coord::AgentPool>> PoolProvider::pool_for(
    const ProviderOverrides& o) const {
  if (o.empty()) return base_;
  if (!rebuildable_)
    return unsupported("this server's pool does not accept per-request max_tokens/temperature");
  std::array<std::shared_ptr<coord::Provider>, kNumAgents> providers;
  for (int i = 0; i < kNumAgents; ++i) {
    const auto slot = static_cast<size_t>(i);
    coord::ProviderSpec spec = base_->config.slots[slot];
    for (size_t f = 0; f <= spec.fallbacks.size(); ++f) {  // the slot's endpoint and fallbacks
      coord::ProviderSpec& s = f == 0 ? spec : spec.fallbacks[f - 1];
      if (o.max_tokens) s.max_tokens = *o.max_tokens;
      if (o.temperature) s.temperature = *o.temperature;
    }
    // The base pool's circuits: an endpoint's health does not depend on the request.
    auto made = coord::make_slot_provider(spec, keys_, http_, base_->circuits.get());
    if (!made.ok()) return made.status().with_context("agent slot " + std::to_string(i));
    providers[slot] = std::move(made).value();
  }
  auto pool =
      coord::AgentPool::from_providers(std::move(providers), base_->config.prompts, base_->secrets);
  // from_providers keeps only slots and prompts (and names the pool "custom"): everything else
  // of the configuration (the name, the cold-Verifier policy, ...) is the base pool's.
  auto named = std::make_shared<coord::AgentPool>(*pool);
  const auto slots = named->config.slots;
  named->config = base_->config;
  named->config.slots = slots;
  named->circuits = base_->circuits;
  return std::shared_ptr<const coord::AgentPool>(std::move(named));
}

std::vector<std::string> PoolProvider::model_ids() const {
  std::vector<std::string> out;
  for (const auto& spec : base_->config.slots)
    if (std::find(out.begin(), out.end(), spec.model) == out.end()) out.push_back(spec.model);
  return out;
}

}  // namespace trinity::server
