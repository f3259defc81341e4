// OpenAI wire format of `trinity serve`: Chat Completions requests in, completions / SSE chunks /
// errors out, plus the `trinity` extension object (see docs/server.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "coord/budget.h"
#include "coord/orchestrator.h"
#include "coord/tools.h"
#include "core/json.h"
#include "router/route.h"
#include "server/pool_provider.h"

namespace trinity::server {

inline constexpr const char* kServedModel = "trinity";

// What a request of any run endpoint (chat completions, responses) sets for its run.
struct RunRequest {
  ProviderOverrides overrides;  // max tokens, temperature: every provider call of the run
  coord::Budgets budgets;       // from the `trinity.budgets` extension (tightens the server's)
  std::optional<int> max_turns;
  std::optional<coord::ColdVerifier> cold_verifier;  // `trinity.cold_verifier`: can only tighten
  coord::ToolSet tools;                              // the client's tools (tool_wire.h)
  std::vector<coord::AgentRef> exclude_agents;  // `trinity.exclude_agents`: adds to the server's
};

struct ChatCompletionRequest : RunRequest {
  std::string model;
  std::vector<Message> messages;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
};

// An OpenAI-style error: {"error": {"message", "type", "code"}} with its HTTP status.
struct ApiError {
  int http_status = 400;
  std::string type = "invalid_request_error";
  std::string code;
  std::string message;
  OrderedJson body() const;
};

// An array of content parts whose `type` is one of `part_types`: their `text` fields joined with
// "\n". `field` names the array in errors ("messages[2].content" -> "messages[2].content[0].type").
Result<std::string> parse_text_parts(const Json& parts, const std::string& field,
                                     const std::vector<std::string>& part_types);

// One {role, content} message object; `ctx` names it in errors ("messages[2]"). `content` is a
// string or an array of parts whose `type` is one of `part_types` (their `text` fields are
// joined with "\n"). Roles: system, user, assistant, tool; "developer" is read as system. An
// assistant message may carry `tool_calls` (then a missing or null content is ""); a tool message
// needs `tool_call_id`. A missing or null content is "" on assistant messages, else an error.
Result<Message> parse_message(const Json& m, const std::string& ctx,
                              const std::vector<std::string>& part_types);

// OpenAI messages -> coordinator messages (parse_message each), with the tool calls and results
// checked (coord::check_tool_conversation: a tool message whose tool_call_id answers no earlier
// call is an error naming messages[i].tool_call_id).
Result<std::vector<Message>> parse_openai_messages(const Json& messages);

// Parses and validates a /v1/chat/completions body (not the model name: the caller maps an
// unknown model to 404). Errors are kInvalidArgument/kParse with the field path.
Result<ChatCompletionRequest> parse_chat_request(const Json& body);
// The `trinity.budgets` extension object.
Result<coord::Budgets> parse_budgets(const Json& j, const std::string& ctx);
// The fields a run endpoint shares with chat completions, into `r`: `temperature` (0..2) and the
// `trinity` extension (budgets, max_turns, cold_verifier). Absent or null fields set nothing.
Status parse_run_fields(const Json& body, RunRequest& r);
// obj[key] as an optional integer > 0 (>= 0 with allow_zero); errors name "<ctx>.<key>".
Result<std::optional<int64_t>> opt_positive_int(const Json& obj, const char* key,
                                                const std::string& ctx, bool allow_zero);

// Per budget: the smaller of the two limits (an unset limit is unlimited), so a request can
// only tighten the server's limits.
coord::Budgets tighten_budgets(const coord::Budgets& server, const coord::Budgets& request);

struct TokenUsage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  OrderedJson to_json() const;
};

// One turn as shown to clients: {turn, agent_id, agent_label, role, agent_margin, role_margin,
// provider, model, latency_ms} (+ verdict on Verifier turns).
OrderedJson turn_json(const coord::TurnRecord& t);
// The `trinity` extension of a finished run: {run_id, status, outcome, turns, trace, ...}.
OrderedJson trinity_extension(const coord::RunResult& r, const std::optional<std::string>& trace);

// 404 model_not_found for a model other than "trinity".
ApiError model_not_found(const std::string& model);

// A full (non-streaming) chat.completion object. With tool calls: message.tool_calls, content
// null when the answer has no text, finish_reason "tool_calls".
OrderedJson chat_completion_json(const std::string& id, int64_t created, const std::string& answer,
                                 const std::vector<ToolCall>& tool_calls, const TokenUsage& usage,
                                 OrderedJson trinity);

// A chat.completion.chunk. `delta` null: no choices (an extension-only or usage chunk).
OrderedJson chunk_json(const std::string& id, int64_t created, const OrderedJson* delta,
                       const char* finish_reason);

// "data: <json>\n\n"
std::string sse_event(const OrderedJson& j);

// Splits an answer into content deltas of at most ~max_bytes, at whitespace where possible and
// never inside a UTF-8 sequence. Concatenating the pieces gives the answer back.
std::vector<std::string> split_deltas(const std::string& answer, size_t max_bytes = 48);

// The HTTP error for a failed run (reason -> status/type/code). The message names the failure
// class only ("provider 'openai' (model 'm') failed: connection error", "... upstream returned
// HTTP 502", "internal error: routing failed"): never hosts, ports, paths, upstream bodies or
// library messages. run_failure_detail() has those, for the server's log.
ApiError run_failure_error(const coord::RunResult& r);
// The full message of a failed run (the status, with every detail), for logs only.
std::string run_failure_detail(const coord::RunResult& r);

}  // namespace trinity::server
