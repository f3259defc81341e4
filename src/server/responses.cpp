// POST /v1/responses (OpenAI Responses API): one coordinator run per request, answered as a
// response object or streamed as the standard Responses events (order in responses_api.h), with
// the run's progress as trinity.progress events between response.in_progress and the answer.
// While a run is quiet the stream gets ": ping" comments every stream_heartbeat_ms; a write that
// fails (client gone) cancels the run.
#include "server/responses_api.h"
#include "server/server_impl.h"

namespace trinity::server {
namespace {

// Streams one run as Responses SSE events on `out`.
void stream_response(Server::Impl& s, const ResponsesRequest& request, PreparedRun& run,
                     int64_t created_at, ResponseWriter& out) {
  ResponseEventSequence seq;
  const HttpHeaders headers = {{"Content-Type", "text/event-stream"},
                               {"Cache-Control", "no-cache"},
                               {"X-Accel-Buffering", "no"},
                               {"X-Trinity-Run-Id", run.run_id}};
  ResponseView view;
  view.run_id = run.run_id;
  view.created_at = created_at;
  std::string head;
  for (OrderedJson& e : response_start_events(request, view)) head += seq.sse(std::move(e));
  OrderedJson started;
  started["run_id"] = run.run_id;
  started["event"] = "run_started";
  head += seq.sse(trinity_progress_event(std::move(started)));
  if (!out.begin_stream(200, headers) || !out.write(head)) {
    s.metrics.inc("trinity_client_disconnects_total");
    return;
  }
  auto progress = [&seq](OrderedJson x) { return seq.sse(trinity_progress_event(std::move(x))); };
  std::optional<RunOutcome> done = s.execute_streaming(run, request.messages, out, progress);
  if (!done) return;  // the client went away
  const coord::RunResult& r = done->result;
  OrderedJson ext = trinity_extension(r, run.trace_ref);
  view.usage = &done->usage;
  view.trinity = &ext;
  std::string tail;
  if (r.ok() && r.answer) {
    const std::string answer = s.redactor.remove_secrets(*r.answer);
    const std::vector<ToolCall> calls = s.answer_tool_calls(r);
    view.tool_calls = &calls;
    OrderedJson finished = ext;
    finished["event"] = "run_finished";
    tail += seq.sse(trinity_progress_event(std::move(finished)));
    view.status = "completed";
    view.answer = &answer;
    for (OrderedJson& e : response_answer_events(request, view, split_deltas(answer)))
      tail += seq.sse(std::move(e));
  } else {
    const ApiError e = s.failed_run_error(r);
    view.status = "failed";
    view.error = &e;
    tail += seq.sse(response_failed_event(request, view));
  }
  if (out.write(tail)) out.finish();
}

}  // namespace

void Server::Impl::handle_responses(const HttpRequest& req, ResponseWriter& out) {
  auto body = parse_body(req);
  if (!body.ok())
    return void(
        out.send(error({400, "invalid_request_error", "invalid_json", body.status().message()})));
  auto parsed = parse_responses_request(*body);
  if (!parsed.ok()) {
    const bool unsupported = parsed.status().code() == ErrorCode::kUnsupported;
    return void(out.send(
        error({400, "invalid_request_error", unsupported ? "unsupported" : "invalid_request",
               parsed.status().message()})));
  }
  const ResponsesRequest& request = *parsed;
  if (request.model != kServedModel) return void(out.send(error(model_not_found(request.model))));
  PreparedRun run;
  if (auto e = prepare_run(request, request.messages, "responses", request.stream, run))
    return void(out.send(error(*e)));
  run.otel = trace_run(req, run.run_id, run.options);
  out.set_log_note("run " + run.run_id);
  const int64_t created_at = unix_seconds();
  if (request.stream) return stream_response(*this, request, run, created_at, out);

  RunOutcome done = execute_blocking(run, request.messages);
  const coord::RunResult& r = done.result;
  OrderedJson ext = trinity_extension(r, run.trace_ref);
  HttpReply reply;
  if (r.ok() && r.answer) {
    const std::string answer = redactor.remove_secrets(*r.answer);
    const std::vector<ToolCall> calls = answer_tool_calls(r);
    ResponseView view{run.run_id, created_at,  "completed", &answer,
                      &calls,     &done.usage, nullptr,     &ext};
    reply = json_reply(200, response_json(request, view));
  } else {
    reply = error(failed_run_error(r), &ext);
  }
  reply.headers.emplace_back("X-Trinity-Run-Id", run.run_id);
  out.send(reply);
}

}  // namespace trinity::server
