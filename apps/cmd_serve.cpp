// trinity serve: the OpenAI-compatible coordinator endpoint (see docs/server.md).
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <thread>

#include "cli_common.h"
#include "coord/pool.h"
#include "router/open_router.h"
#include "server/server.h"
#include "store/run_store.h"

namespace trinity::cli {

namespace {

struct Options {
  RouterSource src;
  std::string pool;
  std::string api_key_env;
  bool allow_live = false;
  ReflexFlags reflex;
  bool quiet = false;
  std::string trace_content = "hash";
  std::string cold_verifier;  // "": the pool's "cold_verifier", else worker
  std::optional<int64_t> max_wall_time_ms, max_provider_calls, max_provider_latency_ms,
      max_verifier_revisions;
  std::optional<double> max_estimated_cost_usd;
  std::string store;  // "": the default sqlite file; "none": no store
  std::string replica_id;
  std::string exclude_agents;  // slot indices and model names, comma-separated
  server::ServerConfig cfg;
};

// --store: "none", a spec, or the default SQLite file under the data directory.
Status open_store(Options& o) {
  if (o.store == "none") return ok_status();
  std::string spec = o.store.empty() ? store::default_store_spec() : o.store;
  if (spec.empty())
    return invalid_argument(
        "--store: neither XDG_DATA_HOME nor HOME is set; give --store sqlite:PATH, "
        "--store postgres://... or --store none");
  store::StoreOptions so;
  so.owner = o.replica_id;
  if (so.owner.empty()) {
    // Port 0 picks a new port at every start: such a replica cannot be restarted as itself,
    // so its id is unique (its leftovers are swept once its lease expires).
    so.owner = store::default_owner_id(o.cfg.port);
    if (o.cfg.port == 0) so.owner += "-" + std::to_string(getpid());
  }
  so.max_connections = std::min(o.cfg.max_concurrency, 16);
  auto st = store::open_run_store(spec, so);
  if (!st.ok()) return st.status();
  o.cfg.store = std::shared_ptr<store::RunStore>(std::move(st).value());
  return ok_status();
}

// SIGTERM/SIGINT: the handler only records the signal and wakes the main thread through a pipe
// (both async-signal-safe). A handler, not the default action, so that the signal drains the
// server whichever thread the kernel hands it to: libraries start threads before main (OpenBLAS's
// pool) whose masks we do not control.
int g_signal_pipe[2] = {-1, -1};
volatile sig_atomic_t g_signal = 0;

extern "C" void on_stop_signal(int sig) {
  g_signal = sig;
  const char c = 1;
  const int saved = errno;
  [[maybe_unused]] const ssize_t n = write(g_signal_pipe[1], &c, 1);
  errno = saved;
}

Status install_stop_handlers() {
  if (pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
    return io_error(std::string("cannot create the signal pipe: ") + std::strerror(errno));
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  return ok_status();
}

// Blocks until a stop signal has arrived; returns it.
int wait_for_stop_signal() {
  while (g_signal == 0) {
    pollfd p{g_signal_pipe[0], POLLIN, 0};
    poll(&p, 1, 1000);  // EINTR and the timeout just recheck
  }
  return g_signal;
}

int run(Options& o) {
  const std::string cmd = "serve";
  // Signals: the handlers go in first, then SIGTERM/SIGINT are blocked in this thread so that
  // every thread started from here on (store, router, pool, HTTP workers) inherits the mask and
  // the main thread, which unblocks them before it waits, is the one that takes them. A signal
  // that comes early stays pending until then. SIGPIPE is ignored (dead clients).
  {
    Status st = install_stop_handlers();
    if (!st.ok()) return report_error(cmd, st);
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  server::ServerConfig& cfg = o.cfg;
  if (o.pool.empty()) return report_error(cmd, invalid_argument("--pool FILE|mock is required"));
  auto mode = coord::parse_content_mode(o.trace_content);
  if (!mode.ok()) return report_error(cmd, mode.status());
  cfg.trace_content = *mode;
  if (!o.cold_verifier.empty()) {
    auto cv = coord::parse_cold_verifier(o.cold_verifier);
    if (!cv.ok()) return report_error(cmd, cv.status().with_context("--cold-verifier"));
    cfg.cold_verifier = *cv;
  }
  auto reflex = o.reflex.to_config();
  if (!reflex.ok()) return report_error(cmd, reflex.status());
  cfg.reflex = *reflex;
  cfg.access_log = !o.quiet;
  cfg.budgets.max_wall_time_ms = o.max_wall_time_ms;
  cfg.budgets.max_provider_calls = o.max_provider_calls;
  cfg.budgets.max_provider_latency_ms = o.max_provider_latency_ms;
  cfg.budgets.max_verifier_revisions = o.max_verifier_revisions;
  if (o.max_estimated_cost_usd) {
    auto micro = coord::usd_to_micro(*o.max_estimated_cost_usd);
    if (!micro.ok())
      return report_error(cmd, micro.status().with_context("--max-estimated-cost-usd"));
    cfg.budgets.max_estimated_cost_micro_usd = *micro;
  }
  if (!o.api_key_env.empty()) {
    const char* key = std::getenv(o.api_key_env.c_str());
    if (!key || !*key)
      return report_error(cmd, invalid_argument("--api-key-env: environment variable " +
                                                o.api_key_env + " is not set or empty"));
    cfg.api_key = key;
  }
  {
    Status st = server::validate_config(cfg);
    if (!st.ok()) return report_error(cmd, st);
  }

  {
    Status st = open_store(o);
    if (!st.ok()) return report_error(cmd, st);
  }

  auto pool_cfg = coord::load_pool(o.pool);
  if (!pool_cfg.ok()) return report_error(cmd, pool_cfg.status());
  const std::string pool_name = pool_cfg->name;
  if (!o.exclude_agents.empty()) {
    auto excluded = coord::resolve_excluded_agents(coord::parse_agent_ref_list(o.exclude_agents),
                                                   *pool_cfg, "--exclude-agents");
    if (!excluded.ok()) return report_error(cmd, excluded.status());
    if (std::find(excluded->begin(), excluded->end(), false) == excluded->end())
      return report_error(cmd, invalid_argument("--exclude-agents: every agent slot is excluded"));
    cfg.excluded_agents = *excluded;
  }
  auto pools =
      server::PoolProvider::create(std::move(pool_cfg).value(), o.allow_live, coord::process_env());
  if (!pools.ok()) return report_error(cmd, pools.status());
  auto router = open_router(o.src);
  if (!router.ok()) return report_error(cmd, router.status());
  cfg.artifact = artifact_identity(o.src, (*router)->profile());

  auto srv = server::Server::create(cfg, std::shared_ptr<const Router>(std::move(router).value()),
                                    std::move(pools).value());
  if (!srv.ok()) return report_error(cmd, srv.status());
  Status st = (*srv)->start();
  if (!st.ok()) return report_error(cmd, st);
  std::printf(
      "trinity serve: listening on %s (model \"trinity\", router %s, pool %s%s, run store %s)\n",
      (*srv)->url().c_str(), o.src.profile.empty() ? "default" : o.src.profile.c_str(),
      pool_name.c_str(), cfg.api_key.empty() ? "" : ", bearer auth",
      cfg.store ? (cfg.store->spec() + " as " + cfg.store->owner()).c_str() : "none");
  std::fflush(stdout);

  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  const int sig = wait_for_stop_signal();
  std::fprintf(stderr, "trinity serve: %s received, draining %lld in-flight request(s)\n",
               sig == SIGTERM ? "SIGTERM" : "SIGINT", static_cast<long long>((*srv)->in_flight()));
  (*srv)->shutdown();
  std::fprintf(stderr, "trinity serve: stopped\n");
  return kExitOk;
}

}  // namespace

void register_serve(CLI::App& app, CommandRegistry& reg) {
  auto o = std::make_shared<Options>();
  CLI::App* sub =
      app.add_subcommand("serve", "OpenAI-compatible HTTP endpoint for the coordinator");
  add_router_source_options(sub, o->src);
  server::ServerConfig& c = o->cfg;
  sub->add_option("--pool", o->pool, "Agent pool: a pool JSON file, or 'mock'")->required();
  sub->add_option("--host", c.host, "Address to bind (default 127.0.0.1: loopback only)");
  sub->add_option("--port", c.port, "Port (0: an ephemeral port, printed at startup)");
  sub->add_option("--api-key-env", o->api_key_env,
                  "Require 'Authorization: Bearer <key>' on /v1/*, the key read from this "
                  "environment variable");
  sub->add_flag("--allow-live", o->allow_live, "Allow live (network) providers from the pool");
  sub->add_option("--max-concurrency", c.max_concurrency,
                  "Runs and route requests in progress at once; more get 429 (default 64)");
  sub->add_option("--max-body-bytes", c.max_body_bytes, "Largest request body (default 1 MiB)");
  sub->add_option("--trace-dir", c.trace_dir, "Write one JSONL trace per run: DIR/<run_id>.jsonl");
  sub->add_option("--trace-content", o->trace_content, "Trace content mode: hash (default) | full");
  sub->add_option("--max-turns", c.max_turns, "Turns per run (default 5)");
  sub->add_option("--exclude-agents", o->exclude_agents,
                  "agent slots no run may route to: slot indices (0-6) and model names, "
                  "comma-separated (a model name excludes every slot serving it); requests may "
                  "add exclusions with {\"trinity\": {\"exclude_agents\": [...]}}, never lift "
                  "these");
  sub->add_option("--cold-verifier", o->cold_verifier,
                  "A Verifier turn before any Worker answer: worker (default; dispatched as a "
                  "Worker turn) or error (HTTP 422, as the reference); overrides the pool's "
                  "\"cold_verifier\"; requests may only tighten it with "
                  "{\"trinity\": {\"cold_verifier\": \"error\"}}");
  sub->add_option("--max-wall-time-ms", o->max_wall_time_ms, "Budget: run wall time");
  sub->add_option("--max-provider-calls", o->max_provider_calls, "Budget: provider calls");
  sub->add_option("--max-provider-latency-ms", o->max_provider_latency_ms,
                  "Budget: latency of one provider call");
  sub->add_option("--max-verifier-revisions", o->max_verifier_revisions,
                  "Budget: Verifier revisions");
  sub->add_option("--max-estimated-cost-usd", o->max_estimated_cost_usd,
                  "Budget: estimated cost in USD");
  add_reflex_options(sub, o->reflex);
  sub->add_option("--route-batch-window-us", c.route_batch_window_us,
                  "Window for coalescing concurrent routing calls into one forward pass "
                  "(default 1000 us; 0 disables)");
  sub->add_option("--route-batch-max", c.route_batch_max, "Largest routing batch (default 32)");
  sub->add_option("--http-threads", c.http_threads,
                  "Worker threads for runs and routing (default: max-concurrency + 4); idle and "
                  "reading connections hold none");
  sub->add_option("--max-connections", c.max_connections,
                  "Open connections; beyond it a new connection gets 503 at once (default 1024)");
  sub->add_option("--max-header-bytes", c.max_header_bytes,
                  "Largest request head, request line and headers together (default 65536; "
                  "more: 431)");
  sub->add_option("--head-timeout-ms", c.head_timeout_ms,
                  "A request head must arrive whole within this, from its first byte (default "
                  "10000; else 408)");
  sub->add_option("--max-json-values", c.json_bounds.max_values,
                  "JSON values in a request body, checked before it is parsed (default 50000; "
                  "more: 400)");
  sub->add_option("--read-timeout-ms", c.read_timeout_ms,
                  "A request body that makes no progress for this long gets 408 (default 10000)");
  sub->add_option("--write-timeout-ms", c.write_timeout_ms,
                  "A response write that makes no progress for this long closes the connection "
                  "(default 10000)");
  sub->add_option("--drain-timeout-ms", c.drain_timeout_ms,
                  "On SIGTERM, wait this long for in-flight runs before cancelling them; then "
                  "every connection is closed and the process exits (default 30000)");
  sub->add_option("--stream-heartbeat-ms", c.stream_heartbeat_ms,
                  "Idle SSE streams get a ': ping' comment this often (default 500)");
  sub->add_option("--store", o->store,
                  "Run store: sqlite:PATH, postgres://user@host:port/db, or none (default: "
                  "sqlite:$XDG_DATA_HOME/trinity/runs.db, i.e. ~/.local/share/trinity/runs.db)");
  sub->add_option("--store-retention-days", c.store_retention_days,
                  "Delete finished runs older than this many days (checked hourly; default 0: "
                  "keep everything)");
  sub->add_option("--replica-id", o->replica_id,
                  "This replica's id in the run store, stable across its restarts and unique "
                  "among live replicas (default: HOSTNAME:PORT). A restart marks the runs its "
                  "previous process left running as interrupted");
  sub->add_option("--otlp-endpoint", c.otlp_endpoint,
                  "Export OpenTelemetry spans (run, turn, route, provider call) over OTLP/HTTP "
                  "JSON to this collector URL (http(s)://host:4318; /v1/traces is appended); "
                  "the requests' W3C traceparent is continued and passed to providers");
  sub->add_option("--otlp-service-name", c.otlp_service_name,
                  "service.name of the exported spans (default trinity)");
  sub->add_flag("--quiet", o->quiet, "No access log on stderr");
  reg.add(sub, [o] { return run(*o); });
}

}  // namespace trinity::cli
