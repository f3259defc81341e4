#include "server/server.h"

#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <random>

#include "router/model_router.h"
#include "server/server_impl.h"

namespace trinity::server {
namespace {

thread_local std::chrono::steady_clock::time_point tl_request_start;

const char* endpoint_label(const std::string& path) {
  if (path == "/v1/chat/completions") return "chat_completions";
  if (path == "/v1/route") return "route";
  if (path == "/v1/models" || path.rfind("/v1/models/", 0) == 0) return "models";
  if (path == "/healthz") return "healthz";
  if (path == "/metrics") return "metrics";
  return "other";
}

// Constant-time comparison (the key's length is not secret).
bool same_secret(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]);
  return diff == 0;
}

ApiError error_for_status(int status) {
  ApiError e;
  e.http_status = status;
  switch (status) {
    case 400:
      e.code = "bad_request";
      e.message = "malformed HTTP request";
      break;
    case 404:
      e.code = "not_found";
      e.message =
          "no such endpoint (see /v1/chat/completions, /v1/route, /v1/models, "
          "/healthz, /metrics)";
      break;
    case 405:
      e.code = "method_not_allowed";
      e.message = "method not allowed";
      break;
    case 413:
      e.code = "request_too_large";
      e.message = "request body exceeds the server's --max-body-bytes";
      break;
    case 414:
      e.code = "uri_too_long";
      e.message = "request URI too long";
      break;
    default:
      e.type = status >= 500 ? "server_error" : "invalid_request_error";
      e.code = "http_" + std::to_string(status);
      e.message = "HTTP " + std::to_string(status);
  }
  return e;
}

std::string prefix_cache_metrics(const Router& r) {
  const auto* mr = dynamic_cast<const ModelRouter*>(&r);
  if (!mr) {
    return "# trinity_prefix_cache_hit_ratio: not exported, router profile '" + r.profile() +
           "' has no prefix cache\n";
  }
  const PrefixCacheStats s = mr->engine().prefix_cache_stats();
  const int64_t lookups = s.hits + s.misses;
  const int64_t tokens = s.reused_tokens + s.computed_tokens;
  char buf[1024];
  std::snprintf(buf, sizeof(buf),
                "# HELP trinity_prefix_cache_hit_ratio Prefix-cache lookups that reused at least "
                "one position.\n# TYPE trinity_prefix_cache_hit_ratio gauge\n"
                "trinity_prefix_cache_hit_ratio %.6f\n"
                "# HELP trinity_prefix_cache_token_reuse_ratio Positions reused / positions "
                "needed.\n# TYPE trinity_prefix_cache_token_reuse_ratio gauge\n"
                "trinity_prefix_cache_token_reuse_ratio %.6f\n"
                "# HELP trinity_prefix_cache_lookups_total Prefix-cache lookups by result.\n"
                "# TYPE trinity_prefix_cache_lookups_total counter\n"
                "trinity_prefix_cache_lookups_total{result=\"hit\"} %lld\n"
                "trinity_prefix_cache_lookups_total{result=\"miss\"} %lld\n"
                "# HELP trinity_prefix_cache_bytes Bytes held by the prefix cache.\n"
                "# TYPE trinity_prefix_cache_bytes gauge\ntrinity_prefix_cache_bytes %lld\n",
                lookups ? static_cast<double>(s.hits) / static_cast<double>(lookups) : 0.0,
                tokens ? static_cast<double>(s.reused_tokens) / static_cast<double>(tokens) : 0.0,
                static_cast<long long>(s.hits), static_cast<long long>(s.misses),
                static_cast<long long>(s.bytes));
  return buf;
}

}  // namespace

std::string random_hex_id(size_t n_hex) {
  static thread_local std::mt19937_64 rng{
      std::random_device{}() ^
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())};
  static const char* kHex = "0123456789abcdef";
  std::string s;
  s.reserve(n_hex);
  while (s.size() < n_hex) {
    uint64_t v = rng();
    for (int i = 0; i < 16 && s.size() < n_hex; ++i, v >>= 4) s += kHex[v & 15];
  }
  return s;
}

int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void HttpServer::raise_backlog(int backlog) {
  const socket_t s = svr_sock_;
  if (s != INVALID_SOCKET) ::listen(s, backlog);
}

Server::Impl::Slot::~Slot() {
  std::lock_guard<std::mutex> lock(impl->mu);
  impl->in_flight -= 1;
  impl->drained_cv.notify_all();
}

std::shared_ptr<Server::Impl::Slot> Server::Impl::try_acquire() {
  std::lock_guard<std::mutex> lock(mu);
  if (in_flight >= config.max_concurrency) return nullptr;
  in_flight += 1;
  return std::make_shared<Slot>(this);
}

Server::Impl::CancelHandle::CancelHandle(Impl* i) : impl(i) {
  std::lock_guard<std::mutex> lock(impl->mu);
  impl->cancels.insert(&flag);
}

Server::Impl::CancelHandle::~CancelHandle() {
  std::lock_guard<std::mutex> lock(impl->mu);
  impl->cancels.erase(&flag);
}

void Server::Impl::send_json(httplib::Response& res, int status, const OrderedJson& j) const {
  res.status = status;
  res.set_content(j.dump(-1, ' ', false, OrderedJson::error_handler_t::replace),
                  "application/json");
}

void Server::Impl::send_error(httplib::Response& res, const ApiError& e,
                              const OrderedJson* trinity) const {
  ApiError safe = e;
  safe.message = redactor.redact_text(e.message);
  OrderedJson body = safe.body();
  if (trinity) body["trinity"] = *trinity;
  send_json(res, e.http_status, body);
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

coord::RunOptions Server::Impl::run_options(const ChatCompletionRequest& req,
                                            const std::string& run_id,
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
  return o;
}

void Server::Impl::handle_route(const httplib::Request& req, httplib::Response& res) {
  if (draining) {
    ApiError e{503, "server_error", "shutting_down", "the server is shutting down"};
    res.set_header("Retry-After", std::to_string(config.retry_after_s));
    return send_error(res, e);
  }
  auto body = parse_json(req.body, "request body");
  if (!body.ok())
    return send_error(res, {400, "invalid_request_error", "invalid_json", body.status().message()});
  const Json* messages = &*body;
  if (body->is_object()) {
    auto it = body->find("messages");
    if (it == body->end())
      return send_error(res,
                        {400, "invalid_request_error", "invalid_request", "messages is required"});
    messages = &*it;
  }
  auto parsed = parse_openai_messages(*messages);
  if (!parsed.ok())
    return send_error(res,
                      {400, "invalid_request_error", "invalid_request", parsed.status().message()});
  auto slot = try_acquire();
  if (!slot) {
    res.set_header("Retry-After", std::to_string(config.retry_after_s));
    return send_error(res, {429, "rate_limit_error", "too_many_requests",
                            "the server is at --max-concurrency; retry later"});
  }
  auto d = router->route(*parsed);
  if (!d.ok()) return send_error(res, {500, "server_error", "router_error", d.status().message()});
  send_json(res, 200, d->to_json());
}

void Server::Impl::install_routes() {
  http.set_read_timeout(std::chrono::milliseconds(config.read_timeout_ms));
  http.set_write_timeout(std::chrono::milliseconds(config.write_timeout_ms));
  http.set_keep_alive_timeout(config.keep_alive_timeout_s);
  http.set_keep_alive_max_count(1000);
  http.set_payload_max_length(static_cast<size_t>(config.max_body_bytes));
  const size_t threads = static_cast<size_t>(config.http_threads > 0 ? config.http_threads
                                                                     : config.max_concurrency + 32);
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };

  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    tl_request_start = std::chrono::steady_clock::now();
    if (!config.api_key.empty() && req.path.rfind("/v1/", 0) == 0) {
      const std::string auth = req.get_header_value("Authorization");
      const std::string prefix = "Bearer ";
      const bool ok = auth.size() > prefix.size() && auth.compare(0, prefix.size(), prefix) == 0 &&
                      same_secret(auth.substr(prefix.size()), config.api_key);
      if (!ok) {
        res.set_header("WWW-Authenticate", "Bearer");
        send_error(res, {401, "authentication_error", "invalid_api_key",
                         auth.empty() ? "missing API key: send Authorization: Bearer <key>"
                                      : "incorrect API key"});
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http.set_error_handler(
      httplib::Server::HandlerWithResponse([this](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        send_error(res, error_for_status(res.status));
        return httplib::Server::HandlerResponse::Handled;
      }));
  http.set_exception_handler(
      [this](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        send_error(res, {500, "server_error", "internal_error", "internal server error"});
      });
  http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - tl_request_start).count();
    const char* ep = endpoint_label(req.path);
    metrics.inc("trinity_http_requests_total",
                {{"endpoint", ep}, {"status", std::to_string(res.status)}});
    metrics.observe("trinity_http_request_duration_seconds", {{"endpoint", ep}}, s);
    if (config.access_log) {
      const std::string run_id = res.get_header_value("X-Trinity-Run-Id");
      std::fprintf(stderr, "serve: %s %s %d %.1fms%s%s\n", req.method.c_str(), ep, res.status,
                   s * 1000.0, run_id.empty() ? "" : " run ", run_id.c_str());
    }
  });

  http.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    OrderedJson j;
    j["status"] = draining ? "draining" : "ok";
    j["model"] = kServedModel;
    j["router_profile"] = inner_router->profile();
    j["router_backend"] = inner_router->backend_label();
    j["pool"] = pools->base()->config.name;
    j["in_flight_runs"] = metrics.inflight_runs.load();
    send_json(res, draining ? 503 : 200, j);
  });
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  auto model_json = [this](const std::string& id, const std::string& owner) {
    OrderedJson m;
    m["id"] = id;
    m["object"] = "model";
    m["created"] = started_unix;
    m["owned_by"] = owner;
    return m;
  };
  http.Get("/v1/models", [this, model_json](const httplib::Request&, httplib::Response& res) {
    OrderedJson j;
    j["object"] = "list";
    j["data"] = OrderedJson::array();
    j["data"].push_back(model_json(kServedModel, "trinity"));
    for (const auto& m : pools->model_ids()) j["data"].push_back(model_json(m, "trinity-pool"));
    send_json(res, 200, j);
  });
  http.Get(R"(/v1/models/(.+))",
           [this, model_json](const httplib::Request& req, httplib::Response& res) {
             const std::string id = req.matches[1];
             if (id == kServedModel) return send_json(res, 200, model_json(id, "trinity"));
             for (const auto& m : pools->model_ids())
               if (m == id) return send_json(res, 200, model_json(id, "trinity-pool"));
             send_error(res, {404, "invalid_request_error", "model_not_found",
                              "the model '" + id + "' does not exist"});
           });
  http.Post("/v1/route", [this](const httplib::Request& req, httplib::Response& res) {
    handle_route(req, res);
  });
  http.Post("/v1/chat/completions",
            [this](const httplib::Request& req, httplib::Response& res) { handle_chat(req, res); });
}

void Server::Impl::shutdown() {
  std::lock_guard<std::mutex> life(lifecycle_mu);
  if (stopped) return;
  draining = true;
  {
    std::unique_lock<std::mutex> lock(mu);
    const auto timeout = std::chrono::milliseconds(config.drain_timeout_ms);
    if (!drained_cv.wait_for(lock, timeout, [&] { return in_flight == 0; })) {
      std::fprintf(stderr, "serve: drain timeout: cancelling %zu run(s)\n", cancels.size());
      for (auto* c : cancels) c->store(true);
      drained_cv.wait_for(lock, std::chrono::seconds(10), [&] { return in_flight == 0; });
    }
  }
  if (thread.joinable()) {
    http.stop();
    thread.join();
  }
  stopped = true;
}

Status validate_config(const ServerConfig& c) {
  if (c.port < 0 || c.port > 65535) return invalid_argument("--port must be in 0..65535");
  if (c.max_concurrency < 1) return invalid_argument("--max-concurrency must be >= 1");
  if (c.max_body_bytes < 1024) return invalid_argument("--max-body-bytes must be >= 1024");
  if (c.max_turns < 1) return invalid_argument("--max-turns must be >= 1");
  if (c.route_batch_window_us < 0 || c.route_batch_window_us > 100000)
    return invalid_argument("--route-batch-window-us must be in 0..100000");
  if (c.route_batch_max < 1) return invalid_argument("--route-batch-max must be >= 1");
  if (c.http_threads < 0) return invalid_argument("--http-threads must be >= 0");
  if (c.read_timeout_ms < 1 || c.write_timeout_ms < 1)
    return invalid_argument("read/write timeouts must be >= 1 ms");
  if (c.drain_timeout_ms < 0) return invalid_argument("--drain-timeout-ms must be >= 0");
  if (c.stream_heartbeat_ms < 10) return invalid_argument("stream heartbeat must be >= 10 ms");
  return ok_status();
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  if (impl_) impl_->shutdown();
}

Result<std::unique_ptr<Server>> Server::create(ServerConfig config,
                                               std::shared_ptr<const Router> router,
                                               std::shared_ptr<const PoolProvider> pool) {
  TRINITY_RETURN_IF_ERROR(validate_config(config));
  if (!router || !pool) return invalid_argument("server needs a router and a pool");
  auto impl = std::make_unique<Impl>();
  impl->config = std::move(config);
  impl->inner_router = std::move(router);
  impl->pools = std::move(pool);
  impl->router = std::make_shared<BatchingRouter>(
      impl->inner_router, std::chrono::microseconds(impl->config.route_batch_window_us),
      impl->config.route_batch_max, &impl->metrics);
  impl->redactor = coord::Redactor(impl->pools->secrets());
  if (!impl->config.api_key.empty()) impl->redactor.add_secret(impl->config.api_key);
  impl->started_unix = unix_seconds();
  const Router* inner = impl->inner_router.get();
  impl->metrics.set_extra([inner] { return prefix_cache_metrics(*inner); });
  impl->install_routes();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Status Server::start() {
  Impl& s = *impl_;
  std::lock_guard<std::mutex> life(s.lifecycle_mu);
  if (s.thread.joinable()) return invalid_argument("server already started");
  if (s.config.port == 0) {
    s.bound_port = s.http.bind_to_any_port(s.config.host);
    if (s.bound_port < 0) return io_error("cannot bind " + s.config.host + " on an ephemeral port");
  } else {
    if (!s.http.bind_to_port(s.config.host, s.config.port))
      return io_error("cannot bind " + s.config.host + ":" + std::to_string(s.config.port) +
                      " (address in use or not local?)");
    s.bound_port = s.config.port;
  }
  s.http.raise_backlog(SOMAXCONN);
  s.thread = std::thread([&s] { s.http.listen_after_bind(); });
  for (int i = 0; i < 2000 && !s.http.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!s.http.is_running()) return internal_error("the HTTP listener did not start");
  return ok_status();
}

int Server::port() const {
  return impl_->bound_port;
}

std::string Server::url() const {
  const std::string& h = impl_->config.host;
  const bool v6 = h.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + h + "]" : h) + ":" + std::to_string(impl_->bound_port);
}

void Server::shutdown() {
  impl_->shutdown();
}

bool Server::draining() const {
  return impl_->draining;
}

int64_t Server::in_flight() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->in_flight;
}

Metrics& Server::metrics() {
  return impl_->metrics;
}

}  // namespace trinity::server
