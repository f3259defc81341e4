#include "coord/pool.h"

#include "coord/skills.h"

#include <cmath>
#include <cstdlib>

#include "core/file_util.h"

namespace trinity::coord {
namespace {

const char* const kSpecFields[] = {
    "provider",           "model",       "base_url",    "api_key_env",
    "max_tokens",         "temperature", "timeout_ms",  "price_in_per_mtok",
    "price_out_per_mtok", "headers",     "max_retries", "name"};

bool known_field(const std::string& k) {
  for (const char* f : kSpecFields)
    if (k == f) return true;
  return false;
}

Status field_error(const std::string& ctx, const std::string& field, const std::string& msg) {
  return parse_error(ctx + "." + field + ": " + msg);
}

Result<ProviderSpec> parse_spec(const Json& j, const std::string& ctx) {
  if (!j.is_object()) return parse_error(ctx + ": must be an object (a provider spec)");
  ProviderSpec s;
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
    if (k == "provider") {
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

}  // namespace

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
        k != "cold_verifier" && k != "message_shape")
      return parse_error(what + ": " + k +
                         ": unknown field (expected name, defaults, slots, "
                         "prompts, message_shape, cold_verifier)");
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
    Json merged = defaults;
    for (auto f = entry->begin(); f != entry->end(); ++f) merged[f.key()] = f.value();
    TRINITY_ASSIGN_OR_RETURN(pool.slots[static_cast<size_t>(i)], parse_spec(merged, ctx));
  }
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

Result<std::array<std::string, kNumAgents>> resolve_api_keys(const PoolConfig& pool,
                                                             bool allow_live,
                                                             const EnvLookup& env) {
  std::array<std::string, kNumAgents> keys;
  std::vector<std::string> live;
  for (int i = 0; i < kNumAgents; ++i)
    if (pool.slots[static_cast<size_t>(i)].is_live()) live.push_back(std::to_string(i));
  if (!live.empty() && !allow_live) {
    std::string slots;
    for (const auto& s : live) slots += (slots.empty() ? "" : ", ") + s;
    return invalid_argument("pool '" + pool.name + "' uses live providers (slots " + slots +
                            "); pass --allow-live to let this run call them");
  }
  for (int i = 0; i < kNumAgents; ++i) {
    const ProviderSpec& s = pool.slots[static_cast<size_t>(i)];
    if (s.api_key_env.empty()) continue;
    auto v = env(s.api_key_env);
    if (!v || v->empty())
      return invalid_argument("pool '" + pool.name + "': slot " + std::to_string(i) + " (" +
                              s.provider + " " + s.model +
                              ") needs an API key in the environment "
                              "variable " +
                              s.api_key_env + ", which is not set");
    keys[static_cast<size_t>(i)] = *v;
  }
  return keys;
}

}  // namespace trinity::coord
