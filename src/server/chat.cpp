// POST /v1/chat/completions: one coordinator run per request, answered as a chat.completion or
// streamed as chat.completion.chunk Server-Sent Events.
//
// Stream order: a role chunk (delta {role: assistant, content: ""}); extension-only progress
// chunks (choices: [], trinity: {run_id, event: run_started|turn|verifier|run_finished, ...});
// the answer as content deltas, then its tool calls as tool_calls deltas (tool_wire.h); a finish
// chunk (finish_reason "stop", or "tool_calls" when the answer calls tools); a usage chunk
// (choices:
// [], usage) when stream_options.include_usage; then "data: [DONE]". A failed run sends
// data: {"error": {...}, "trinity": {...}} before [DONE]. While a run is quiet the stream gets
// ": ping" comments every stream_heartbeat_ms; a write that fails (client gone) cancels the run.
#include "server/server_impl.h"
#include "server/tool_wire.h"

namespace trinity::server {
namespace {

// Streams one run as chat.completion.chunk SSE on `out` (the order is in the header comment).
void stream_chat(Server::Impl& s, const ChatCompletionRequest& request, PreparedRun& run,
                 const std::string& id, int64_t created, ResponseWriter& out) {
  auto ext_chunk = [&id, created](OrderedJson x) {
    OrderedJson c = chunk_json(id, created, nullptr, nullptr);
    c["trinity"] = std::move(x);
    return sse_event(c);
  };
  const HttpHeaders headers = {{"Content-Type", "text/event-stream"},
                               {"Cache-Control", "no-cache"},
                               {"X-Accel-Buffering", "no"},
                               {"X-Trinity-Run-Id", run.run_id}};
  OrderedJson role_delta;
  role_delta["role"] = "assistant";
  role_delta["content"] = "";
  OrderedJson started;
  started["run_id"] = run.run_id;
  started["event"] = "run_started";
  if (!out.begin_stream(200, headers) ||
      !out.write(sse_event(chunk_json(id, created, &role_delta, nullptr))) ||
      !out.write(ext_chunk(std::move(started)))) {
    s.metrics.inc("trinity_client_disconnects_total");
    return;
  }
  std::optional<RunOutcome> done = s.execute_streaming(run, request.messages, out, ext_chunk);
  if (!done) return;  // the client went away
  const coord::RunResult& r = done->result;
  OrderedJson ext = trinity_extension(r, run.trace_ref);
  ext["event"] = "run_finished";
  std::string tail;
  if (r.ok() && r.answer) {
    tail += ext_chunk(std::move(ext));
    for (const auto& piece : split_deltas(s.redactor.remove_secrets(*r.answer))) {
      OrderedJson d;
      d["content"] = piece;
      tail += sse_event(chunk_json(id, created, &d, nullptr));
    }
    const std::vector<ToolCall> calls = s.answer_tool_calls(r);
    for (const OrderedJson& d : tool_call_deltas(calls))
      tail += sse_event(chunk_json(id, created, &d, nullptr));
    OrderedJson empty = OrderedJson::object();
    tail += sse_event(chunk_json(id, created, &empty, calls.empty() ? "stop" : "tool_calls"));
    if (request.include_usage) {
      OrderedJson u = chunk_json(id, created, nullptr, nullptr);
      u["usage"] = done->usage.to_json();
      tail += sse_event(u);
    }
  } else {
    OrderedJson err = s.failed_run_error(r).body();
    err["trinity"] = std::move(ext);
    tail += sse_event(err);
  }
  tail += "data: [DONE]\n\n";
  if (out.write(tail)) out.finish();
}

}  // namespace

void Server::Impl::handle_chat(const HttpRequest& req, ResponseWriter& out) {
  auto body = parse_body(req);
  if (!body.ok())
    return void(
        out.send(error({400, "invalid_request_error", "invalid_json", body.status().message()})));
  auto parsed = parse_chat_request(*body);
  if (!parsed.ok())
    return void(out.send(
        error({400, "invalid_request_error", "invalid_request", parsed.status().message()})));
  const ChatCompletionRequest& request = *parsed;
  if (request.model != kServedModel) return void(out.send(error(model_not_found(request.model))));
  PreparedRun run;
  if (auto e = prepare_run(request, request.messages, "chat.completions", request.stream, run))
    return void(out.send(error(*e)));
  run.otel = trace_run(req, run.run_id, run.options);
  out.set_log_note("run " + run.run_id);
  const std::string id = "chatcmpl-" + run.run_id;
  const int64_t created = unix_seconds();
  if (request.stream) return stream_chat(*this, request, run, id, created, out);

  RunOutcome done = execute_blocking(run, request.messages);
  const coord::RunResult& r = done.result;
  OrderedJson ext = trinity_extension(r, run.trace_ref);
  HttpReply reply =
      r.ok() && r.answer
          ? json_reply(200, chat_completion_json(id, created, redactor.remove_secrets(*r.answer),
                                                 answer_tool_calls(r), done.usage, std::move(ext)))
          : error(failed_run_error(r), &ext);
  reply.headers.emplace_back("X-Trinity-Run-Id", run.run_id);
  out.send(reply);
}

}  // namespace trinity::server
