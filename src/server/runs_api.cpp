// The run store behind `trinity serve`: writing runs (begin, finish), GET /v1/runs/{id},
// GET /v1/runs, and the maintenance thread (lease, dead-replica sweep, retention).
#include <chrono>
#include <cstdio>

#include "core/time_util.h"
#include "server/server_impl.h"

namespace trinity::server {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

bool all_digits(const std::string& s) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

Result<store::RunQuery> parse_runs_query(const std::string& query) {
  store::RunQuery q;
  size_t pos = 0;
  while (pos <= query.size() && !query.empty()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string::npos) amp = query.size();
    const std::string_view pair(query.data() + pos, amp - pos);
    pos = amp + 1;
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!name || !value) return invalid_argument("malformed query string");
    if (*name == "status") {
      if (!store::is_run_status(*value))
        return invalid_argument(
            "status: expected running, accepted, unverified, failed or "
            "interrupted, got '" +
            value->substr(0, 64) + "'");
      q.status = *value;
    } else if (*name == "since") {
      TRINITY_ASSIGN_OR_RETURN(int64_t ms, store::parse_since_ms(*value));
      q.since_ms = ms;
    } else if (*name == "limit") {
      if (!all_digits(*value) || std::stoll(*value) < 1 || std::stoll(*value) > 1000)
        return invalid_argument("limit: expected an integer in 1..1000");
      q.limit = static_cast<int>(std::stoll(*value));
    } else if (*name == "cursor" || *name == "after") {
      int64_t t = 0;
      std::string id;
      TRINITY_RETURN_IF_ERROR(store::decode_cursor(*value, &t, &id));
      q.cursor = *value;
    } else {
      return invalid_argument("unknown query parameter '" + name->substr(0, 64) +
                              "' (expected status, since, limit, cursor)");
    }
    if (amp == query.size()) break;
  }
  return q;
}

}  // namespace

HttpReply Server::Impl::readyz() const {
  OrderedJson j;
  j["ready"] = !draining.load();
  j["status"] = draining ? "draining" : "ready";
  return json_reply(draining ? 503 : 200, j);
}

void Server::Impl::handle_get_run(const HttpRequest& req, ResponseWriter& out) {
  if (!config.store)
    return void(out.send(error({404, "invalid_request_error", "run_store_disabled",
                                "this server keeps no run store (started with --store none)"})));
  const std::string id = req.path.substr(std::string("/v1/runs/").size());
  auto run = config.store->get_run(id);
  if (!run.ok()) {
    std::fprintf(stderr, "serve: run store read failed: %s\n", run.status().message().c_str());
    return void(out.send(
        error({503, "server_error", "run_store_unavailable", "the run store cannot be read"})));
  }
  if (!run->has_value())
    return void(out.send(error({404, "invalid_request_error", "run_not_found",
                                "no run with id '" + id.substr(0, 64) + "'"})));
  out.send(json_reply(200, (*run)->to_json(true)));
}

void Server::Impl::handle_list_runs(const HttpRequest& req, ResponseWriter& out) {
  if (!config.store)
    return void(out.send(error({404, "invalid_request_error", "run_store_disabled",
                                "this server keeps no run store (started with --store none)"})));
  auto q = parse_runs_query(req.query);
  if (!q.ok())
    return void(
        out.send(error({400, "invalid_request_error", "invalid_request", q.status().message()})));
  auto page = config.store->list_runs(*q);
  if (!page.ok()) {
    std::fprintf(stderr, "serve: run store read failed: %s\n", page.status().message().c_str());
    return void(out.send(
        error({503, "server_error", "run_store_unavailable", "the run store cannot be read"})));
  }
  OrderedJson j;
  j["object"] = "list";
  j["data"] = OrderedJson::array();
  for (const store::RunRecord& r : page->runs) j["data"].push_back(r.to_json(false));
  j["has_more"] = page->next_cursor.has_value();
  j["next_cursor"] = opt_json(page->next_cursor);
  out.send(json_reply(200, j));
}

Result<std::unique_ptr<StoredRun>> Server::Impl::store_begin(const std::string& run_id,
                                                             const char* endpoint,
                                                             const std::vector<Message>& messages,
                                                             OrderedJson options,
                                                             const std::string& pool) {
  if (!config.store) return std::unique_ptr<StoredRun>();
  auto run = std::make_unique<StoredRun>(config.trace_content);
  store::RunRecord& r = run->record;
  r.id = run_id;
  r.endpoint = endpoint;
  r.pool = pool;
  r.profile = inner_router->profile();
  r.content_mode = coord::content_mode_name(config.trace_content);
  r.created_ms = unix_now_ms();
  r.request = store::stored_request(messages, std::move(options), config.trace_content, redactor);
  const auto t0 = std::chrono::steady_clock::now();
  Status st = config.store->begin_run(r);
  metrics.observe("trinity_store_write_seconds", {{"op", "begin"}}, seconds_since(t0));
  if (!st.ok()) {
    metrics.inc("trinity_store_errors_total", {{"op", "begin"}});
    std::fprintf(stderr, "serve: run %s: %s\n", run_id.c_str(), st.message().c_str());
    return st;
  }
  return run;
}

void Server::Impl::store_finish(StoredRun* run, const coord::RunResult& r,
                                const std::string& client_error) {
  if (!run) return;
  store::finish_record(run->record, r, run->capture.take(), client_error, redactor, unix_now_ms());
  const auto t0 = std::chrono::steady_clock::now();
  Status st = config.store->finish_run(run->record);
  metrics.observe("trinity_store_write_seconds", {{"op", "finish"}}, seconds_since(t0));
  if (!st.ok()) {
    metrics.inc("trinity_store_errors_total", {{"op", "finish"}});
    std::fprintf(stderr, "serve: run %s: not stored: %s\n", r.run_id.c_str(), st.message().c_str());
  }
}

void Server::Impl::store_maintenance_loop() {
  int64_t last_retention_ms = 0;
  std::unique_lock<std::mutex> lock(store_mu);
  while (!store_stop) {
    lock.unlock();
    const int64_t now = unix_now_ms();
    Status st = config.store->renew_lease(now);
    auto swept = st.ok() ? config.store->recover(now, false) : Result<int64_t>(st);
    if (!swept.ok()) {
      metrics.inc("trinity_store_errors_total", {{"op", "maintenance"}});
      std::fprintf(stderr, "serve: run store maintenance: %s\n", swept.status().message().c_str());
    } else if (*swept > 0) {
      std::fprintf(stderr, "serve: run store: %lld run(s) of dead replicas marked interrupted\n",
                   static_cast<long long>(*swept));
    }
    if (config.store_retention_days > 0 && now - last_retention_ms >= 3600 * 1000) {
      last_retention_ms = now;
      auto n = config.store->delete_before(now - config.store_retention_days * 86400 * 1000);
      if (n.ok() && *n > 0)
        std::fprintf(stderr, "serve: run store retention: %lld run(s) deleted\n",
                     static_cast<long long>(*n));
      if (!n.ok()) metrics.inc("trinity_store_errors_total", {{"op", "retention"}});
    }
    lock.lock();
    store_cv.wait_for(lock, std::chrono::milliseconds(config.store_maintenance_ms),
                      [&] { return store_stop; });
  }
}

}  // namespace trinity::server
