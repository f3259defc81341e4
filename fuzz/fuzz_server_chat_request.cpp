// libFuzzer: the JSON request bodies of `trinity serve` (server/openai_api.h), read as the
// server reads them: POST /v1/chat/completions (parse_json + parse_chat_request, the `trinity`
// extension included), POST /v1/responses (parse_responses_request) and POST /v1/route (an array
// of messages or {messages}, through parse_openai_messages). Every body gives a request or an error
// whose API error body serializes; a parsed request respects its documented limits, and its message
// contents split into SSE deltas (split_deltas) that concatenate back and never cut a UTF-8
// sequence; its tool calls have ids and JSON-object arguments, every tool result answers an
// earlier call, and its function tools have distinct non-empty names.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>

#include "coord/trace.h"
#include "server/openai_api.h"
#include "server/responses_api.h"

namespace {

using trinity::Json;
using trinity::Message;

// What send_error does with a message: redacted, into an API error body, serialized.
void error_body(const std::string& message) {
  trinity::server::ApiError e{400, "invalid_request_error", "invalid_request", message};
  e.message = trinity::coord::Redactor().redact_text(e.message);
  const std::string out =
      e.body().dump(-1, ' ', false, trinity::OrderedJson::error_handler_t::replace);
  if (out.empty()) std::abort();
}

void check_messages(const std::vector<Message>& messages) {
  if (messages.empty()) std::abort();
  std::set<std::string> calls;
  for (const Message& m : messages) {
    if (m.role != "system" && m.role != "user" && m.role != "assistant" && m.role != "tool")
      std::abort();
    if (!m.tool_calls.empty() && m.role != "assistant") std::abort();
    for (trinity::ToolCall c : m.tool_calls) {
      if (c.id.empty() || c.name.empty()) std::abort();
      if (!trinity::coord::check_tool_arguments(c, "fuzz").ok()) std::abort();
      if (!calls.insert(c.id).second) std::abort();  // ids are unique
    }
    if (m.role == "tool" && !calls.count(m.tool_call_id)) std::abort();
    const size_t max_bytes = 8 + m.content.size() % 57;
    std::string joined;
    for (const std::string& piece : trinity::server::split_deltas(m.content, max_bytes)) {
      if (piece.empty()) std::abort();
      if ((static_cast<unsigned char>(piece[0]) & 0xC0) == 0x80) std::abort();
      joined += piece;
    }
    if (joined != m.content) std::abort();
  }
}

bool nonnegative(const std::optional<int64_t>& v) {
  return !v || *v >= 0;
}

void check_request(const trinity::server::RunRequest& r, const std::vector<Message>& messages) {
  check_messages(messages);
  std::set<std::string> names;
  for (const trinity::coord::ToolSpec& t : r.tools.tools)
    if (!trinity::coord::valid_tool_name(t.name) || !names.insert(t.name).second) std::abort();
  (void)r.tools.to_json().dump();
  if (r.max_turns && (*r.max_turns < 1 || *r.max_turns > 1000)) std::abort();
  if (r.overrides.max_tokens && *r.overrides.max_tokens <= 0) std::abort();
  if (r.overrides.temperature && (!std::isfinite(*r.overrides.temperature) ||
                                  *r.overrides.temperature < 0 || *r.overrides.temperature > 2))
    std::abort();
  const trinity::coord::Budgets& b = r.budgets;
  if (!nonnegative(b.max_wall_time_ms) || !nonnegative(b.max_provider_calls) ||
      !nonnegative(b.max_provider_latency_ms) || !nonnegative(b.max_verifier_revisions) ||
      !nonnegative(b.max_estimated_cost_micro_usd))
    std::abort();
  // A request can only tighten the server's budgets.
  trinity::coord::Budgets server;
  server.max_provider_calls = 5;
  server.max_estimated_cost_micro_usd = 1000;
  const trinity::coord::Budgets t = trinity::server::tighten_budgets(server, b);
  if (!t.max_provider_calls || *t.max_provider_calls > 5 || !t.max_estimated_cost_micro_usd ||
      *t.max_estimated_cost_micro_usd > 1000)
    std::abort();
  (void)b.limits_json().dump();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto body = trinity::parse_json(text, "request body");
  if (!body.ok()) {
    error_body(body.status().message());
    return 0;
  }
  // POST /v1/chat/completions
  auto chat = trinity::server::parse_chat_request(*body);
  if (chat.ok()) {
    check_request(*chat, chat->messages);
  } else {
    error_body(chat.status().message());
  }
  // POST /v1/responses
  auto responses = trinity::server::parse_responses_request(*body);
  if (responses.ok()) {
    check_request(*responses, responses->messages);
    if (responses->overrides.max_tokens != responses->max_output_tokens) std::abort();
  } else {
    error_body(responses.status().message());
  }
  // POST /v1/route
  const Json* messages = &*body;
  if (body->is_object()) {
    auto it = body->find("messages");
    if (it == body->end()) {
      if (chat.ok()) std::abort();
      return 0;
    }
    messages = &*it;
  }
  auto route = trinity::server::parse_openai_messages(*messages);
  if (route.ok()) {
    check_messages(*route);
    if (chat.ok() && *route != chat->messages) std::abort();
  } else {
    if (chat.ok()) std::abort();
    error_body(route.status().message());
  }
  return 0;
}
