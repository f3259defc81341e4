// Internals of Server shared by server.cpp (lifecycle, small endpoints) and chat.cpp (chat
// completions). Not part of the public API.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "core/json_bounds.h"
#include "server/http_server.h"
#include "server/openai_api.h"
#include "server/route_batcher.h"
#include "server/server.h"
#include "store/run_capture.h"

namespace trinity::server {

struct Server::Impl final : HttpHandler {
  ServerConfig config;
  std::shared_ptr<const Router> inner_router;
  std::shared_ptr<BatchingRouter> router;
  std::shared_ptr<const PoolProvider> pools;
  Metrics metrics;
  coord::Redactor redactor;  // pool secrets + the server's API key
  int64_t started_unix = 0;

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

  // The run store (runs_api.cpp). A run's row from begin to finish.
  struct StoredRun {
    store::RunRecord record;
    store::RunCapture capture;  // add &capture to the run's sinks
    explicit StoredRun(coord::ContentMode mode) : capture(mode) {}
  };
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
  void handle_route(const HttpRequest& req, ResponseWriter& out);
  void shutdown();
  // The details of a failed run go to the server log; the client gets run_failure_error's.
  void log_run_failure(const coord::RunResult& r) const;
  // The request body as JSON, within config.json_bounds (memory before the DOM is built).
  Result<Json> parse_body(const HttpRequest& req) const;

  // An OpenAI-style error (and the trinity extension, if given).
  HttpReply error(const ApiError& e, const OrderedJson* trinity = nullptr) const;
  static HttpReply json_reply(int status, const OrderedJson& j);
  // Counts a finished run in the metrics.
  void record_run(const coord::RunResult& r, double seconds);
  // Run options shared by streaming and non-streaming runs.
  coord::RunOptions run_options(const ChatCompletionRequest& req, const std::string& run_id,
                                const coord::AgentPool& pool) const;
};

std::string random_hex_id(size_t n_hex);
int64_t unix_seconds();

}  // namespace trinity::server
