// Agent pools: which provider answers for each of the 7 agent slots.
//
// Pool file (JSON object):
//   {
//     "name": "my-pool",                       (optional)
//     "defaults": { <spec fields> },           (optional, merged under every slot and fallback)
//     "slots": [ <spec>, x7 ]  or  { "0": <spec>, ..., "6": <spec> },
//     "prompts": { "Worker": "...", "Thinker": "...", "Verifier": "..." } or "reference",
//     "message_shape": "rendered" (default) | "reference",                 (optional)
//     "cold_verifier": "worker" (default) | "error",                        (optional)
//     "circuit_breaker": { "failures": 5, "open_seconds": 30 }              (optional)
//   }
// Built-in pools: "mock" (7 mock slots mock_<i> / mock-agent-<i>), "skills" (the simulated
// specialists of coord/skills.h, for training demos) and "default" (the reference's: 7x openai
// gpt-4o-mini named fast_openai ... fallback_openai, key from OPENAI_API_KEY).
// spec: { name, provider: "mock"|"skills"|"openai"|"anthropic", model, base_url, api_key_env,
//         max_tokens, temperature, timeout_ms, price_in_per_mtok, price_out_per_mtok, headers,
//         max_retries, circuit_breaker, fallbacks }
// API keys are never read from the pool: `api_key_env` names an environment variable.
// Slot labels (gpt-5, ...) are training metadata, independent of the provider bound here.
//
// Fallbacks (coord/fallback.h, docs/coordinator.md): a slot's `fallbacks` is a list of at most
// 8 further specs, each merged over `defaults` (not over the slot; a default `name` is not
// inherited), tried in order when the slot's call fails after its retries or its endpoint's
// circuit is open. Fallbacks cannot be nested, and one endpoint appears at most once in a
// slot's list; `"fallbacks": []` or null in a slot drops the defaults' list. `circuit_breaker`
// (pool level, overridable per spec: {failures in [0, 1000] (0: never opens), open_seconds in
// [0.001, 86400]}; defaults 5 and 30) configures the circuit of each live endpoint. An endpoint
// (endpoint_key: provider, base_url, model, api_key_env) has one circuit, so every spec naming
// it must agree on its settings.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "router/route.h"

namespace trinity::coord {

// A live endpoint's circuit breaker settings (coord/fallback.h).
struct CircuitBreakerConfig {
  int64_t failures = 5;     // consecutive failed calls that open the circuit; 0: it never opens
  int64_t open_ms = 30000;  // how long it stays open before one probe ("open_seconds")
  bool operator==(const CircuitBreakerConfig& o) const {
    return failures == o.failures && open_ms == o.open_ms;
  }
};

struct ProviderSpec {
  std::string name;      // optional slot name (the reference's pools name every slot)
  std::string provider;  // mock | openai | anthropic
  std::string model;
  std::string base_url;     // openai: ".../v1" (POST {base_url}/chat/completions);
                            // anthropic: ".../v1" (POST {base_url}/messages)
  std::string api_key_env;  // empty: no key (local servers)
  int64_t max_tokens = 1024;
  std::optional<double> temperature;
  int64_t timeout_ms = 60000;
  double price_in_per_mtok = 0;   // USD per million input tokens
  double price_out_per_mtok = 0;  // USD per million output tokens
  std::map<std::string, std::string> headers;
  int64_t max_retries = 2;  // retries after the first attempt (connect errors, 429, 5xx)
  CircuitBreakerConfig circuit_breaker;  // resolved: the spec's own, else the pool's
  std::vector<ProviderSpec> fallbacks;   // slot specs only; never nested

  bool is_live() const { return provider != "mock" && provider != "skills"; }
};

// What identifies an endpoint's circuit: "<provider>:<model>@<base_url>" (without any
// user:password@), plus " key:<name of api_key_env>" when set (two keys have separate rate
// limits; never a key value). Simulated providers: "<provider>:<model>".
std::string endpoint_key(const ProviderSpec& spec);
// How metrics and traces name an endpoint: the spec's `name`, else "<provider>/<model>".
std::string endpoint_name(const ProviderSpec& spec);

struct RolePrompts {
  std::array<std::string, kNumRoles> system;  // indexed by role id
};
RolePrompts default_role_prompts();
// The reference's exact role prompts ("prompts": "reference").
RolePrompts reference_role_prompts();

// What an agent is sent (prompts.h): kRendered (default) two messages, the transcript rendered
// into one user message; kReference [system(role prompt)] ++ the transcript verbatim.
enum class MessageShape { kRendered, kReference };
Result<MessageShape> parse_message_shape(const std::string& s);  // "rendered" | "reference"
const char* message_shape_name(MessageShape m);

// What a Verifier turn does before any Worker has answered (see orchestrator.h):
//   kWorker (default): it is dispatched to the routed agent as a Worker turn;
//   kError: the run fails with verifier_before_worker_response, as the reference does.
enum class ColdVerifier { kWorker, kError };
Result<ColdVerifier> parse_cold_verifier(const std::string& s);  // "worker" | "error"
const char* cold_verifier_name(ColdVerifier c);
// The stricter of two policies (error is stricter than worker).
inline ColdVerifier stricter(ColdVerifier a, ColdVerifier b) {
  return a == ColdVerifier::kError || b == ColdVerifier::kError ? ColdVerifier::kError
                                                                : ColdVerifier::kWorker;
}

struct PoolConfig {
  std::string name;
  std::array<ProviderSpec, kNumAgents> slots;
  RolePrompts prompts;
  std::optional<ColdVerifier> cold_verifier;  // pool key "cold_verifier"; unset: the default
  MessageShape message_shape = MessageShape::kRendered;
  CircuitBreakerConfig circuit_breaker;  // pool key "circuit_breaker": the specs' default
};

// Parses a pool from JSON; `what` (the file path) prefixes every error, with the field path.
Result<PoolConfig> parse_pool_json(const Json& j, const std::string& what);
Result<PoolConfig> parse_pool_text(const std::string& text, const std::string& what);
// "mock" / "default" -> the built-in pools; anything else is a file path.
Result<PoolConfig> load_pool(const std::string& name_or_path);
PoolConfig builtin_mock_pool();
PoolConfig builtin_default_pool();

// One entry of an agent exclusion list (a request's `trinity.exclude_agents`, serve
// --exclude-agents): a slot index 0..6, or a model name, which excludes every slot whose spec
// or one of its fallbacks names that model.
struct AgentRef {
  std::optional<int> slot;
  std::string model;
};
// The excluded slots; `field` names the list in errors (an out-of-range slot, a model no slot
// serves). Excluding every slot is left to the caller (the orchestrator refuses such a run).
Result<std::array<bool, kNumAgents>> resolve_excluded_agents(const std::vector<AgentRef>& refs,
                                                             const PoolConfig& pool,
                                                             const std::string& field);
// The slots set in an exclusion mask, ascending (what traces and answers show).
std::vector<int> excluded_slots(const std::array<bool, kNumAgents>& excluded);
// "2,gpt-4o-mini" -> [slot 2, model gpt-4o-mini]: all-digit items are slots.
std::vector<AgentRef> parse_agent_ref_list(const std::string& list);

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_env();

// Everything checked before any provider call: live providers (slots and fallbacks) need
// allow_live, and every api_key_env must name a set, non-empty variable. Returns the key value
// per slot ("" if none).
Result<std::array<std::string, kNumAgents>> resolve_api_keys(const PoolConfig& pool,
                                                             bool allow_live, const EnvLookup& env);
// The same checks; the value of every api_key_env the pool names (slots and fallbacks), by
// variable name.
using ApiKeys = std::map<std::string, std::string>;
Result<ApiKeys> resolve_pool_keys(const PoolConfig& pool, bool allow_live, const EnvLookup& env);

}  // namespace trinity::coord
