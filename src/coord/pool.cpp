#include "coord/pool.h"

#include "coord/skills.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "coord/parse.h"
#include "core/file_util.h"

namespace trinity::coord {
namespace {

const char* const kSpecFields[] = {
    "provider",    "model",      "base_url",          "api_key_env",        "max_tokens",
    "temperature", "timeout_ms", "price_in_per_mtok", "price_out_per_mtok", "headers",
    "max_retries", "name",       "circuit_breaker",   "fallbacks"};
constexpr size_t kMaxFallbacks = 8;

bool known_field(const std::string& k) {
  for (const char* f : kSpecFields)
    if (k == f) return true;
  return false;
}

Status field_error(const std::string& ctx, const std::string& field, const std::string& msg) {
  return parse_error(ctx + "." + field + ": " + msg);
}

// {failures, open_seconds} over `base`; `ctx` names the object ("pool.json: circuit_breaker").
Result<CircuitBreakerConfig> parse_circuit_breaker(const Json& j, const std::string& ctx,
                                                   CircuitBreakerConfig base) {
  if (!j.is_object()) return parse_error(ctx + ": must be an object {failures, open_seconds}");
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const Json& v = it.value();
    if (k == "failures") {
      if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 1000)
        return field_error(ctx, k, "must be an integer in [0, 1000] (0: the circuit never opens)");
      base.failures = v.get<int64_t>();
    } else if (k == "open_seconds") {
      const double sec = v.is_number() ? v.get<double>() : -1;
      if (!std::isfinite(sec) || sec < 0.001 || sec > 86400)
        return field_error(ctx, k, "must be a number of seconds in [0.001, 86400]");
      base.open_ms = std::llround(sec * 1000);
    } else {
      return field_error(ctx, k, "unknown field (expected failures, open_seconds)");
    }
  }
  return base;
}

Result<ProviderSpec> parse_spec(const Json& j, const std::string& ctx,
                                const CircuitBreakerConfig& pool_breaker) {
  if (!j.is_object()) return parse_error(ctx + ": must be an object (a provider spec)");
  ProviderSpec s;
  s.circuit_breaker = pool_breaker;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const Json& v = it.value();
    if (!known_field(k)) {
      if (k == "api_key" || k == "key" || k == "token")
        return field_error(ctx, k,
                           "keys are never read from the pool file; name an environment "
                           "variable with api_key_env");
      return field_error(ctx, k, "unknown field");
    }
    auto need_string = [&](std::string* out) -> Status {
      if (!v.is_string()) return field_error(ctx, k, "must be a string");
      *out = v.get<std::string>();
      return ok_status();
    };
    auto need_int = [&](int64_t* out, int64_t min) -> Status {
      if (!v.is_number_integer() || v.get<int64_t>() < min)
        return field_error(ctx, k, "must be an integer >= " + std::to_string(min));
      *out = v.get<int64_t>();
      return ok_status();
    };
    auto need_price = [&](double* out) -> Status {
      if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0)
        return field_error(ctx, k, "must be a non-negative number (USD per million tokens)");
      *out = v.get<double>();
      return ok_status();
    };
    if (k == "fallbacks") {
      continue;  // parse_slot's
    } else if (k == "circuit_breaker") {
      TRINITY_ASSIGN_OR_RETURN(s.circuit_breaker,
                               parse_circuit_breaker(v, ctx + "." + k, pool_breaker));
    } else if (k == "provider") {
      TRINITY_RETURN_IF_ERROR(need_string(&s.provider));
    } else if (k == "name") {
      TRINITY_RETURN_IF_ERROR(need_string(&s.name));
    } else if (k == "model") {
      TRINITY_RETURN_IF_ERROR(need_string(&s.model));
    } else if (k == "base_url") {
      TRINITY_RETURN_IF_ERROR(need_string(&s.base_url));
    } else if (k == "api_key_env") {
      if (!v.is_null()) TRINITY_RETURN_IF_ERROR(need_string(&s.api_key_env));
    } else if (k == "max_tokens") {
      TRINITY_RETURN_IF_ERROR(need_int(&s.max_tokens, 1));
    } else if (k == "timeout_ms") {
      TRINITY_RETURN_IF_ERROR(need_int(&s.timeout_ms, 1));
    } else if (k == "max_retries") {
      TRINITY_RETURN_IF_ERROR(need_int(&s.max_retries, 0));
      if (s.max_retries > 10) return field_error(ctx, k, "must be at most 10");
    } else if (k == "temperature") {
      if (v.is_null()) {
        s.temperature.reset();
      } else {
        if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0 ||
            v.get<double>() > 2)
          return field_error(ctx, k, "must be a number in [0, 2] or null");
        s.temperature = v.get<double>();
      }
    } else if (k == "price_in_per_mtok") {
      TRINITY_RETURN_IF_ERROR(need_price(&s.price_in_per_mtok));
    } else if (k == "price_out_per_mtok") {
      TRINITY_RETURN_IF_ERROR(need_price(&s.price_out_per_mtok));
    } else if (k == "headers") {
      if (!v.is_object()) return field_error(ctx, k, "must be an object of string values");
      for (auto h = v.begin(); h != v.end(); ++h) {
        if (!h.value().is_string()) return field_error(ctx, k + "." + h.key(), "must be a string");
        if (h.key().empty() || h.key().find_first_of(":\r\n") != std::string::npos)
          return field_error(ctx, k + "." + h.key(), "is not a valid header name");
        const std::string hv = h.value().get<std::string>();
        if (hv.find_first_of("\r\n") != std::string::npos)
          return field_error(ctx, k + "." + h.key(), "must not contain line breaks");
        s.headers[h.key()] = hv;
      }
    }
  }
  if (s.provider.empty()) return field_error(ctx, "provider", "is required");
  if (s.provider != "mock" && s.provider != "skills" && s.provider != "openai" &&
      s.provider != "anthropic")
    return field_error(ctx, "provider",
                       "must be mock, skills, openai or anthropic, got '" + s.provider + "'");
  if (s.model.empty()) return field_error(ctx, "model", "is required (a non-empty string)");
  if (s.base_url.empty()) {
    if (s.provider == "openai") s.base_url = "https://api.openai.com/v1";
    if (s.provider == "anthropic") s.base_url = "https://api.anthropic.com/v1";
  }
  if (s.is_live() && s.base_url.rfind("http://", 0) != 0 && s.base_url.rfind("https://", 0) != 0)
    return field_error(ctx, "base_url", "must start with http:// or https://");
  while (!s.base_url.empty() && s.base_url.back() == '/') s.base_url.pop_back();
  if (s.provider == "anthropic" && s.api_key_env.empty())
    return field_error(ctx, "api_key_env", "is required for the anthropic provider");
  return s;
}

// A slot: `entry` merged over `defaults`, then its fallbacks, each merged over `defaults`
// (without the defaults' own fallbacks and name). `where` is the pool file's name, for errors about
// the defaults' fallbacks.
Result<ProviderSpec> parse_slot(const Json& entry, const Json& defaults, const std::string& ctx,
                                const std::string& where, const CircuitBreakerConfig& breaker) {
  Json merged = defaults;
  for (auto f = entry.begin(); f != entry.end(); ++f) merged[f.key()] = f.value();
  TRINITY_ASSIGN_OR_RETURN(ProviderSpec spec, parse_spec(merged, ctx, breaker));
  auto list = merged.find("fallbacks");
  if (list == merged.end() || list->is_null()) return spec;
  const std::string lctx =
      (entry.contains("fallbacks") ? ctx : where + ": defaults") + ".fallbacks";
  if (!list->is_array()) return parse_error(lctx + ": must be an array of provider specs");
  if (list->size() > kMaxFallbacks)
    return parse_error(lctx + ": at most " + std::to_string(kMaxFallbacks) + " fallbacks");
  Json base = defaults;
  base.erase("fallbacks");
  base.erase("name");  // a name is the slot's endpoint's, not its fallbacks'
  std::vector<std::string> seen = {endpoint_key(spec)};
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string fctx = lctx + "[" + std::to_string(i) + "]";
    const Json& f = (*list)[i];
    if (!f.is_object()) return parse_error(fctx + ": must be an object (a provider spec)");
    if (f.contains("fallbacks"))
      return field_error(fctx, "fallbacks",
                         "fallbacks cannot be nested: list every fallback in the slot's "
                         "fallbacks, in the order to try them");
    Json fm = base;
    for (auto it = f.begin(); it != f.end(); ++it) fm[it.key()] = it.value();
    TRINITY_ASSIGN_OR_RETURN(ProviderSpec fb, parse_spec(fm, fctx, breaker));
    const std::string key = endpoint_key(fb);
    if (std::find(seen.begin(), seen.end(), key) != seen.end())
      return parse_error(fctx + ": endpoint " + key +
                         " is already in this slot's list: it would share that circuit and add "
                         "nothing");
    seen.push_back(key);
    spec.fallbacks.push_back(std::move(fb));
  }
  return spec;
}

// One endpoint has one circuit: every live spec naming it must agree on its settings.
Status check_circuit_settings(const PoolConfig& pool, const std::string& what) {
  std::map<std::string, std::pair<CircuitBreakerConfig, std::string>> first;
  auto visit = [&](const ProviderSpec& s, const std::string& path) -> Status {
    if (!s.is_live()) return ok_status();
    auto [it, inserted] = first.emplace(endpoint_key(s), std::make_pair(s.circuit_breaker, path));
    if (inserted || it->second.first == s.circuit_breaker) return ok_status();
    return parse_error(what + ": " + path + ".circuit_breaker: endpoint " + it->first +
                       " has one circuit, configured differently at " + it->second.second);
  };
  for (int i = 0; i < kNumAgents; ++i) {
    const ProviderSpec& s = pool.slots[static_cast<size_t>(i)];
    const std::string path = "slots[" + std::to_string(i) + "]";
    TRINITY_RETURN_IF_ERROR(visit(s, path));
    for (size_t f = 0; f < s.fallbacks.size(); ++f)
      TRINITY_RETURN_IF_ERROR(
          visit(s.fallbacks[f], path + ".fallbacks[" + std::to_string(f) + "]"));
  }
  return ok_status();
}

}  // namespace

std::string endpoint_key(const ProviderSpec& spec) {
  std::string k = spec.provider + ":" + spec.model;
  if (!spec.is_live()) return k;    // no URL, no key
  std::string url = spec.base_url;  // without user:password@ (never in a key, a trace or a label)
  const size_t scheme = url.find("://");
  if (scheme != std::string::npos) {
    const size_t host = scheme + 3, path = url.find('/', host), at = url.rfind('@', path);
    if (at != std::string::npos && at >= host) url.erase(host, at + 1 - host);
  }
  if (!url.empty()) k += "@" + url;
  if (!spec.api_key_env.empty()) k += " key:" + spec.api_key_env;
  return k;
}

std::string endpoint_name(const ProviderSpec& spec) {
  return spec.name.empty() ? spec.provider + "/" + spec.model : spec.name;
}

RolePrompts default_role_prompts() {
  RolePrompts p;
  p.system[kRoleWorker] =
      "You are the Worker in a team of AI agents solving the user's request together. Produce "
      "the next concrete step toward the answer: do the work (compute, write, derive) rather "
      "than describe it. If you can complete the task, give the complete final answer, stated "
      "clearly and concisely.";
  p.system[kRoleThinker] =
      "You are the Thinker in a team of AI agents solving the user's request together. Do not "
      "give an unchecked final answer. Instead provide a plan, a decomposition into steps, or a "
      "critique of the work so far (errors, gaps, risky assumptions). End with exactly one "
      "suggestion for the next step and the role that should take it, in this format:\n"
      "<suggestion>what should happen next</suggestion>\n"
      "<suggested_role>solver or verifier</suggested_role>\n"
      "(solver: a Worker should take the next step; verifier: the answer is ready to check).";
  p.system[kRoleVerifier] =
      "You are the Verifier in a team of AI agents solving the user's request together. Check "
      "the latest Worker answer against the user's request. Start your reply with exactly "
      "ACCEPT or REVISE, followed by a short diagnosis: why the answer is correct and complete, "
      "or what must be fixed.";
  return p;
}

RolePrompts reference_role_prompts() {
  RolePrompts p;
  p.system[kRoleWorker] =
      "Execute the next concrete step of the plan. Write code, math, derivations, calculations, "
      "or concrete answer content that advances the solution.";
  p.system[kRoleThinker] =
      "Analyze the current state and provide high-level guidance, plans, decompositions, or "
      "critiques. Do not present unchecked final answers unless the transcript already contains "
      "enough evidence.";
  p.system[kRoleVerifier] =
      "Check the current solution for correctness, completeness, and responsiveness. Start your "
      "response with exactly ACCEPT or REVISE. After REVISE, include a concise diagnosis.";
  return p;
}

Result<MessageShape> parse_message_shape(const std::string& s) {
  if (s == "rendered") return MessageShape::kRendered;
  if (s == "reference") return MessageShape::kReference;
  return invalid_argument("message shape must be rendered or reference, got '" + s + "'");
}

const char* message_shape_name(MessageShape m) {
  return m == MessageShape::kReference ? "reference" : "rendered";
}

Result<ColdVerifier> parse_cold_verifier(const std::string& s) {
  if (s == "worker") return ColdVerifier::kWorker;
  if (s == "error") return ColdVerifier::kError;
  return invalid_argument("cold-verifier policy must be worker or error, got '" + s + "'");
}

const char* cold_verifier_name(ColdVerifier c) {
  return c == ColdVerifier::kError ? "error" : "worker";
}

Result<PoolConfig> parse_pool_json(const Json& j, const std::string& what) {
  if (!j.is_object()) return parse_error(what + ": the pool must be a JSON object");
  PoolConfig pool;
  pool.prompts = default_role_prompts();
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    if (k != "name" && k != "defaults" && k != "slots" && k != "prompts" && k != "schema_version" &&
        k != "cold_verifier" && k != "message_shape" && k != "circuit_breaker")
      return parse_error(what + ": " + k +
                         ": unknown field (expected name, defaults, slots, "
                         "prompts, message_shape, cold_verifier, circuit_breaker)");
  }
  if (j.contains("circuit_breaker")) {
    TRINITY_ASSIGN_OR_RETURN(pool.circuit_breaker,
                             parse_circuit_breaker(j["circuit_breaker"], what + ": circuit_breaker",
                                                   CircuitBreakerConfig{}));
  }
  if (j.contains("message_shape")) {
    const Json& ms = j["message_shape"];
    auto shape = ms.is_string() ? parse_message_shape(ms.get<std::string>())
                                : Result<MessageShape>(invalid_argument("must be a string"));
    if (!shape.ok()) return parse_error(what + ": message_shape: " + shape.status().message());
    pool.message_shape = *shape;
  }
  if (j.contains("cold_verifier")) {
    const Json& cv = j["cold_verifier"];
    if (!cv.is_string())
      return parse_error(what + ": cold_verifier: must be \"worker\" or \"error\"");
    auto policy = parse_cold_verifier(cv.get<std::string>());
    if (!policy.ok()) return parse_error(what + ": cold_verifier: " + policy.status().message());
    pool.cold_verifier = *policy;
  }
  if (j.contains("name")) {
    if (!j["name"].is_string()) return parse_error(what + ": name: must be a string");
    pool.name = j["name"].get<std::string>();
  } else {
    pool.name = what;
  }
  Json defaults = Json::object();
  if (j.contains("defaults")) {
    if (!j["defaults"].is_object()) return parse_error(what + ": defaults: must be an object");
    defaults = j["defaults"];
  }
  if (!j.contains("slots")) return parse_error(what + ": slots: is required (7 provider specs)");
  const Json& slots = j["slots"];
  for (int i = 0; i < kNumAgents; ++i) {
    const std::string ctx = what + ": slots[" + std::to_string(i) + "]";
    const Json* entry = nullptr;
    if (slots.is_array()) {
      if (slots.size() != kNumAgents)
        return parse_error(what + ": slots: must have exactly 7 entries, got " +
                           std::to_string(slots.size()));
      entry = &slots[static_cast<size_t>(i)];
    } else if (slots.is_object()) {
      auto f = slots.find(std::to_string(i));
      if (f == slots.end())
        return parse_error(what + ": slots: slot \"" + std::to_string(i) + "\" (" + agent_label(i) +
                           ") is missing");
      entry = &*f;
    } else {
      return parse_error(what + ": slots: must be an array of 7 specs or an object keyed 0-6");
    }
    if (!entry->is_object()) return parse_error(ctx + ": must be an object (a provider spec)");
    TRINITY_ASSIGN_OR_RETURN(pool.slots[static_cast<size_t>(i)],
                             parse_slot(*entry, defaults, ctx, what, pool.circuit_breaker));
  }
  TRINITY_RETURN_IF_ERROR(check_circuit_settings(pool, what));
  if (slots.is_object()) {
    for (auto it = slots.begin(); it != slots.end(); ++it) {
      const std::string& k = it.key();
      if (k.size() != 1 || k[0] < '0' || k[0] > '6')
        return parse_error(what + ": slots: unknown slot key '" + k + "' (expected 0-6)");
    }
  }
  if (j.contains("prompts")) {
    const Json& p = j["prompts"];
    if (p.is_string() && p.get<std::string>() == "reference") {
      pool.prompts = reference_role_prompts();
      return pool;
    }
    if (!p.is_object())
      return parse_error(what +
                         ": prompts: must be \"reference\" or an object {Worker, Thinker, "
                         "Verifier}");
    for (auto it = p.begin(); it != p.end(); ++it) {
      int role = -1;
      for (int r = 0; r < kNumRoles; ++r)
        if (it.key() == role_name(r)) role = r;
      if (role < 0)
        return parse_error(what + ": prompts." + it.key() +
                           ": unknown role (expected Worker, Thinker, Verifier)");
      if (!it.value().is_string() || it.value().get<std::string>().empty())
        return parse_error(what + ": prompts." + it.key() + ": must be a non-empty string");
      pool.prompts.system[static_cast<size_t>(role)] = it.value().get<std::string>();
    }
  }
  return pool;
}

Result<PoolConfig> parse_pool_text(const std::string& text, const std::string& what) {
  TRINITY_ASSIGN_OR_RETURN(Json j, parse_json(text, what));
  return parse_pool_json(j, what);
}

PoolConfig builtin_mock_pool() {
  PoolConfig pool;
  pool.name = "mock";
  pool.prompts = default_role_prompts();
  for (int i = 0; i < kNumAgents; ++i) {
    ProviderSpec& s = pool.slots[static_cast<size_t>(i)];
    s.name = "mock_" + std::to_string(i);
    s.provider = "mock";
    s.model = "mock-agent-" + std::to_string(i);
    s.timeout_ms = 1000;
    s.max_retries = 0;
  }
  return pool;
}

PoolConfig builtin_default_pool() {
  static const char* const kNames[kNumAgents] = {
      "fast_openai",   "default_reasoning", "compact_reasoning", "backup_openai",
      "fast_openai_2", "reasoner_2",        "fallback_openai"};
  PoolConfig pool;
  pool.name = "default";
  pool.prompts = default_role_prompts();
  for (int i = 0; i < kNumAgents; ++i) {
    ProviderSpec& s = pool.slots[static_cast<size_t>(i)];
    s.name = kNames[i];
    s.provider = "openai";
    s.model = "gpt-4o-mini";
    s.base_url = "https://api.openai.com/v1";
    s.api_key_env = "OPENAI_API_KEY";
    s.max_tokens = 200;  // the reference's spec defaults
    s.temperature = 0.2;
    s.timeout_ms = 30000;
  }
  return pool;
}

Result<PoolConfig> load_pool(const std::string& name_or_path) {
  if (name_or_path == "mock") return builtin_mock_pool();
  if (name_or_path == "default") return builtin_default_pool();
  if (name_or_path == "skills") return builtin_skills_pool();
  auto text = read_file(name_or_path);
  if (!text.ok()) return text.status().with_context("pool " + name_or_path);
  return parse_pool_text(*text, name_or_path);
}

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

Result<ApiKeys> resolve_pool_keys(const PoolConfig& pool, bool allow_live, const EnvLookup& env) {
  std::string live;  // "0, 2 (a fallback)"
  for (int i = 0; i < kNumAgents; ++i) {
    const ProviderSpec& s = pool.slots[static_cast<size_t>(i)];
    const bool fallback = std::any_of(s.fallbacks.begin(), s.fallbacks.end(),
                                      [](const ProviderSpec& f) { return f.is_live(); });
    if (!s.is_live() && !fallback) continue;
    live += (live.empty() ? "" : ", ") + std::to_string(i) + (s.is_live() ? "" : " (a fallback)");
  }
  if (!live.empty() && !allow_live)
    return invalid_argument("pool '" + pool.name + "' uses live providers (slots " + live +
                            "); pass --allow-live to let this run call them");
  ApiKeys keys;
  for (int i = 0; i < kNumAgents; ++i) {
    const ProviderSpec& slot = pool.slots[static_cast<size_t>(i)];
    for (size_t f = 0; f <= slot.fallbacks.size(); ++f) {
      const ProviderSpec& s = f == 0 ? slot : slot.fallbacks[f - 1];
      if (s.api_key_env.empty() || keys.count(s.api_key_env)) continue;
      auto v = env(s.api_key_env);
      if (!v || v->empty())
        return invalid_argument("pool '" + pool.name + "': slot " + std::to_string(i) +
                                (f == 0 ? "" : " fallback " + std::to_string(f - 1)) + " (" +
                                s.provider + " " + s.model +
                                ") needs an API key in the environment variable " + s.api_key_env +
                                ", which is not set");
      keys[s.api_key_env] = *v;
    }
  }
  return keys;
}

Result<std::array<std::string, kNumAgents>> resolve_api_keys(const PoolConfig& pool,
                                                             bool allow_live,
                                                             const EnvLookup& env) {
  TRINITY_ASSIGN_OR_RETURN(ApiKeys all, resolve_pool_keys(pool, allow_live, env));
  std::array<std::string, kNumAgents> keys;
  for (int i = 0; i < kNumAgents; ++i) {
    const ProviderSpec& s = pool.slots[static_cast<size_t>(i)];
    if (!s.api_key_env.empty()) keys[static_cast<size_t>(i)] = all[s.api_key_env];
  }
  return keys;
}

Result<std::array<bool, kNumAgents>> resolve_excluded_agents(const std::vector<AgentRef>& refs,
                                                             const PoolConfig& pool,
                                                             const std::string& field) {
  std::array<bool, kNumAgents> excluded{};
  for (size_t i = 0; i < refs.size(); ++i) {
    const std::string what = field + "[" + std::to_string(i) + "]";
    if (refs[i].slot) {
      const int slot = *refs[i].slot;
      if (slot < 0 || slot >= kNumAgents)
        return invalid_argument(what + ": agent slot " + std::to_string(slot) +
                                " is out of range (0-6)");
      excluded[static_cast<size_t>(slot)] = true;
      continue;
    }
    bool found = false;
    for (size_t k = 0; k < pool.slots.size(); ++k) {
      const ProviderSpec& s = pool.slots[k];
      bool serves = s.model == refs[i].model;
      for (const ProviderSpec& f : s.fallbacks) serves = serves || f.model == refs[i].model;
      if (serves) excluded[k] = found = true;
    }
    if (!found)
      return invalid_argument(what + ": no agent slot of pool '" + pool.name +
                              "' serves the model '" + refs[i].model + "'");
  }
  return excluded;
}

std::vector<int> excluded_slots(const std::array<bool, kNumAgents>& excluded) {
  std::vector<int> out;
  for (int i = 0; i < kNumAgents; ++i)
    if (excluded[static_cast<size_t>(i)]) out.push_back(i);
  return out;
}

std::vector<AgentRef> parse_agent_ref_list(const std::string& list) {
  std::vector<AgentRef> out;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    const std::string item = trim(list.substr(pos, comma - pos));
    pos = comma + 1;
    if (item.empty()) continue;
    AgentRef ref;
    if (item.size() <= 3 &&
        std::all_of(item.begin(), item.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      ref.slot = std::stoi(item);
    } else {
      ref.model = item;
    }
    out.push_back(std::move(ref));
  }
  return out;
}

}  // namespace trinity::coord
