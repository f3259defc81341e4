// Internals of Server shared by server.cpp (lifecycle, small endpoints) and chat.cpp (chat
// completions). Not part of the public API.
#pragma once

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "server/openai_api.h"
#include "server/route_batcher.h"
#include "server/server.h"

namespace trinity::server {

// httplib::Server with access to the listening socket (to raise its accept backlog: the
// library listens with a backlog of 5, too small for bursts of concurrent clients).
class HttpServer final : public httplib::Server {
 public:
  void raise_backlog(int backlog);
};

struct Server::Impl {
  ServerConfig config;
  std::shared_ptr<const Router> inner_router;
  std::shared_ptr<BatchingRouter> router;
  std::shared_ptr<const PoolProvider> pools;
  Metrics metrics;
  coord::Redactor redactor;  // pool secrets + the server's API key
  int64_t started_unix = 0;

  HttpServer http;
  std::thread thread;
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

  void install_routes();
  void handle_chat(const httplib::Request& req, httplib::Response& res);
  void handle_route(const httplib::Request& req, httplib::Response& res);
  void shutdown();

  // Writes an OpenAI-style error (and the trinity extension, if given).
  void send_error(httplib::Response& res, const ApiError& e,
                  const OrderedJson* trinity = nullptr) const;
  void send_json(httplib::Response& res, int status, const OrderedJson& j) const;
  // Counts a finished run in the metrics.
  void record_run(const coord::RunResult& r, double seconds);
  // Run options shared by streaming and non-streaming runs.
  coord::RunOptions run_options(const ChatCompletionRequest& req, const std::string& run_id,
                                const coord::AgentPool& pool) const;
};

std::string random_hex_id(size_t n_hex);
int64_t unix_seconds();

}  // namespace trinity::server
