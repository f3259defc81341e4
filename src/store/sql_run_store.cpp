// RunStore over SqlConnection: the same statements on SQLite and PostgreSQL.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "core/time_util.h"
#include "store/migrations.h"
#include "store/run_store.h"

namespace trinity::store {
namespace {

constexpr const char* kRunColumns =
    "id, status, owner, endpoint, pool, profile, content_mode, created_ms, finished_ms, request, "
    "answer, failure_reason, error, input_tokens, output_tokens, cost_micro_usd, elapsed_ms, "
    "turns, answer_tool_calls";

int64_t to_int(const std::optional<std::string>& v) {
  return v && !v->empty() ? std::strtoll(v->c_str(), nullptr, 10) : 0;
}

SqlParam opt_param(const std::optional<std::string>& v) {
  return v ? SqlParam(*v) : SqlParam(std::monostate{});
}

SqlParam opt_param(const std::optional<double>& v) {
  // Text with full precision: both backends convert it into the DOUBLE PRECISION column.
  if (!v) return std::monostate{};
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.17g", *v);
  return std::string(buf);
}

std::optional<double> to_opt_double(const std::optional<std::string>& v) {
  if (!v || v->empty()) return std::nullopt;
  return std::strtod(v->c_str(), nullptr);
}

Result<RunRecord> run_from_row(const SqlRow& r) {
  RunRecord run;
  run.id = r[0].value_or("");
  run.status = r[1].value_or("");
  run.owner = r[2].value_or("");
  run.endpoint = r[3].value_or("");
  run.pool = r[4].value_or("");
  run.profile = r[5].value_or("");
  run.content_mode = r[6].value_or("");
  run.created_ms = to_int(r[7]);
  if (r[8]) run.finished_ms = to_int(r[8]);
  auto request = parse_ordered_json(r[9].value_or("null"), "run " + run.id + " request");
  if (!request.ok()) return request.status();
  run.request = std::move(request).value();
  run.answer = r[10];
  run.failure_reason = r[11].value_or("");
  run.error = r[12].value_or("");
  run.input_tokens = to_int(r[13]);
  run.output_tokens = to_int(r[14]);
  run.cost_micro_usd = to_int(r[15]);
  run.elapsed_ms = to_int(r[16]);
  run.turns_count = static_cast<int>(to_int(r[17]));
  if (r[18]) {
    auto calls = parse_ordered_json(*r[18], "run " + run.id + " answer_tool_calls");
    if (!calls.ok()) return calls.status();
    run.answer_tool_calls = std::move(calls).value();
  }
  return run;
}

TurnRow turn_from_row(const SqlRow& r) {
  TurnRow t;
  t.turn = static_cast<int>(to_int(r[0]));
  t.agent_id = static_cast<int>(to_int(r[1]));
  t.role = r[2].value_or("");
  t.routed_role = r[3].value_or("");
  t.agent_margin = to_opt_double(r[4]);
  t.role_margin = to_opt_double(r[5]);
  t.provider = r[6].value_or("");
  t.model = r[7].value_or("");
  t.status = r[8].value_or("");
  t.latency_ms = to_int(r[9]);
  t.input_tokens = to_int(r[10]);
  t.output_tokens = to_int(r[11]);
  t.cost_micro_usd = to_int(r[12]);
  t.verdict = r[13].value_or("");
  return t;
}

// INSERT INTO <table_columns> VALUES ($1, ...), ($1, ...): rows of `width` values after the
// shared run id, `flat` row after row, a multi-row statement per chunk of up to 64 rows (one
// round trip per chunk on PostgreSQL).
Status insert_rows(SqlConnection& conn, const std::string& table_columns, const std::string& run_id,
                   size_t width, std::vector<SqlParam> flat) {
  constexpr size_t kChunkRows = 64;
  const size_t rows = flat.size() / width;
  for (size_t first = 0; first < rows; first += kChunkRows) {
    const size_t n = std::min(kChunkRows, rows - first);
    std::string sql = "INSERT INTO " + table_columns + " VALUES ";
    std::vector<SqlParam> params;
    params.reserve(1 + n * width);
    params.push_back(run_id);
    for (size_t r = 0; r < n; ++r) {
      sql += r ? ", ($1" : "($1";
      for (size_t c = 0; c < width; ++c) {
        params.push_back(std::move(flat[(first + r) * width + c]));
        sql += ", ";
        sql += sql_param(params.size());
      }
      sql += ")";
    }
    auto ins = conn.query(sql, params);
    if (!ins.ok()) return ins.status();
  }
  return ok_status();
}

class SqlRunStore final : public RunStore {
 public:
  SqlRunStore(std::string spec, StoreOptions options, SqlPool::Opener open)
      : spec_(std::move(spec)),
        options_(std::move(options)),
        pool_(std::move(open), options_.max_connections) {}

  const std::string& spec() const override { return spec_; }
  const std::string& owner() const override { return options_.owner; }

  Status open(int64_t now_ms) {
    TRINITY_ASSIGN_OR_RETURN(auto conn, pool_.acquire());
    TRINITY_RETURN_IF_ERROR(migrate(*conn));
    return options_.register_lease ? upsert_lease(*conn, now_ms, true) : ok_status();
  }

  Status begin_run(const RunRecord& run) override {
    TRINITY_ASSIGN_OR_RETURN(auto conn, pool_.acquire());
    auto r = conn->query(
        "INSERT INTO runs (id, status, owner, endpoint, pool, profile, content_mode, created_ms, "
        "request) VALUES ($1, 'running', $2, $3, $4, $5, $6, $7, $8)",
        {run.id, options_.owner, run.endpoint, run.pool, run.profile, run.content_mode,
         run.created_ms, run.request.dump()});
    return r.ok() ? ok_status() : r.status().with_context("run " + run.id);
  }

  Status finish_run(const RunRecord& run) override {
    TRINITY_ASSIGN_OR_RETURN(auto conn, pool_.acquire());
    Status st = in_transaction(*conn, [&]() -> Status {
      auto up = conn->query(
          "UPDATE runs SET status = $2, finished_ms = $3, answer = $4, failure_reason = $5, "
          "error = $6, input_tokens = $7, output_tokens = $8, cost_micro_usd = $9, "
          "elapsed_ms = $10, turns = $11, answer_tool_calls = $12 WHERE id = $1",
          {run.id, run.status, run.finished_ms.value_or(0), opt_param(run.answer),
           run.failure_reason, run.error, run.input_tokens, run.output_tokens, run.cost_micro_usd,
           run.elapsed_ms, int64_t{run.turns_count},
           run.answer_tool_calls.is_null() ? SqlParam(std::monostate{})
                                           : SqlParam(run.answer_tool_calls.dump())});
      if (!up.ok()) return up.status();
      if (conn->changes() != 1) return not_found("run " + run.id + " was never begun");
      std::vector<SqlParam> turns;
      for (const TurnRow& t : run.turns) {
        for (SqlParam p :
             {SqlParam(int64_t{t.turn}), SqlParam(int64_t{t.agent_id}), SqlParam(t.role),
              SqlParam(t.routed_role), opt_param(t.agent_margin), opt_param(t.role_margin),
              SqlParam(t.provider), SqlParam(t.model), SqlParam(t.status), SqlParam(t.latency_ms),
              SqlParam(t.input_tokens), SqlParam(t.output_tokens), SqlParam(t.cost_micro_usd),
              SqlParam(t.verdict)})
          turns.push_back(std::move(p));
      }
      TRINITY_RETURN_IF_ERROR(insert_rows(*conn,
                                          "run_turns (run_id, turn, agent_id, role, routed_role, "
                                          "agent_margin, role_margin, provider, model, status, "
                                          "latency_ms, input_tokens, output_tokens, "
                                          "cost_micro_usd, verdict)",
                                          run.id, 14, std::move(turns)));
      std::vector<SqlParam> events;
      events.reserve(run.events.size() * 2);
      for (size_t i = 0; i < run.events.size(); ++i) {
        events.push_back(static_cast<int64_t>(i));
        events.push_back(run.events[i].dump(-1, ' ', false, OrderedJson::error_handler_t::replace));
      }
      TRINITY_RETURN_IF_ERROR(
          insert_rows(*conn, "run_events (run_id, seq, event)", run.id, 2, std::move(events)));
      return ok_status();
    });
    return st.ok() ? st : st.with_context("run " + run.id);
  }

  Result<std::optional<RunRecord>> get_run(const std::string& id) override {
    TRINITY_ASSIGN_OR_RETURN(auto conn, pool_.acquire());
    TRINITY_ASSIGN_OR_RETURN(
        auto rows,
        conn->query(std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = $1", {id}));
    if (rows.empty()) return std::optional<RunRecord>();
    TRINITY_ASSIGN_OR_RETURN(RunRecord run, run_from_row(rows[0]));
    TRINITY_ASSIGN_OR_RETURN(
        auto turns,
        conn->query("SELECT turn, agent_id, role, routed_role, agent_margin, role_margin, "
                    "provider, model, status, latency_ms, input_tokens, output_tokens, "
                    "cost_micro_usd, verdict FROM run_turns WHERE run_id = $1 ORDER BY turn",
                    {id}));
    for (const SqlRow& r : turns) run.turns.push_back(turn_from_row(r));
    TRINITY_ASSIGN_OR_RETURN(run.events, events_on(*conn, id));
    return std::optional<RunRecord>(std::move(run));
  }

  Result<RunPage> list_runs(const RunQuery& q) override {
    std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs WHERE 1 = 1";
    std::vector<SqlParam> params;
    auto add = [&](const std::string& clause, SqlParam p) {
      params.push_back(std::move(p));
      std::string c = clause;
      for (size_t at; (at = c.find('?')) != std::string::npos;)
        c.replace(at, 1, sql_param(params.size()));
      sql += " AND " + c;
    };
    if (q.status) add("status = ?", *q.status);
    if (q.since_ms) add("created_ms >= ?", *q.since_ms);
    if (q.cursor) {
      int64_t created = 0;
      std::string id;
      TRINITY_RETURN_IF_ERROR(decode_cursor(*q.cursor, &created, &id));
      params.push_back(created);
      const std::string c = sql_param(params.size());
      params.push_back(id);
      const std::string i = sql_param(params.size());
      sql += " AND (created_ms < " + c + " OR (created_ms = " + c + " AND id < " + i + "))";
    }
    sql += " ORDER BY created_ms DESC, id DESC LIMIT ";
    sql += sql_param(params.size() + 1);
    params.push_back(int64_t{q.limit} + 1);
    TRINITY_ASSIGN_OR_RETURN(auto conn, pool_.acquire());
    TRINITY_ASSIGN_OR_RETURN(auto rows, conn->query(sql, params));
    RunPage page;
    for (size_t i = 0; i < rows.size() && i < static_cast<size_t>(q.limit); ++i) {
      TRINITY_ASSIGN_OR_RETURN(RunRecord run, run_from_row(rows[i]));
      page.runs.push_back(std::move(run));
    }
    if (rows.size() > static_cast<size_t>(q.limit) && !page.runs.empty())
      page.next_cursor = encode_cursor(page.runs.back().created_ms, page.runs.back().id);
    return page;
  }

  Result<std::vector<OrderedJson>> run_events(const std::string& id) override {
    TRINITY_ASSIGN_OR_RETURN(auto conn, pool_.acquire());
    return events_on(*conn, id);
  }

  Status renew_lease(int64_t now_ms) override {
    TRINITY_ASSIGN_OR_RETURN(auto conn, pool_.acquire());
    return upsert_lease(*conn, now_ms, false);
  }

  Result<int64_t> recover(int64_t now_ms, bool own_runs) override {
    TRINITY_ASSIGN_OR_RETURN(auto conn, pool_.acquire());
    int64_t marked = 0;
    Status st = in_transaction(*conn, [&]() -> Status {
      // A run of a replica that holds no lease row at all is orphaned too.
      auto r = conn->query(
          "UPDATE runs SET status = 'interrupted', finished_ms = $1, "
          "error = 'the serving process stopped before the run finished' "
          "WHERE status = 'running' AND ((owner = $2 AND $3 = 1) OR owner IN (SELECT owner FROM "
          "replicas WHERE lease_until_ms < $1 AND owner <> $2) OR (owner <> $2 AND owner NOT IN "
          "(SELECT owner FROM replicas)))",
          {now_ms, options_.owner, int64_t{own_runs ? 1 : 0}});
      if (!r.ok()) return r.status();
      marked = conn->changes();
      auto d = conn->query("DELETE FROM replicas WHERE lease_until_ms < $1 AND owner <> $2",
                           {now_ms, options_.owner});
      return d.ok() ? ok_status() : d.status();
    });
    if (!st.ok()) return st;
    return marked;
  }

  Result<int64_t> delete_before(int64_t before_ms) override {
    TRINITY_ASSIGN_OR_RETURN(auto conn, pool_.acquire());
    int64_t deleted = 0;
    Status st = in_transaction(*conn, [&]() -> Status {
      const char* kOld = "SELECT id FROM runs WHERE created_ms < $1 AND status <> 'running'";
      for (const char* table : {"run_events", "run_turns"}) {
        auto d = conn->query(
            std::string("DELETE FROM ") + table + " WHERE run_id IN (" + kOld + ")", {before_ms});
        if (!d.ok()) return d.status();
      }
      auto d = conn->query("DELETE FROM runs WHERE created_ms < $1 AND status <> 'running'",
                           {before_ms});
      if (!d.ok()) return d.status();
      deleted = conn->changes();
      return ok_status();
    });
    if (!st.ok()) return st;
    return deleted;
  }

  Status release_lease() override {
    TRINITY_ASSIGN_OR_RETURN(auto conn, pool_.acquire());
    auto r = conn->query("DELETE FROM replicas WHERE owner = $1", {options_.owner});
    return r.ok() ? ok_status() : r.status();
  }

 private:
  Status upsert_lease(SqlConnection& conn, int64_t now_ms, bool starting) {
    auto r = conn.query(
        starting ? "INSERT INTO replicas (owner, started_ms, lease_until_ms) VALUES ($1, $2, $3) "
                   "ON CONFLICT (owner) DO UPDATE SET started_ms = $2, lease_until_ms = $3"
                 : "INSERT INTO replicas (owner, started_ms, lease_until_ms) VALUES ($1, $2, $3) "
                   "ON CONFLICT (owner) DO UPDATE SET lease_until_ms = $3",
        {options_.owner, now_ms, now_ms + options_.lease_ms});
    return r.ok() ? ok_status() : r.status().with_context("lease of " + options_.owner);
  }

  static Result<std::vector<OrderedJson>> events_on(SqlConnection& conn, const std::string& id) {
    TRINITY_ASSIGN_OR_RETURN(
        auto rows, conn.query("SELECT event FROM run_events WHERE run_id = $1 ORDER BY seq", {id}));
    std::vector<OrderedJson> events;
    events.reserve(rows.size());
    for (const SqlRow& r : rows) {
      TRINITY_ASSIGN_OR_RETURN(OrderedJson ev,
                               parse_ordered_json(r[0].value_or("null"), "run " + id + " event"));
      events.push_back(std::move(ev));
    }
    return events;
  }

  std::string spec_;
  StoreOptions options_;
  SqlPool pool_;
};

}  // namespace

Result<std::unique_ptr<RunStore>> open_run_store(const std::string& spec,
                                                 const StoreOptions& options) {
  if (options.owner.empty()) return invalid_argument("run store: an owner id is required");
  SqlPool::Opener open;
  StoreOptions store_options = options;
  if (spec.rfind("sqlite:", 0) == 0) {
    const std::string path = spec.substr(7);
    if (path.empty()) return invalid_argument("--store sqlite:PATH: the path is empty");
    open = [path] { return open_sqlite(path); };
    // One connection: in-process writers queue on the pool instead of sleeping in SQLite's
    // busy handler (the file lock still serializes other processes, with a busy timeout).
    store_options.max_connections = 1;
  } else if (spec.rfind("postgres://", 0) == 0 || spec.rfind("postgresql://", 0) == 0) {
    open = [spec] { return open_postgres(spec); };
  } else {
    return invalid_argument("--store '" + redact_uri(spec) +
                            "': expected sqlite:PATH or postgres://... (or none)");
  }
  auto store = std::make_unique<SqlRunStore>(redact_uri(spec), store_options, std::move(open));
  TRINITY_RETURN_IF_ERROR(store->open(unix_now_ms()));
  return std::unique_ptr<RunStore>(std::move(store));
}

std::string default_store_spec() {
  const char* xdg = std::getenv("XDG_DATA_HOME");
  if (xdg && *xdg == '/') return std::string("sqlite:") + xdg + "/trinity/runs.db";
  const char* home = std::getenv("HOME");
  if (home && *home) return std::string("sqlite:") + home + "/.local/share/trinity/runs.db";
  return "";
}

std::string default_owner_id(int port) {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0 || !host[0])
    std::snprintf(host, sizeof(host), "localhost");
  return std::string(host) + ":" + std::to_string(port);
}

}  // namespace trinity::store
