// Preparing, starting, executing and finishing the coordinator runs of the run endpoints (see
// run_exec.h).
#include "server/run_exec.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "server/server_impl.h"

namespace trinity::server {
namespace {

// Watches a run's events: token usage, provider metrics and (for streams) progress objects.
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
      on_dispatch_finished(ev);
    } else if (type == "provider_fallback") {  // endpoint names come from the pool file
      metrics_.inc("trinity_provider_fallbacks_total", {{"from", ev.value("from_endpoint", "")},
                                                        {"to", ev.value("to_endpoint", "")},
                                                        {"reason", ev.value("reason", "")}});
    } else if (type == "circuit_state_changed") {
      metrics_.inc("trinity_circuit_transitions_total",
                   {{"endpoint", ev.value("endpoint", "")}, {"to", ev.value("to", "")}});
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
  void on_dispatch_finished(const OrderedJson& ev) {
    const std::string provider = ev.value("provider", "");
    const bool ok = ev.value("status", "") == "ok";
    // Cancelled (client gone, drain timeout): not the provider's failure.
    const bool cancelled = !ok && ev.value("reason", "") == "cancelled";
    metrics_.inc("trinity_provider_calls_total", {{"provider", provider},
                                                  {"status", ok          ? "ok"
                                                             : cancelled ? "cancelled"
                                                                         : "error"}});
    const double seconds = static_cast<double>(ev.value("latency_ms", int64_t{0})) / 1000.0;
    metrics_.observe("trinity_provider_latency_seconds", {{"provider", provider}}, seconds);
    metrics_.observe("trinity_slot_latency_seconds",
                     {{"slot", std::to_string(ev.value("agent_id", 0))}}, seconds);
    if (ok) {
      usage_.prompt_tokens += ev.value("input_tokens", int64_t{0});
      usage_.completion_tokens += ev.value("output_tokens", int64_t{0});
      const int64_t attempts = ev.value("attempts", int64_t{1});
      if (attempts > 1)
        metrics_.inc("trinity_provider_retries_total", {{"provider", provider}},
                     static_cast<double>(attempts - 1));
    } else if (cancelled) {
      metrics_.inc("trinity_provider_calls_cancelled_total", {{"provider", provider}});
    } else {
      metrics_.inc("trinity_provider_errors_total", {{"provider", provider}});
    }
    if (!progress_) return;
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

  Metrics& metrics_;
  std::string run_id_;
  std::function<void(OrderedJson)> progress_;
  TokenUsage usage_;
  OrderedJson agent_margin_, role_margin_;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A run on a worker thread, and the SSE events it queues for the request's thread.
struct StreamingRun {
  Server::Impl::CancelHandle cancel;
  std::optional<RunObserver> observer;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> events;
  bool done = false;
  std::optional<coord::RunResult> result;
  std::thread worker;

  explicit StreamingRun(Server::Impl* impl) : cancel(impl) {}
  ~StreamingRun() {
    if (worker.joinable()) {
      cancel.flag.store(true);
      worker.join();
    }
  }
  void push(std::string event) {
    std::lock_guard<std::mutex> lock(mu);
    events.push_back(std::move(event));
    cv.notify_all();
  }
  void finish(coord::RunResult r) {
    std::lock_guard<std::mutex> lock(mu);
    result = std::move(r);
    done = true;
    cv.notify_all();
  }
};

// Writes the run's queued events as they come, and ": ping" whenever none came for `heartbeat`,
// until the run is done. False as soon as a write fails (the client went away).
bool pump_events(StreamingRun& st, ResponseWriter& out, std::chrono::milliseconds heartbeat) {
  for (;;) {
    std::deque<std::string> batch;
    bool finished = false;
    {
      std::unique_lock<std::mutex> lock(st.mu);
      st.cv.wait_for(lock, heartbeat, [&] { return !st.events.empty() || st.done; });
      batch.swap(st.events);
      finished = st.done;
    }
    for (const auto& e : batch)
      if (!out.write(e)) return false;
    if (finished) return true;
    if (batch.empty() && !out.write(": ping\n\n")) return false;
  }
}

}  // namespace

coord::RunOptions Server::Impl::run_options(const RunRequest& req, const std::string& run_id,
                                            const coord::AgentPool& pool) const {
  coord::RunOptions o;
  const coord::ColdVerifier server_policy = config.cold_verifier.value_or(
      pool.config.cold_verifier.value_or(coord::ColdVerifier::kWorker));
  o.cold_verifier = coord::stricter(server_policy, req.cold_verifier.value_or(server_policy));
  o.max_turns = req.max_turns ? std::min(*req.max_turns, config.max_turns) : config.max_turns;
  o.budgets = tighten_budgets(config.budgets, req.budgets);
  o.reflex = config.reflex;
  o.artifact = config.artifact;
  o.run_id = run_id;
  o.tools = req.tools;
  o.excluded_agents = config.excluded_agents;
  return o;
}

std::optional<ApiError> Server::Impl::prepare_run(const RunRequest& req,
                                                  const std::vector<Message>& messages,
                                                  const char* endpoint, bool stream,
                                                  PreparedRun& run) {
  auto pool = pools->pool_for(req.overrides);
  if (!pool.ok())
    return ApiError{400, "invalid_request_error", "unsupported", pool.status().message()};
  run.run_id = random_hex_id(16);
  run.pool = std::move(pool).value();
  run.options = run_options(req, run.run_id, *run.pool);
  auto excluded = coord::resolve_excluded_agents(req.exclude_agents, run.pool->config,
                                                 "trinity.exclude_agents");
  if (!excluded.ok())
    return ApiError{400, "invalid_request_error", "invalid_request", excluded.status().message()};
  for (size_t i = 0; i < excluded->size(); ++i)
    run.options.excluded_agents[i] = run.options.excluded_agents[i] || (*excluded)[i];
  const auto& all = run.options.excluded_agents;
  if (std::find(all.begin(), all.end(), false) == all.end()) {
    const auto& server = config.excluded_agents;
    const bool by_server = std::find(server.begin(), server.end(), true) != server.end();
    return ApiError{400, "invalid_request_error", "invalid_request",
                    std::string("trinity.exclude_agents: every agent slot is excluded") +
                        (by_server ? " (with the server's --exclude-agents)" : "") +
                        ", so no agent can answer"};
  }
  if (!config.trace_dir.empty()) {
    const std::string path = config.trace_dir + "/" + run.run_id + ".jsonl";
    auto w = coord::JsonlTraceWriter::open(path, config.trace_content);
    if (!w.ok()) {
      std::fprintf(stderr, "serve: run %s: %s\n", run.run_id.c_str(), w.status().message().c_str());
      return ApiError{500, "server_error", "trace_error", "the run's trace file cannot be written"};
    }
    run.trace = std::move(w).value();
    run.options.sinks.push_back(run.trace.get());
    run.trace_ref = path;
  }
  // Last: once its `running` row exists, the run must reach end_run.
  OrderedJson options;
  options["stream"] = stream;
  options["max_turns"] = run.options.max_turns;
  options["cold_verifier"] = coord::cold_verifier_name(run.options.cold_verifier);
  options["budgets"] = run.options.budgets.limits_json();
  const coord::ToolSet& tools = run.options.tools;
  if (!tools.tools.empty() || !tools.dropped.empty()) options["tools"] = tools.to_json();
  if (auto slots = coord::excluded_slots(run.options.excluded_agents); !slots.empty())
    options["excluded_agents"] = std::move(slots);
  auto stored =
      store_begin(run.run_id, endpoint, messages, std::move(options), run.pool->config.name);
  if (!stored.ok())
    return ApiError{503, "server_error", "run_store_unavailable",
                    "the run store cannot be written; retry later"};
  run.stored = std::move(stored).value();
  if (run.stored) run.options.sinks.push_back(&run.stored->capture);
  return std::nullopt;
}

void Server::Impl::begin_run(PreparedRun& run, const std::vector<Message>& /*messages*/) {
  run.started = std::chrono::steady_clock::now();
  metrics.inflight_runs += 1;
}

void Server::Impl::end_run(PreparedRun& run, const coord::RunResult& r) {
  metrics.inflight_runs -= 1;
  record_run(r, seconds_since(run.started));
  const bool answered = r.ok() && r.answer;
  store_finish(run.stored.get(), r,
               answered ? "" : redactor.redact_text(run_failure_error(r).message));
  run.options.cancel = nullptr;  // both point into the execute_* call that is ending
  run.options.on_event = nullptr;
}

RunOutcome Server::Impl::execute_blocking(PreparedRun& run, const std::vector<Message>& messages) {
  CancelHandle cancel(this);
  RunObserver observer(metrics, run.run_id, nullptr);
  run.options.cancel = &cancel.flag;
  run.options.on_event = [&observer](const OrderedJson& ev) { observer.on_event(ev); };
  begin_run(run, messages);
  coord::RunResult r = coord::Orchestrator(router, run.pool).run(messages, run.options);
  end_run(run, r);
  return {std::move(r), observer.usage()};
}

std::optional<RunOutcome> Server::Impl::execute_streaming(PreparedRun& run,
                                                          const std::vector<Message>& messages,
                                                          ResponseWriter& out,
                                                          const ProgressFormatter& progress) {
  StreamingRun st(this);
  st.observer.emplace(metrics, run.run_id,
                      [&st, &progress](OrderedJson x) { st.push(progress(std::move(x))); });
  run.options.cancel = &st.cancel.flag;
  run.options.on_event = [&st](const OrderedJson& ev) { st.observer->on_event(ev); };
  begin_run(run, messages);
  st.worker = std::thread([this, &st, &run, &messages] {
    st.finish(coord::Orchestrator(router, run.pool).run(messages, run.options));
  });
  const bool connected =
      pump_events(st, out, std::chrono::milliseconds(config.stream_heartbeat_ms));
  if (!connected) st.cancel.flag.store(true);
  st.worker.join();
  end_run(run, *st.result);
  if (!connected) {
    metrics.inc("trinity_client_disconnects_total");
    return std::nullopt;
  }
  out.release_ticket();  // the run is over: admit the next one while the tail is written
  return RunOutcome{std::move(*st.result), st.observer->usage()};
}

std::vector<ToolCall> Server::Impl::answer_tool_calls(const coord::RunResult& r) const {
  std::vector<ToolCall> calls = r.answer_tool_calls;
  for (ToolCall& c : calls) c.arguments = redactor.remove_secrets(c.arguments);
  return calls;
}

ApiError Server::Impl::failed_run_error(const coord::RunResult& r) const {
  std::fprintf(stderr, "serve: run %s failed: %s\n", r.run_id.c_str(),
               redactor.redact_text(run_failure_detail(r)).c_str());
  ApiError e = run_failure_error(r);
  e.message = redactor.redact_text(e.message);
  return e;
}

void Server::Impl::record_run(const coord::RunResult& r, double seconds) {
  metrics.inc("trinity_runs_total", {{"outcome", r.ok() ? r.outcome : r.failure_reason}});
  metrics.observe("trinity_run_duration_seconds", {}, seconds);
  if (r.budget_violation) {
    metrics.inc("trinity_budget_exceeded_total", {{"budget", r.budget_violation->budget}});
  } else if (r.failure_reason == "max_turns_reached") {
    metrics.inc("trinity_budget_exceeded_total", {{"budget", "max_turns"}});
  }
}

}  // namespace trinity::server
