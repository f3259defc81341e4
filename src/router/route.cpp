#include "router/route.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/file_util.h"
#include "router/etf_hash.h"

namespace trinity {

const char* role_atom(int role_id) {
  switch (role_id) {
    case kRoleWorker:
      return "worker";
    case kRoleThinker:
      return "thinker";
    case kRoleVerifier:
      return "verifier";
    default:
      return "unknown";
  }
}

const char* role_name(int role_id) {
  switch (role_id) {
    case kRoleWorker:
      return "Worker";
    case kRoleThinker:
      return "Thinker";
    case kRoleVerifier:
      return "Verifier";
    default:
      return "unknown";
  }
}

const char* agent_label(int agent_id) {
  static const char* const kLabels[kNumAgents] = {
      "gpt-5",
      "claude-sonnet-4-20250514",
      "gemini-2.5-pro",
      "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B",
      "google/gemma-3-27b-it",
      "Qwen/Qwen3-32B (reasoning)",
      "Qwen/Qwen3-32B (direct)",
  };
  if (agent_id < 0 || agent_id >= kNumAgents) return "unknown";
  return kLabels[agent_id];
}

double RouteDecision::logit(int i) const {
  if (logits_f64) return (*logits_f64)[static_cast<size_t>(i)];
  return i < kNumAgents ? static_cast<double>(agent_logits[static_cast<size_t>(i)])
                        : static_cast<double>(role_logits[static_cast<size_t>(i - kNumAgents)]);
}

std::array<double, kNumAgents + kNumRoles> RouteDecision::rounded_logits() const {
  std::array<double, kNumAgents + kNumRoles> out{};
  for (int i = 0; i < kNumAgents + kNumRoles; ++i)
    out[static_cast<size_t>(i)] = elixir_round(logit(i));
  return out;
}

OrderedJson RouteDecision::to_json() const {
  OrderedJson j;
  j["agent_id"] = agent_id;
  j["role_id"] = role_id;
  j["role_name"] = role_name(role_id);
  j["agent_label"] = agent_label(agent_id);
  j["agent_logits"] = OrderedJson::array();
  j["role_logits"] = OrderedJson::array();
  for (int i = 0; i < kNumAgents + kNumRoles; ++i)
    j[i < kNumAgents ? "agent_logits" : "role_logits"].push_back(logit(i));
  j["agent_margin"] = agent_margin ? OrderedJson(*agent_margin) : OrderedJson(nullptr);
  j["role_margin"] = role_margin ? OrderedJson(*role_margin) : OrderedJson(nullptr);
  j["token_count"] = token_count;
  j["transcript_hash"] = transcript_hash;
  j["route_hash"] = route_hash;
  return j;
}

std::string routed_content(const Message& m) {
  if (m.tool_calls.empty()) return m.content;
  std::string out = m.content;
  for (const ToolCall& c : m.tool_calls) {
    if (!out.empty()) out += '\n';
    out += "[tool_call ";
    out += c.name;
    out += ' ';
    out += c.arguments;
    out += ']';
  }
  return out;
}

std::string build_transcript(const std::vector<Message>& messages) {
  std::string out;
  for (size_t i = 0; i < messages.size(); ++i) {
    if (i) out += '\n';
    out += messages[i].role;
    out += ": ";
    out += routed_content(messages[i]);
  }
  return out;
}

int argmax_first(const float* values, int n) {
  int best = 0;
  for (int i = 1; i < n; ++i)
    if (values[i] > values[best]) best = i;
  return best;
}

double top_margin(const float* values, int n) {
  if (n < 2) return 0.0;
  int top = argmax_first(values, n);
  double second = -INFINITY;
  for (int i = 0; i < n; ++i)
    if (i != top && static_cast<double>(values[i]) > second) second = values[i];
  return static_cast<double>(values[top]) - second;
}

double elixir_round(double value, int digits) {
  if (!std::isfinite(value) || digits < 0 || digits > 15) return value;
  // glibc printf prints the exact decimal expansion of a double for any precision.
  static constexpr int kPrecision = 1100;
  char buf[1500];
  int n = std::snprintf(buf, sizeof(buf), "%.*f", kPrecision, std::fabs(value));
  if (n <= 0 || n >= static_cast<int>(sizeof(buf))) return value;
  std::string s(buf, static_cast<size_t>(n));
  size_t dot = s.find('.');
  if (dot == std::string::npos) return value;
  bool round_up = s[dot + 1 + static_cast<size_t>(digits)] >= '5';
  std::string kept = s.substr(0, dot) + s.substr(dot + 1, static_cast<size_t>(digits));
  if (round_up) {
    int i = static_cast<int>(kept.size()) - 1;
    while (i >= 0 && kept[static_cast<size_t>(i)] == '9') kept[static_cast<size_t>(i--)] = '0';
    if (i >= 0)
      ++kept[static_cast<size_t>(i)];
    else
      kept.insert(kept.begin(), '1');
  }
  std::string rounded = kept.substr(0, kept.size() - static_cast<size_t>(digits)) + "." +
                        kept.substr(kept.size() - static_cast<size_t>(digits));
  double r = std::strtod(rounded.c_str(), nullptr);
  return std::signbit(value) ? -r : r;
}

Result<RouteDecision> make_route_decision(const std::vector<Message>& messages,
                                          const std::array<float, kNumAgents>& agent_logits,
                                          const std::array<float, kNumRoles>& role_logits) {
  RouteDecision d;
  d.agent_logits = agent_logits;
  d.role_logits = role_logits;
  d.agent_id = argmax_first(agent_logits.data(), kNumAgents);
  d.role_id = argmax_first(role_logits.data(), kNumRoles);
  d.agent_margin = top_margin(agent_logits.data(), kNumAgents);
  d.role_margin = top_margin(role_logits.data(), kNumRoles);
  TRINITY_ASSIGN_OR_RETURN(d.transcript_hash, transcript_hash(messages));
  auto rounded = d.rounded_logits();
  TRINITY_ASSIGN_OR_RETURN(d.route_hash,
                           route_hash(d.agent_id, d.role_id, rounded.data(), rounded.size()));
  return d;
}

Status restrict_agents(RouteDecision& d, const std::array<bool, kNumAgents>& allowed) {
  int best = -1, count = 0;
  for (int i = 0; i < kNumAgents; ++i) {
    if (!allowed[static_cast<size_t>(i)]) continue;
    ++count;
    if (best < 0 || d.logit(i) > d.logit(best)) best = i;
  }
  if (best < 0) return invalid_argument("every agent slot is excluded");
  double second = -INFINITY;
  for (int i = 0; i < kNumAgents; ++i)
    if (allowed[static_cast<size_t>(i)] && i != best) second = std::max(second, d.logit(i));
  d.agent_id = best;
  d.agent_margin = count >= 2 ? std::optional<double>(d.logit(best) - second) : std::nullopt;
  auto rounded = d.rounded_logits();
  TRINITY_ASSIGN_OR_RETURN(d.route_hash,
                           route_hash(d.agent_id, d.role_id, rounded.data(), rounded.size()));
  return ok_status();
}

Result<std::vector<Message>> messages_from_json(const Json& j, const std::string& what) {
  if (!j.is_array())
    return parse_error(what + ": messages must be a JSON array of {role, content}");
  if (j.empty()) return invalid_argument(what + ": messages must not be empty");
  std::vector<Message> out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string ctx = what + ": messages[" + std::to_string(i) + "]";
    const Json& m = j[i];
    if (!m.is_object()) return parse_error(ctx + " must be an object {role, content}");
    for (auto it = m.begin(); it != m.end(); ++it) {
      if (it.key() != "role" && it.key() != "content")
        return parse_error(ctx + ": unexpected field '" + it.key() + "'");
    }
    TRINITY_ASSIGN_OR_RETURN(std::string role, json_string(m, "role", ctx));
    TRINITY_ASSIGN_OR_RETURN(std::string content, json_string(m, "content", ctx));
    if (role != "system" && role != "user" && role != "assistant")
      return parse_error(ctx + ": role must be system, user or assistant, got '" + role + "'");
    out.push_back(Message{std::move(role), std::move(content)});
  }
  return out;
}

Result<std::vector<Message>> load_messages_file(const std::string& path) {
  TRINITY_ASSIGN_OR_RETURN(Json j, load_json_file(path));
  return messages_from_json(j, path);
}

Json messages_to_json(const std::vector<Message>& messages) {
  Json arr = Json::array();
  for (const auto& m : messages) {
    Json j{{"role", m.role}, {"content", m.content}};
    if (!m.tool_calls.empty()) {
      j["tool_calls"] = Json::array();
      for (const ToolCall& c : m.tool_calls)
        j["tool_calls"].push_back(
            Json{{"id", c.id},
                 {"type", "function"},
                 {"function", Json{{"name", c.name}, {"arguments", c.arguments}}}});
    }
    if (!m.tool_call_id.empty()) j["tool_call_id"] = m.tool_call_id;
    arr.push_back(std::move(j));
  }
  return arr;
}

}  // namespace trinity
