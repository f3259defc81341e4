// Internals of Server shared by server.cpp (lifecycle, small endpoints), run_exec.cpp (the
// coordinator runs of the run endpoints), chat.cpp (chat completions) and responses.cpp (the
// Responses API). Not part of the public API.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "coord/otlp.h"
#include "core/json_bounds.h"
#include "server/http_server.h"
#include "server/openai_api.h"
#include "server/route_batcher.h"
#include "server/run_exec.h"
#include "server/server.h"

namespace trinity::server {

struct Server::Impl final : HttpHandler {
  ServerConfig config;
  std::shared_ptr<const Router> inner_router;
  std::shared_ptr<BatchingRouter> router;
  std::shared_ptr<const PoolProvider> pools;
  Metrics metrics;
  coord::Redactor redactor;  // pool secrets + the server's API key
  int64_t started_unix = 0;
  std::unique_ptr<coord::OtlpExporter> otlp;  // with --otlp-endpoint; outlives `http` (runs)

  std::unique_ptr<HttpServer> http;
  bool started = false;
  int bound_port = -1;
  std::atomic<bool> draining{false};
  std::atomic<bool> stopped{false};
  std::mutex lifecycle_mu;  // serializes start/shutdown

  // Admission (max_concurrency) and drain.
  std::mutex mu;
  std::condition_variable drained_cv;
  int64_t in_flight = 0;
  std::set<std::atomic<bool>*> cancels;  // cancel flags of running runs

  // RAII admission slot; null when over capacity.
  struct Slot {
    Impl* impl;
    explicit Slot(Impl* i) : impl(i) {}
    ~Slot();
  };
  std::shared_ptr<Slot> try_acquire();
  // Registers a run's cancel flag (set on drain timeout) for the lifetime of the handle.
  struct CancelHandle {
    Impl* impl;
    std::atomic<bool> flag{false};
    explicit CancelHandle(Impl* i);
    ~CancelHandle();
  };

  // HttpHandler: the loop thread decides on the head (auth, endpoint, admission); runs and
  // routing go to workers once the body is in.
  HttpDispatch dispatch(const HttpRequest& head) override;
  HttpReply error_reply(const HttpError& error) override;
  void on_response(const HttpRequest& head, int status, double seconds,
                   const std::string& note) override;
  void on_connection_refused() override;

  HttpReply healthz() const;
  HttpReply readyz() const;
  void handle_get_run(const HttpRequest& req, ResponseWriter& out);
  void handle_list_runs(const HttpRequest& req, ResponseWriter& out);

  // The run store (runs_api.cpp).
  // Inserts the run as `running`; null without a store. An error means the store cannot be
  // written: the request is refused (503) before anything is spent.
  Result<std::unique_ptr<StoredRun>> store_begin(const std::string& run_id, const char* endpoint,
                                                 const std::vector<Message>& messages,
                                                 OrderedJson options, const std::string& pool);
  // Finishes the run in one transaction (before its answer is sent). A failed write is logged
  // and counted; the answer is still delivered (its cost is spent) and the run stays `running`
  // until a restart or a sweep marks it `interrupted`.
  void store_finish(StoredRun* run, const coord::RunResult& r, const std::string& client_error);
  // Lease renewal, dead-replica sweep and retention, every store_maintenance_ms.
  void store_maintenance_loop();
  std::thread store_thread;
  std::mutex store_mu;
  std::condition_variable store_cv;
  bool store_stop = false;
  HttpReply models(const std::string& id) const;
  void handle_chat(const HttpRequest& req, ResponseWriter& out);
  void handle_responses(const HttpRequest& req, ResponseWriter& out);
  void handle_route(const HttpRequest& req, ResponseWriter& out);
  void shutdown();
  // The request body as JSON, within config.json_bounds (memory before the DOM is built).
  Result<Json> parse_body(const HttpRequest& req) const;

  // An OpenAI-style error (and the trinity extension, if given).
  HttpReply error(const ApiError& e, const OrderedJson* trinity = nullptr) const;
  static HttpReply json_reply(int status, const OrderedJson& j);

  // Coordinator runs of the run endpoints (run_exec.cpp, see run_exec.h).
  // The run's id, pool, options and trace file; an error (400 unsupported pool overrides, 500
  // trace file) when the run cannot be prepared.
  std::optional<ApiError> prepare_run(const RunRequest& req, const std::vector<Message>& messages,
                                      const char* endpoint, bool stream, PreparedRun& run);
  // Every run starts and ends here, whatever the endpoint and however it ends.
  void begin_run(PreparedRun& run, const std::vector<Message>& messages);
  void end_run(PreparedRun& run, const coord::RunResult& r);
  // The run on this thread, to its end.
  RunOutcome execute_blocking(PreparedRun& run, const std::vector<Message>& messages);
  // The run on a worker thread while this one writes to `out` its progress (formatted by
  // `progress`) and ": ping" heartbeats. nullopt when the client went away (the run was then
  // cancelled); else the run's admission ticket is released and the caller writes the tail.
  std::optional<RunOutcome> execute_streaming(PreparedRun& run,
                                              const std::vector<Message>& messages,
                                              ResponseWriter& out,
                                              const ProgressFormatter& progress);
  // The final answer's tool calls as the client gets them (pool secrets removed).
  std::vector<ToolCall> answer_tool_calls(const coord::RunResult& r) const;
  // The client's error for a failed run (redacted); its details go to the server log.
  ApiError failed_run_error(const coord::RunResult& r) const;
  // Counts a finished run in the metrics.
  void record_run(const coord::RunResult& r, double seconds);
  coord::RunOptions run_options(const RunRequest& req, const std::string& run_id,
                                const coord::AgentPool& pool) const;
  // OpenTelemetry for one run (otel.cpp; null without --otlp-endpoint): continues the request's
  // traceparent (else a new trace), sets options.trace and adds the span sink to options.sinks.
  // Keep the sink alive until the run is over.
  std::unique_ptr<coord::EventSink> trace_run(const HttpRequest& req, const std::string& run_id,
                                              coord::RunOptions& options);
};

// The exporter of config.otlp_endpoint (null when unset), and its /metrics lines (otel.cpp).
std::unique_ptr<coord::OtlpExporter> make_otlp_exporter(const ServerConfig& config);
std::string otlp_metrics(const coord::OtlpExporter& exporter);

std::string random_hex_id(size_t n_hex);
int64_t unix_seconds();

}  // namespace trinity::server
