// PoolProvider: the server's agent pool, plus per-request provider overrides.
//
// The coordinator reads max_tokens/temperature from each slot's ProviderSpec, fixed when the
// pool is created. A Chat Completions request may carry its own `max_tokens` / `temperature`;
// they pass through to every provider call of that run by building a request-scoped pool whose
// specs carry the overrides (the providers are cheap objects; API keys are resolved once at
// startup and kept here, never logged). Requests without overrides share the base pool.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coord/orchestrator.h"

namespace trinity::server {

struct ProviderOverrides {
  std::optional<int64_t> max_tokens;
  std::optional<double> temperature;
  bool empty() const { return !max_tokens && !temperature; }
};

class PoolProvider {
 public:
  // Resolves keys (and the --allow-live check) now; `http` must outlive the provider.
  static Result<std::shared_ptr<const PoolProvider>> create(coord::PoolConfig config,
                                                            bool allow_live,
                                                            const coord::EnvLookup& env,
                                                            coord::HttpClient* http = nullptr);
  // A fixed pool (tests with scripted providers). Overrides cannot be applied to it:
  // pool_for() returns an error when a request carries some.
  static std::shared_ptr<const PoolProvider> fixed(std::shared_ptr<const coord::AgentPool> pool);

  const std::shared_ptr<const coord::AgentPool>& base() const { return base_; }
  // The base pool, or a request-scoped copy with the overrides applied to every slot.
  Result<std::shared_ptr<const coord::AgentPool>> pool_for(const ProviderOverrides& o) const;
  // Distinct model names of the slots, in slot order.
  std::vector<std::string> model_ids() const;
  const std::vector<std::string>& secrets() const { return base_->secrets; }

 private:
  std::shared_ptr<const coord::AgentPool> base_;
  bool rebuildable_ = false;
  coord::ApiKeys keys_;  // by api_key_env name
  coord::HttpClient* http_ = nullptr;
};

}  // namespace trinity::server
