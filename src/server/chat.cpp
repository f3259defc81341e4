// POST /v1/chat/completions: one coordinator run per request, answered as a chat.completion or
// streamed as chat.completion.chunk Server-Sent Events.
//
// Stream order: a role chunk (delta {role: assistant, content: ""}); extension-only progress
// chunks (choices: [], trinity: {run_id, event: run_started|turn|verifier|run_finished, ...});
// the answer as content deltas; a finish chunk (finish_reason "stop"); a usage chunk (choices:
// [], usage) when stream_options.include_usage; then "data: [DONE]". A failed run sends
// data: {"error": {...}, "trinity": {...}} before [DONE]. While a run is quiet the stream gets
// ": ping" comments every stream_heartbeat_ms; a write that fails (client gone) cancels the run.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <optional>

#include "server/server_impl.h"

namespace trinity::server {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Watches a run's events: token usage, provider metrics and (for streams) progress chunks.
class RunObserver {
 public:
  RunObserver(Metrics& metrics, std::string run_id, std::function<void(OrderedJson)> progress)
      : metrics_(metrics), run_id_(std::move(run_id)), progress_(std::move(progress)) {}

  void on_event(const OrderedJson& ev) {
    const std::string type = ev.value("event", "");
    if (type == "route_decision") {
      agent_margin_ = ev.value("agent_margin", OrderedJson(nullptr));
      role_margin_ = ev.value("role_margin", OrderedJson(nullptr));
    } else if (type == "provider_dispatch_finished") {
      const std::string provider = ev.value("provider", "");
      const bool ok = ev.value("status", "") == "ok";
      const bool cancelled = !ok && ev.value("reason", "") == "cancelled";
      metrics_.inc("trinity_provider_calls_total", {{"provider", provider},
                                                    {"status", ok          ? "ok"
                                                               : cancelled ? "cancelled"
                                                                           : "error"}});
      metrics_.observe("trinity_provider_latency_seconds", {{"provider", provider}},
                       static_cast<double>(ev.value("latency_ms", int64_t{0})) / 1000.0);
      if (ok) {
        usage_.prompt_tokens += ev.value("input_tokens", int64_t{0});
        usage_.completion_tokens += ev.value("output_tokens", int64_t{0});
        const int64_t attempts = ev.value("attempts", int64_t{1});
        if (attempts > 1)
          metrics_.inc("trinity_provider_retries_total", {{"provider", provider}},
                       static_cast<double>(attempts - 1));
      } else if (ev.value("reason", "") == "cancelled") {
        // The run was cancelled (client gone, drain timeout): not the provider's failure.
        metrics_.inc("trinity_provider_calls_cancelled_total", {{"provider", provider}});
      } else {
        metrics_.inc("trinity_provider_errors_total", {{"provider", provider}});
      }
      if (progress_) {
        OrderedJson t;
        t["turn"] = ev.value("turn", 0);
        t["agent_id"] = ev.value("agent_id", 0);
        t["agent_label"] = ev.value("agent_label", "");
        t["role"] = ev.value("role_name", "");
        t["agent_margin"] = agent_margin_;
        t["role_margin"] = role_margin_;
        t["provider"] = provider;
        t["model"] = ev.value("model", "");
        t["latency_ms"] = ev.value("latency_ms", int64_t{0});
        t["status"] = ok ? "ok" : "error";
        OrderedJson x;
        x["run_id"] = run_id_;
        x["event"] = "turn";
        x["turn"] = std::move(t);
        progress_(std::move(x));
      }
    } else if (type == "verifier_result" && progress_) {
      OrderedJson x;
      x["run_id"] = run_id_;
      x["event"] = "verifier";
      x["turn"] = ev.value("turn", 0);
      x["verdict"] = ev.value("verdict", "");
      progress_(std::move(x));
    }
  }
  const TokenUsage& usage() const { return usage_; }

 private:
  Metrics& metrics_;
  std::string run_id_;
  std::function<void(OrderedJson)> progress_;
  TokenUsage usage_;
  OrderedJson agent_margin_, role_margin_;
};

// Everything a run needs besides the messages.
struct PreparedRun {
  std::string run_id;
  coord::RunOptions options;
  std::shared_ptr<const coord::AgentPool> pool;
  std::unique_ptr<coord::JsonlTraceWriter> trace;
  std::optional<std::string> trace_ref;
  std::unique_ptr<Server::Impl::StoredRun> stored;  // null without a run store
};

// What the store keeps of a request besides its messages: the effective run options.
OrderedJson stored_options(const ChatCompletionRequest& req, const coord::RunOptions& o) {
  OrderedJson j;
  j["stream"] = req.stream;
  j["max_turns"] = o.max_turns;
  j["cold_verifier"] = coord::cold_verifier_name(o.cold_verifier);
  j["budgets"] = o.budgets.limits_json();
  return j;
}

// The client-facing message of a failed run ("" when it has an answer).
std::string client_error(const Server::Impl& s, const coord::RunResult& r) {
  if (r.ok() && r.answer) return "";
  return s.redactor.redact_text(run_failure_error(r).message);
}

struct StreamState {
  Server::Impl* impl = nullptr;
  std::unique_ptr<Server::Impl::CancelHandle> cancel;
  ChatCompletionRequest request;
  PreparedRun run;
  std::string id;
  int64_t created = 0;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> events;  // serialized SSE events from the run thread
  bool done = false;
  std::optional<coord::RunResult> result;
  std::optional<RunObserver> observer;
  std::chrono::steady_clock::time_point started;
  std::thread worker;

  ~StreamState() {
    if (worker.joinable()) {
      cancel->flag.store(true);
      worker.join();
    }
  }
};

// Streams one run as SSE on `out` (see the header comment for the
// event order).
void stream_chat(Server::Impl& s, StreamState& st, ResponseWriter& out) {
  StreamState* sp = &st;
  auto ext_chunk = [sp](OrderedJson x) {
    OrderedJson c = chunk_json(sp->id, sp->created, nullptr, nullptr);
    c["trinity"] = std::move(x);
    return sse_event(c);
  };
  const HttpHeaders headers = {{"Content-Type", "text/event-stream"},
                               {"Cache-Control", "no-cache"},
                               {"X-Accel-Buffering", "no"},
                               {"X-Trinity-Run-Id", st.run.run_id}};
  OrderedJson role_delta;
  role_delta["role"] = "assistant";
  role_delta["content"] = "";
  OrderedJson started;
  started["run_id"] = st.run.run_id;
  started["event"] = "run_started";
  if (!out.begin_stream(200, headers) ||
      !out.write(sse_event(chunk_json(st.id, st.created, &role_delta, nullptr))) ||
      !out.write(ext_chunk(std::move(started)))) {
    s.metrics.inc("trinity_client_disconnects_total");
    return;
  }

  st.observer.emplace(s.metrics, st.run.run_id, [sp, ext_chunk](OrderedJson x) {
    std::string e = ext_chunk(std::move(x));
    std::lock_guard<std::mutex> lock(sp->mu);
    sp->events.push_back(std::move(e));
    sp->cv.notify_all();
  });
  st.run.options.cancel = &st.cancel->flag;
  st.run.options.on_event = [sp](const OrderedJson& ev) { sp->observer->on_event(ev); };
  st.started = std::chrono::steady_clock::now();
  s.metrics.inflight_runs += 1;
  st.worker = std::thread([sp] {
    Server::Impl& impl = *sp->impl;
    coord::RunResult r =
        coord::Orchestrator(impl.router, sp->run.pool).run(sp->request.messages, sp->run.options);
    std::lock_guard<std::mutex> lock(sp->mu);
    sp->result = std::move(r);
    sp->done = true;
    sp->cv.notify_all();
  });

  bool connected = true;
  const auto heartbeat = std::chrono::milliseconds(s.config.stream_heartbeat_ms);
  for (;;) {
    std::deque<std::string> batch;
    bool finished = false;
    {
      std::unique_lock<std::mutex> lock(st.mu);
      st.cv.wait_for(lock, heartbeat, [&] { return !st.events.empty() || st.done; });
      batch.swap(st.events);
      finished = st.done;
    }
    for (const auto& e : batch) {
      if (!out.write(e)) {
        connected = false;
        break;
      }
    }
    if (!connected || finished) break;
    if (batch.empty() && !out.write(": ping\n\n")) {
      connected = false;
      break;
    }
  }
  if (!connected) st.cancel->flag.store(true);
  st.worker.join();
  s.metrics.inflight_runs -= 1;
  const coord::RunResult& r = *st.result;
  s.record_run(r, seconds_since(st.started));
  s.store_finish(st.run.stored.get(), r, client_error(s, r));
  if (!connected) {
    s.metrics.inc("trinity_client_disconnects_total");
    return;
  }
  out.release_ticket();  // the run is over: admit the next one while the tail is written

  OrderedJson ext = trinity_extension(r, st.run.trace_ref);
  ext["event"] = "run_finished";
  std::string tail;
  if (r.ok() && r.answer) {
    tail += ext_chunk(std::move(ext));
    for (const auto& piece : split_deltas(s.redactor.remove_secrets(*r.answer))) {
      OrderedJson d;
      d["content"] = piece;
      tail += sse_event(chunk_json(st.id, st.created, &d, nullptr));
    }
    OrderedJson empty = OrderedJson::object();
    tail += sse_event(chunk_json(st.id, st.created, &empty, "stop"));
    if (st.request.include_usage) {
      OrderedJson u = chunk_json(st.id, st.created, nullptr, nullptr);
      u["usage"] = st.observer->usage().to_json();
      tail += sse_event(u);
    }
  } else {
    s.log_run_failure(r);
    ApiError e = run_failure_error(r);
    e.message = s.redactor.redact_text(e.message);
    OrderedJson err = e.body();
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
  ChatCompletionRequest request = std::move(parsed).value();
  if (request.model != kServedModel)
    return void(
        out.send(error({404, "invalid_request_error", "model_not_found",
                        "the model '" + request.model +
                            "' does not exist: this server answers for model \"trinity\""})));
  auto pool = pools->pool_for(request.overrides);
  if (!pool.ok())
    return void(
        out.send(error({400, "invalid_request_error", "unsupported", pool.status().message()})));

  PreparedRun run;
  run.run_id = random_hex_id(16);
  run.pool = std::move(pool).value();
  run.options = run_options(request, run.run_id, *run.pool);
  if (!config.trace_dir.empty()) {
    const std::string path = config.trace_dir + "/" + run.run_id + ".jsonl";
    auto w = coord::JsonlTraceWriter::open(path, config.trace_content);
    if (!w.ok()) {
      std::fprintf(stderr, "serve: run %s: %s\n", run.run_id.c_str(), w.status().message().c_str());
      return void(out.send(
          error({500, "server_error", "trace_error", "the run's trace file cannot be written"})));
    }
    run.trace = std::move(w).value();
    run.options.sinks.push_back(run.trace.get());
    run.trace_ref = path;
  }
  {
    auto stored = store_begin(run.run_id, "chat.completions", request.messages,
                              stored_options(request, run.options), run.pool->config.name);
    if (!stored.ok())
      return void(out.send(error({503, "server_error", "run_store_unavailable",
                                  "the run store cannot be written; retry later"})));
    run.stored = std::move(stored).value();
    if (run.stored) run.options.sinks.push_back(&run.stored->capture);
  }
  out.set_log_note("run " + run.run_id);
  const std::string id = "chatcmpl-" + run.run_id;
  const int64_t created = unix_seconds();

  if (!request.stream) {
    CancelHandle cancel(this);
    RunObserver observer(metrics, run.run_id, nullptr);
    run.options.cancel = &cancel.flag;
    run.options.on_event = [&observer](const OrderedJson& ev) { observer.on_event(ev); };
    const auto t0 = std::chrono::steady_clock::now();
    metrics.inflight_runs += 1;
    coord::RunResult r = coord::Orchestrator(router, run.pool).run(request.messages, run.options);
    metrics.inflight_runs -= 1;
    record_run(r, seconds_since(t0));
    store_finish(run.stored.get(), r, client_error(*this, r));
    OrderedJson ext = trinity_extension(r, run.trace_ref);
    HttpReply reply;
    if (!r.ok() || !r.answer) {
      log_run_failure(r);
      reply = error(run_failure_error(r), &ext);
    } else {
      reply = json_reply(200, chat_completion_json(id, created, redactor.remove_secrets(*r.answer),
                                                   observer.usage(), std::move(ext)));
    }
    reply.headers.emplace_back("X-Trinity-Run-Id", run.run_id);
    out.send(reply);
    return;
  }

  StreamState st;
  st.impl = this;
  st.cancel = std::make_unique<CancelHandle>(this);
  st.request = std::move(request);
  st.run = std::move(run);
  st.id = id;
  st.created = created;
  stream_chat(*this, st, out);
}

void Server::Impl::log_run_failure(const coord::RunResult& r) const {
  std::fprintf(stderr, "serve: run %s failed: %s\n", r.run_id.c_str(),
               redactor.redact_text(run_failure_detail(r)).c_str());
}

}  // namespace trinity::server
