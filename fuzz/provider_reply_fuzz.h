// Shared by fuzz_coord_openai_response and fuzz_coord_anthropic_response: one response body as
// the runtime receives it, parsed directly and through the provider's HTTP path (make_provider
// with a canned HttpClient), both as a 200 reply and as a 429 error body whose Retry-After is
// the body's first line.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <string>

#include "coord/clock.h"
#include "coord/http.h"
#include "coord/parse.h"
#include "coord/provider.h"

namespace trinity::fuzzing {

// Answers every POST with the same response.
class CannedHttp final : public coord::HttpClient {
 public:
  coord::HttpResponse response;
  coord::HttpResponse post(const coord::HttpRequest&) override { return response; }
};

// The body's first line (at most 64 bytes), as a Retry-After header value.
inline std::string first_line(const std::string& body) {
  return body.substr(0, std::min(body.find('\n'), size_t{64}));
}

using ReplyParser = Result<coord::ChatReply> (*)(const std::string&);

inline void fuzz_provider_reply(const char* provider, ReplyParser parse, const std::string& body) {
  auto direct = parse(body);
  // A reply has text or tool calls; every call a name and arguments that are a JSON object.
  if (direct.ok() && ((coord::trim(direct->text).empty() && direct->tool_calls.empty()) ||
                      direct->input_tokens < 0 || direct->output_tokens < 0))
    std::abort();
  if (direct.ok()) {
    for (ToolCall c : direct->tool_calls)
      if (c.name.empty() || !coord::check_tool_arguments(c, "fuzz").ok()) std::abort();
  }
  if (!direct.ok() && direct.status().code() != ErrorCode::kParse) std::abort();

  coord::ProviderSpec spec;
  spec.provider = provider;
  spec.model = "fuzz-model";
  spec.base_url = "http://127.0.0.1:9/v1";
  spec.max_retries = 0;  // the 429 below fails at once, without a backoff sleep
  CannedHttp http;
  auto p = coord::make_provider(spec, "sk-fuzz", &http);
  if (!p.ok()) std::abort();
  coord::ChatRequest req;
  req.messages = {{"system", "be brief"}, {"user", "What is 6 * 7?"}};
  coord::CallContext ctx;
  ctx.clock = &coord::system_clock();

  http.response.status = 200;
  http.response.body = body;
  auto reply = (*p)->chat(req, ctx);
  if (reply.ok() != direct.ok()) std::abort();
  // This request offers no tools: the provider keeps a reply's calls as text
  // (coord/tools.h check_reply_tool_calls).
  std::vector<ToolCall> calls = direct.ok() ? direct->tool_calls : std::vector<ToolCall>();
  std::string text = direct.ok() ? direct->text : std::string();
  if (direct.ok() && !coord::check_reply_tool_calls(calls, text, nullptr).ok()) std::abort();
  if (reply.ok() && (reply->text != text || !reply->tool_calls.empty() ||
                     reply->input_tokens != direct->input_tokens ||
                     reply->output_tokens != direct->output_tokens || reply->http_status != 200 ||
                     reply->attempts != 1))
    std::abort();
  if (!reply.ok() && reply.status().code() != ErrorCode::kProvider) std::abort();

  http.response.status = 429;
  http.response.headers = {{"retry-after", first_line(body)}};
  auto limited = (*p)->chat(req, ctx);
  if (limited.ok() || limited.status().code() != ErrorCode::kProvider) std::abort();
}

}  // namespace trinity::fuzzing
