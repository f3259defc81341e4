// `trinity serve`: an OpenAI-compatible HTTP front end of the coordinator (see docs/server.md).
//
//   POST /v1/chat/completions  model "trinity": one coordinator run per request (stream: SSE)
//   POST /v1/responses         the same run as an OpenAI Responses API response (stream: SSE)
//   POST /v1/route             messages -> the route decision (as `trinity route --json`)
//   GET  /v1/models            trinity + the pool's models
//   GET  /v1/runs/{id}         a stored run (run store, --store)
//   GET  /v1/runs              stored runs, newest first (?status=&since=&limit=&cursor=)
//   GET  /healthz              liveness / drain state
//   GET  /readyz               readiness: 503 while draining (load balancers stop sending)
//   GET  /metrics              Prometheus text format
//
// One loaded router serves every request: concurrent routing calls (from /v1/route and from the
// runs' turns) are coalesced into route_batch() calls within a short window (BatchingRouter).
// Errors are OpenAI-style {"error": {message, type, code}}; shutdown() drains in-flight runs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "coord/orchestrator.h"
#include "coord/trace.h"
#include "core/json_bounds.h"
#include "router/route.h"
#include "server/metrics.h"
#include "server/pool_provider.h"
#include "store/run_store.h"

namespace trinity::server {

struct ServerConfig {
  std::string host = "127.0.0.1";       // loopback unless asked otherwise
  int port = 8080;                      // 0: an ephemeral port (see Server::port())
  std::string api_key;                  // non-empty: /v1/* requires "Authorization: Bearer <key>"
  int max_concurrency = 64;             // runs + route requests in progress; more -> 429
  int64_t max_body_bytes = 1 << 20;     // decoded size, in every framing (413)
  int64_t max_header_bytes = 64 << 10;  // the whole request head (431)
  int max_connections = 1024;           // open connections; more get 503 at once
  int64_t head_timeout_ms = 10000;      // a request head must arrive whole within this (408)
  JsonBounds json_bounds;               // request bodies (400 beyond)
  std::string trace_dir;                // non-empty: one JSONL trace per run, <dir>/<run_id>.jsonl
  coord::ContentMode trace_content = coord::ContentMode::kHash;
  int max_turns = 5;
  // unset: the pool's "cold_verifier", else worker. Requests can only tighten it (to error).
  std::optional<coord::ColdVerifier> cold_verifier;
  coord::Budgets budgets;  // server limits; requests can only tighten them
  // Agent slots no run may route to (--exclude-agents); requests can add to them, never lift them.
  std::array<bool, kNumAgents> excluded_agents{};
  coord::ReflexConfig reflex;
  coord::ArtifactIdentity artifact;      // route_decision's artifact_ref / revision / hash
  int64_t route_batch_window_us = 1000;  // 0: no batching window
  int route_batch_max = 32;
  int http_threads = 0;             // worker threads; 0: max_concurrency + 4
  int64_t read_timeout_ms = 10000;  // a request body that makes no progress this long (408)
  int64_t write_timeout_ms = 10000;
  int64_t keep_alive_timeout_s = 5;
  int64_t drain_timeout_ms = 30000;   // then the remaining runs are cancelled
  int64_t stream_heartbeat_ms = 500;  // idle SSE streams get a ": ping" comment
  int retry_after_s = 1;              // Retry-After of 429 answers
  bool access_log = true;             // one line per request on stderr (no bodies/headers)
  // The run store (null: none). Every run is inserted `running` before it starts and finished in
  // one transaction before its answer is sent; GET /v1/runs reads it.
  std::shared_ptr<store::RunStore> store;
  int64_t store_retention_days = 0;      // > 0: finished runs older than this are deleted
  int64_t store_maintenance_ms = 10000;  // lease renewal, dead-replica sweep, retention
  // OpenTelemetry (docs/server.md): non-empty exports spans over OTLP/HTTP JSON to this URL.
  std::string otlp_endpoint;
  std::string otlp_service_name = "trinity";
};

Status validate_config(const ServerConfig& c);

class Server {
 public:
  static Result<std::unique_ptr<Server>> create(ServerConfig config,
                                                std::shared_ptr<const Router> router,
                                                std::shared_ptr<const PoolProvider> pool);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds (port 0 picks a free port) and serves on a background thread.
  Status start();
  int port() const;
  std::string url() const;  // "http://host:port"
  // Graceful stop: new work gets 503, in-flight runs finish (up to drain_timeout_ms, then they
  // are cancelled), then the listener closes. Idempotent; blocks until stopped.
  void shutdown();
  bool draining() const;
  int64_t in_flight() const;
  Metrics& metrics();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace trinity::server
