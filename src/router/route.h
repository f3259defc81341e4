// Routing types shared by every router profile and by the coordinator.
//
// A Router maps a conversation (the plain transcript: system/user/assistant messages, never the
// coordinator's role prompts) to an agent slot (0-6) and a role (0 Worker, 1 Thinker, 2 Verifier),
// with the logits, margins and the two reference-compatible hashes (see etf_hash.h).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "io/router_head.h"

namespace trinity {

// A function call an assistant message made (OpenAI `tool_calls`, Anthropic `tool_use`).
struct ToolCall {
  std::string id;         // the call id ("call_..."), as the model gave it or generated
  std::string name;       // the function's name
  std::string arguments;  // JSON text, byte for byte as the model wrote it
  bool operator==(const ToolCall&) const = default;
};

struct Message {
  std::string role;  // "system" | "user" | "assistant" | "tool" (a tool call's result)
  std::string content;
  std::vector<ToolCall> tool_calls = {};  // assistant messages: the calls it made
  std::string tool_call_id = {};          // tool messages: the call this is the result of
  bool operator==(const Message&) const = default;
};

// The content the router reads for a message (docs/coordinator.md, "Tools"): the content, then
// one line "[tool_call NAME ARGUMENTS]" per tool call (after a "\n" when the content is not
// empty). Tool results are their content. build_transcript, the transcript hashes and every
// router read messages through this, so transcript_hash follows this text.
std::string routed_content(const Message& m);

inline constexpr int kRoleWorker = 0;
inline constexpr int kRoleThinker = 1;
inline constexpr int kRoleVerifier = 2;

// "Worker" / "Thinker" / "Verifier"; "unknown" outside 0..2.
const char* role_name(int role_id);
// "worker" / "thinker" / "verifier"; "unknown" outside 0..2 (the reference's role atoms).
const char* role_atom(int role_id);
// Training-metadata label of an agent slot (not a provider binding); "unknown" outside 0..6.
const char* agent_label(int agent_id);

struct RouteDecision {
  int agent_id = 0;
  int role_id = 0;
  std::array<float, kNumAgents> agent_logits{};
  std::array<float, kNumRoles> role_logits{};
  // top1 - top2 in f64 of the f32 logits. Empty when a router cannot provide them.
  std::optional<double> agent_margin;
  std::optional<double> role_margin;
  int64_t token_count = 0;
  std::string transcript_hash;  // lowercase hex sha256 of the ETF of the messages
  std::string route_hash;       // lowercase hex sha256 of the ETF of [agent, role, rounded logits]
  std::string profile;          // router profile that made the decision
  // The 10 logits in double precision, for routers that compute them so (mock_tiny); when set,
  // rounded_logits() and to_json() use them instead of the f32 arrays.
  std::optional<std::array<double, kNumAgents + kNumRoles>> logits_f64;

  // Logit i of the 10 (7 agent then 3 role): logits_f64 when set, else the f32 value widened.
  // Everything that shows or hashes logits reads them through this.
  double logit(int i) const;
  // The 10 logits (7 agent then 3 role), each rounded to 6 decimals (Elixir Float.round).
  std::array<double, kNumAgents + kNumRoles> rounded_logits() const;
  // {agent_id, role_id, role_name, agent_label, agent_logits, role_logits, agent_margin,
  //  role_margin, token_count, transcript_hash, route_hash}
  OrderedJson to_json() const;
};

// Reflex confidence floors of a router profile (low band below them, high band at >= 4x).
struct ReflexFloors {
  double agent = 0.24;
  double role = 1.06;
};

// A router. route() must be safe to call concurrently from many threads on one instance.
class Router {
 public:
  virtual ~Router() = default;
  virtual Result<RouteDecision> route(const std::vector<Message>& messages) const = 0;
  // Several conversations at once (the eval's cases, concurrent requests). Routers that can
  // batch (one forward pass streams the weights once) override it; the default routes each.
  virtual Result<std::vector<RouteDecision>> route_batch(
      const std::vector<std::vector<Message>>& batch) const {
    std::vector<RouteDecision> out;
    out.reserve(batch.size());
    for (const auto& messages : batch) {
      auto d = route(messages);
      if (!d.ok()) return d.status();
      out.push_back(std::move(d).value());
    }
    return out;
  }
  // Label of the compute backend behind the decisions (eval headers, traces).
  virtual std::string backend_label() const { return profile(); }
  virtual std::string profile() const = 0;
  virtual ReflexFloors reflex_floors() const { return ReflexFloors{}; }
  // Drops whatever the router keeps from earlier calls to skip work (ModelRouter: the engine's
  // KV prefix cache), so that the next routes compute every token again: the eval's
  // determinism passes then check the computation, not the cache. Decisions do not change
  // (hence const); routers that keep nothing do nothing. Not concurrent with routing.
  virtual void clear_prefix_cache() const {}
};

// role + ": " + routed_content, joined by "\n" (no chat template, no special tokens).
std::string build_transcript(const std::vector<Message>& messages);

// Index of the largest value, first index on ties. n must be > 0.
int argmax_first(const float* values, int n);
// top1 - top2 computed in f64 from the f32 values (n >= 2; 0 for n < 2).
double top_margin(const float* values, int n);

// Rounds to `digits` decimals like Elixir's Float.round/2: on the exact decimal value of the
// double, ties away from zero; the result is the double nearest to the rounded decimal.
double elixir_round(double value, int digits = 6);

// Fills agent_id/role_id/margins/route_hash from the logits and transcript_hash from messages.
// token_count and profile are left to the caller.
Result<RouteDecision> make_route_decision(const std::vector<Message>& messages,
                                          const std::array<float, kNumAgents>& agent_logits,
                                          const std::array<float, kNumRoles>& role_logits);

// Restricts a decision to the allowed agent slots (a request's or server's exclusions): the
// agent becomes the argmax of the allowed slots' logits (first index on ties), agent_margin the
// top1 - top2 over them (unset when only one slot is allowed) and route_hash follows the new
// agent. The logits themselves are kept. kInvalidArgument when no slot is allowed.
Status restrict_agents(RouteDecision& d, const std::array<bool, kNumAgents>& allowed);

// Messages JSON: an array of {role, content}, role in system|user|assistant, content a string.
// `what` names the source (a file path) in errors. (Tool messages come in through the server's
// OpenAI parsers, not through files.)
Result<std::vector<Message>> messages_from_json(const Json& j, const std::string& what);
Result<std::vector<Message>> load_messages_file(const std::string& path);
// {role, content} per message, plus OpenAI's `tool_calls` ([{id, type: "function", function:
// {name, arguments}}]) and `tool_call_id` where a message has them.
Json messages_to_json(const std::vector<Message>& messages);

}  // namespace trinity
