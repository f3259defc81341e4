#include "server/server.h"

#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include "coord/fallback.h"
#include "core/time_util.h"
#include "router/model_router.h"
#include "server/server_impl.h"

namespace trinity::server {
namespace {

const char* endpoint_label(const HttpRequest& req) {
  const std::string& path = req.path;
  if (req.method.empty()) return "malformed";
  if (path == "/v1/chat/completions") return "chat_completions";
  if (path == "/v1/responses") return "responses";
  if (path == "/v1/route") return "route";
  if (path == "/v1/models" || path.rfind("/v1/models/", 0) == 0) return "models";
  if (path == "/v1/runs" || path.rfind("/v1/runs/", 0) == 0) return "runs";
  if (path == "/healthz") return "healthz";
  if (path == "/readyz") return "readyz";
  if (path == "/metrics") return "metrics";
  return "other";
}

// Constant-time comparison (the key's length is not secret).
bool same_secret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]);
  return diff == 0;
}

// The credentials of "Authorization: Bearer <token>": the scheme is case-insensitive (RFC 9110
// 11.1) and any run of spaces or tabs may separate it from the token. Empty when absent.
std::string_view bearer_token(const std::string* header) {
  if (!header) return {};
  std::string_view v = *header;
  const size_t sp = v.find_first_of(" \t");
  if (sp == std::string_view::npos || !iequals(v.substr(0, sp), "bearer")) return {};
  v.remove_prefix(sp);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// The error body of each status the HTTP layer answers by itself (protocol errors, limits,
// unknown endpoints); the caller may replace the message with a more specific one.
ApiError error_for_status(int status) {
  struct Known {
    int status;
    const char* code;
    const char* message;
  };
  static constexpr Known kKnown[] = {
      {400, "bad_request", "malformed HTTP request"},
      {404, "not_found",
       "no such endpoint (see /v1/chat/completions, /v1/responses, /v1/route, /v1/models, "
       "/v1/runs, /healthz, /readyz, /metrics)"},
      {405, "method_not_allowed", "method not allowed"},
      {408, "request_timeout", "request timed out"},
      {413, "request_too_large", "request body exceeds the server's --max-body-bytes"},
      {414, "uri_too_long", "request URI too long"},
      {415, "unsupported_media_type", "unsupported media type"},
      {431, "request_header_fields_too_large", "request header fields too large"},
      {503, "unavailable", "service unavailable"},
  };
  ApiError e;
  e.http_status = status;
  e.type = status >= 500 ? "server_error" : "invalid_request_error";
  e.code = "http_" + std::to_string(status);
  e.message = std::string("HTTP ") + std::to_string(status) + " " + http_reason(status);
  for (const Known& k : kKnown) {
    if (k.status != status) continue;
    e.code = k.code;
    e.message = k.message;
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

HttpReply Server::Impl::json_reply(int status, const OrderedJson& j) {
  HttpReply r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = j.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
  return r;
}

HttpReply Server::Impl::error(const ApiError& e, const OrderedJson* trinity) const {
  ApiError safe = e;
  safe.message = redactor.redact_text(e.message);
  OrderedJson body = safe.body();
  if (trinity) body["trinity"] = *trinity;
  HttpReply r = json_reply(e.http_status, body);
  if (e.http_status == 429 || e.http_status == 503)
    r.headers.emplace_back("Retry-After", std::to_string(config.retry_after_s));
  return r;
}

Result<Json> Server::Impl::parse_body(const HttpRequest& req) const {
  TRINITY_RETURN_IF_ERROR(check_json_bounds(req.body, config.json_bounds, "request body"));
  return parse_json(req.body, "request body");
}

void Server::Impl::handle_route(const HttpRequest& req, ResponseWriter& out) {
  auto body = parse_body(req);
  if (!body.ok())
    return void(
        out.send(error({400, "invalid_request_error", "invalid_json", body.status().message()})));
  const Json* messages = &*body;
  if (body->is_object()) {
    auto it = body->find("messages");
    if (it == body->end())
      return void(out.send(
          error({400, "invalid_request_error", "invalid_request", "messages is required"})));
    messages = &*it;
  }
  auto parsed = parse_openai_messages(*messages);
  if (!parsed.ok())
    return void(out.send(
        error({400, "invalid_request_error", "invalid_request", parsed.status().message()})));
  auto d = router->route(*parsed);
  // The server's --exclude-agents hold here too: the decision is over the allowed slots.
  const std::vector<int> excluded = coord::excluded_slots(config.excluded_agents);
  if (d.ok() && !excluded.empty()) {
    std::array<bool, kNumAgents> allowed{};
    for (size_t i = 0; i < allowed.size(); ++i) allowed[i] = !config.excluded_agents[i];
    Status st = restrict_agents(*d, allowed);
    if (!st.ok()) d = st;
  }
  if (!d.ok()) {
    std::fprintf(stderr, "serve: route failed: %s\n", d.status().message().c_str());
    return void(
        out.send(error({500, "server_error", "router_error", "the router failed on this input"})));
  }
  OrderedJson j = d->to_json();
  if (!excluded.empty()) j["excluded_agents"] = excluded;
  out.send(json_reply(200, j));
}

HttpReply Server::Impl::healthz() const {
  // Unauthenticated: state only, nothing about files or the pool's configuration.
  OrderedJson j;
  j["status"] = draining ? "draining" : "ok";
  j["model"] = kServedModel;
  j["router_profile"] = inner_router->profile();
  j["in_flight_runs"] = metrics.inflight_runs.load();
  return json_reply(draining ? 503 : 200, j);
}

HttpReply Server::Impl::models(const std::string& id) const {
  auto model_json = [this](const std::string& mid, const std::string& owner) {
    OrderedJson m;
    m["id"] = mid;
    m["object"] = "model";
    m["created"] = started_unix;
    m["owned_by"] = owner;
    return m;
  };
  if (id.empty()) {
    OrderedJson j;
    j["object"] = "list";
    j["data"] = OrderedJson::array();
    j["data"].push_back(model_json(kServedModel, "trinity"));
    for (const auto& m : pools->model_ids()) j["data"].push_back(model_json(m, "trinity-pool"));
    return json_reply(200, j);
  }
  if (id == kServedModel) return json_reply(200, model_json(id, "trinity"));
  for (const auto& m : pools->model_ids())
    if (m == id) return json_reply(200, model_json(id, "trinity-pool"));
  return error(
      {404, "invalid_request_error", "model_not_found", "the model '" + id + "' does not exist"});
}

namespace {
HttpDispatch answer(HttpReply r) {
  return {std::move(r), nullptr, nullptr};
}
}  // namespace

HttpDispatch Server::Impl::dispatch(const HttpRequest& req) {
  enum class Ep {
    kNone,
    kHealthz,
    kReadyz,
    kMetrics,
    kModels,
    kModel,
    kRoute,
    kChat,
    kResponses,
    kRuns,
    kRun
  };
  const std::string& path = req.path;
  Ep ep = Ep::kNone;
  if (path == "/healthz") ep = Ep::kHealthz;
  if (path == "/readyz") ep = Ep::kReadyz;
  if (path == "/v1/runs") ep = Ep::kRuns;
  if (path.size() > 9 && path.rfind("/v1/runs/", 0) == 0 && path.find('/', 9) == std::string::npos)
    ep = Ep::kRun;
  if (path == "/metrics") ep = Ep::kMetrics;
  if (path == "/v1/models") ep = Ep::kModels;
  if (path.size() > 11 && path.rfind("/v1/models/", 0) == 0) ep = Ep::kModel;
  if (path == "/v1/route") ep = Ep::kRoute;
  if (path == "/v1/chat/completions") ep = Ep::kChat;
  if (path == "/v1/responses") ep = Ep::kResponses;

  if (!config.api_key.empty() && path.rfind("/v1/", 0) == 0) {
    const std::string* auth = req.header("Authorization");
    if (!same_secret(bearer_token(auth), config.api_key)) {
      HttpReply r =
          error({401, "authentication_error", "invalid_api_key",
                 auth ? "incorrect API key" : "missing API key: send Authorization: Bearer <key>"});
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      return answer(std::move(r));
    }
  }
  if (ep == Ep::kNone) return answer(error(error_for_status(404)));
  const bool post_only = ep == Ep::kRoute || ep == Ep::kChat || ep == Ep::kResponses;
  const bool method_ok =
      post_only ? req.method == "POST" : (req.method == "GET" || req.method == "HEAD");
  if (!method_ok) {
    ApiError e = error_for_status(405);
    e.message = "method " + req.method + " not allowed on " + path +
                " (allowed: " + (post_only ? "POST" : "GET, HEAD") + ")";
    HttpReply r = error(e);
    r.headers.emplace_back("Allow", post_only ? "POST" : "GET, HEAD");
    return answer(std::move(r));
  }
  switch (ep) {
    case Ep::kHealthz:
      return answer(healthz());
    case Ep::kReadyz:
      return answer(readyz());
    case Ep::kMetrics: {
      HttpReply r;
      r.headers.emplace_back("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      r.body = metrics.render();
      return answer(std::move(r));
    }
    case Ep::kModels:
      return answer(models(""));
    case Ep::kModel: {
      auto id = percent_decode(std::string_view(path).substr(11));
      if (!id)
        return answer(
            error({400, "invalid_request_error", "invalid_request", "malformed model id"}));
      return answer(models(*id));
    }
    default:
      break;
  }
  // Runs and routing: admitted (or refused) on the head, before the body is read or parsed.
  if (draining)
    return answer(error({503, "server_error", "shutting_down", "the server is shutting down"}));
  auto slot = try_acquire();
  if (!slot)
    return answer(error({429, "rate_limit_error", "too_many_requests",
                         "the server is at --max-concurrency; retry later"}));
  if (ep == Ep::kRoute) {
    return {std::nullopt,
            [this](const HttpRequest& r, ResponseWriter& out) { handle_route(r, out); }, slot};
  }
  // Store reads block on the database: a worker answers them, under an admission slot.
  if (ep == Ep::kRuns) {
    return {std::nullopt,
            [this](const HttpRequest& r, ResponseWriter& out) { handle_list_runs(r, out); }, slot};
  }
  if (ep == Ep::kRun) {
    return {std::nullopt,
            [this](const HttpRequest& r, ResponseWriter& out) { handle_get_run(r, out); }, slot};
  }
  if (ep == Ep::kResponses) {
    return {std::nullopt,
            [this](const HttpRequest& r, ResponseWriter& out) { handle_responses(r, out); }, slot};
  }
  return {std::nullopt, [this](const HttpRequest& r, ResponseWriter& out) { handle_chat(r, out); },
          slot};
}

HttpReply Server::Impl::error_reply(const HttpError& e) {
  ApiError api = error_for_status(e.status);
  api.message = e.message;
  HttpReply r = error(api);
  if (e.status == 415) r.headers.emplace_back("Accept-Encoding", "identity");
  r.close = true;
  return r;
}

void Server::Impl::on_response(const HttpRequest& req, int status, double seconds,
                               const std::string& note) {
  const char* ep = endpoint_label(req);
  metrics.inc("trinity_http_requests_total",
              {{"endpoint", ep}, {"status", std::to_string(status)}});
  metrics.observe("trinity_http_request_duration_seconds", {{"endpoint", ep}}, seconds);
  if (config.access_log) {
    std::fprintf(stderr, "serve: %s %s %d %.1fms%s%s\n",
                 req.method.empty() ? "-" : req.method.c_str(), ep, status, seconds * 1000.0,
                 note.empty() ? "" : " ", note.c_str());
  }
}

void Server::Impl::on_connection_refused() {
  metrics.inc("trinity_http_connections_refused_total");
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
      // Cancelled runs stop at their next turn or provider poll; the HTTP stop below closes
      // every connection either way, so the process exits within the drain timeout + ~1.5 s.
      drained_cv.wait_for(lock, std::chrono::milliseconds(500), [&] { return in_flight == 0; });
    }
  }
  // Responses still being written (a stream's tail after its run) get up to 1 s.
  if (http) http->stop(1000);
  if (store_thread.joinable()) {
    {
      std::lock_guard<std::mutex> lock(store_mu);
      store_stop = true;
    }
    store_cv.notify_all();
    store_thread.join();
    Status st = config.store->release_lease();
    if (!st.ok()) std::fprintf(stderr, "serve: run store: %s\n", st.message().c_str());
  }
  if (otlp) otlp->shutdown();  // sends the spans still queued, within its deadline
  stopped = true;
}

Status validate_config(const ServerConfig& c) {
  if (c.port < 0 || c.port > 65535) return invalid_argument("--port must be in 0..65535");
  if (c.max_concurrency < 1) return invalid_argument("--max-concurrency must be >= 1");
  if (c.max_body_bytes < 1024) return invalid_argument("--max-body-bytes must be >= 1024");
  if (c.max_header_bytes < 1024 || c.max_header_bytes > (64 << 20))
    return invalid_argument("--max-header-bytes must be in 1024..67108864");
  if (c.max_connections < 1) return invalid_argument("--max-connections must be >= 1");
  if (c.head_timeout_ms < 1) return invalid_argument("--head-timeout-ms must be >= 1");
  if (c.json_bounds.max_values < 16) return invalid_argument("--max-json-values must be >= 16");
  if (c.max_turns < 1) return invalid_argument("--max-turns must be >= 1");
  if (c.route_batch_window_us < 0 || c.route_batch_window_us > 100000)
    return invalid_argument("--route-batch-window-us must be in 0..100000");
  if (c.route_batch_max < 1) return invalid_argument("--route-batch-max must be >= 1");
  if (c.http_threads < 0) return invalid_argument("--http-threads must be >= 0");
  if (c.read_timeout_ms < 1 || c.write_timeout_ms < 1)
    return invalid_argument("read/write timeouts must be >= 1 ms");
  if (c.drain_timeout_ms < 0) return invalid_argument("--drain-timeout-ms must be >= 0");
  if (c.stream_heartbeat_ms < 10) return invalid_argument("stream heartbeat must be >= 10 ms");
  if (c.store_retention_days < 0) return invalid_argument("--store-retention-days must be >= 0");
  if (c.store_maintenance_ms < 10) return invalid_argument("store maintenance must be >= 10 ms");
  if (!c.otlp_endpoint.empty())
    TRINITY_RETURN_IF_ERROR(coord::validate_otlp_endpoint(c.otlp_endpoint));
  if (c.otlp_service_name.empty()) return invalid_argument("--otlp-service-name must not be empty");
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
  impl->otlp = make_otlp_exporter(impl->config);
  const Router* inner = impl->inner_router.get();
  const coord::OtlpExporter* otlp = impl->otlp.get();
  impl->metrics.set_extra(
      [inner, otlp] { return prefix_cache_metrics(*inner) + (otlp ? otlp_metrics(*otlp) : ""); });
  if (auto circuits = impl->pools->base()->circuits)  // read at scrape time
    impl->metrics.add_gauge(
        "trinity_circuit_state",
        "Circuit breaker state by endpoint: 0 closed, 1 open, 2 half-open.", [circuits] {
          std::vector<std::pair<Labels, double>> rows;
          for (const auto& c : circuits->snapshot())
            rows.push_back({{{"endpoint", c.name}}, static_cast<double>(c.state)});
          return rows;
        });
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Status Server::start() {
  Impl& s = *impl_;
  std::lock_guard<std::mutex> life(s.lifecycle_mu);
  if (s.started) return invalid_argument("server already started");
  const ServerConfig& c = s.config;
  HttpServerOptions o;
  o.host = c.host;
  o.port = c.port;
  o.limits.max_body_bytes = c.max_body_bytes;
  o.limits.max_head_bytes = static_cast<size_t>(c.max_header_bytes);
  o.head_timeout_ms = c.head_timeout_ms;
  o.idle_timeout_ms = c.keep_alive_timeout_s * 1000;
  o.read_timeout_ms = c.read_timeout_ms;
  o.write_timeout_ms = c.write_timeout_ms;
  o.max_connections = c.max_connections;
  // Every worker job holds an admission slot; a few more cover streams writing their tail after
  // the slot is handed back.
  o.workers = c.http_threads > 0 ? c.http_threads : c.max_concurrency + 4;
  if (c.store) {
    // None of this replica's runs can be live before it listens: those left `running` by its
    // previous process are interrupted.
    auto marked = c.store->recover(unix_now_ms(), true);
    if (!marked.ok()) return marked.status().with_context("run store recovery");
    if (*marked > 0)
      std::fprintf(stderr, "serve: run store: %lld unfinished run(s) marked interrupted\n",
                   static_cast<long long>(*marked));
  }
  s.http = std::make_unique<HttpServer>(o, &s);
  TRINITY_RETURN_IF_ERROR(s.http->bind());
  s.bound_port = s.http->port();
  TRINITY_RETURN_IF_ERROR(s.http->start());
  if (c.store) s.store_thread = std::thread([&s] { s.store_maintenance_loop(); });
  s.started = true;
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
