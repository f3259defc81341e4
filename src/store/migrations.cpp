#include "store/migrations.h"

#include "core/time_util.h"

namespace trinity::store {
namespace {

// pg_advisory_xact_lock key: "trinity-runs" as a number, shared by every replica.
constexpr const char* kPgLockKey = "7470838193711";

}  // namespace

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> kMigrations = {
      {1,
       "runs, turns, events, replica leases",
       {"CREATE TABLE runs ("
        "  id TEXT PRIMARY KEY,"
        "  status TEXT NOT NULL,"
        "  owner TEXT NOT NULL,"
        "  endpoint TEXT NOT NULL,"
        "  pool TEXT NOT NULL,"
        "  profile TEXT NOT NULL,"
        "  content_mode TEXT NOT NULL,"
        "  created_ms BIGINT NOT NULL,"
        "  finished_ms BIGINT,"
        "  request TEXT NOT NULL,"
        "  answer TEXT,"
        "  failure_reason TEXT NOT NULL DEFAULT '',"
        "  error TEXT NOT NULL DEFAULT '',"
        "  input_tokens BIGINT NOT NULL DEFAULT 0,"
        "  output_tokens BIGINT NOT NULL DEFAULT 0,"
        "  cost_micro_usd BIGINT NOT NULL DEFAULT 0,"
        "  elapsed_ms BIGINT NOT NULL DEFAULT 0,"
        "  turns INTEGER NOT NULL DEFAULT 0)",
        "CREATE INDEX runs_by_time ON runs (created_ms, id)",
        "CREATE INDEX runs_by_status_time ON runs (status, created_ms, id)",
        "CREATE INDEX runs_by_owner_status ON runs (owner, status)",
        "CREATE TABLE run_turns ("
        "  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
        "  turn INTEGER NOT NULL,"
        "  agent_id INTEGER NOT NULL,"
        "  role TEXT NOT NULL,"
        "  routed_role TEXT NOT NULL,"
        "  agent_margin DOUBLE PRECISION,"
        "  role_margin DOUBLE PRECISION,"
        "  provider TEXT NOT NULL,"
        "  model TEXT NOT NULL,"
        "  status TEXT NOT NULL,"
        "  latency_ms BIGINT NOT NULL,"
        "  input_tokens BIGINT NOT NULL,"
        "  output_tokens BIGINT NOT NULL,"
        "  cost_micro_usd BIGINT NOT NULL,"
        "  verdict TEXT NOT NULL,"
        "  PRIMARY KEY (run_id, turn))",
        "CREATE TABLE run_events ("
        "  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
        "  seq INTEGER NOT NULL,"
        "  event TEXT NOT NULL,"
        "  PRIMARY KEY (run_id, seq))",
        "CREATE TABLE replicas ("
        "  owner TEXT PRIMARY KEY,"
        "  started_ms BIGINT NOT NULL,"
        "  lease_until_ms BIGINT NOT NULL)"}},
      {2,
       "the tool calls of a run's answer",
       {"ALTER TABLE runs ADD COLUMN answer_tool_calls TEXT"}},
  };
  return kMigrations;
}

int latest_schema_version() {
  return migrations().back().version;
}

Status migrate(SqlConnection& conn) {
  return in_transaction(conn, [&]() -> Status {
    if (conn.dialect() == SqlDialect::kPostgres) {
      auto locked = conn.query(std::string("SELECT pg_advisory_xact_lock(") + kPgLockKey + ")", {});
      if (!locked.ok()) return locked.status();
    }
    TRINITY_RETURN_IF_ERROR(
        conn.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                  "  version INTEGER PRIMARY KEY,"
                  "  name TEXT NOT NULL,"
                  "  applied_ms BIGINT NOT NULL)"));
    TRINITY_ASSIGN_OR_RETURN(
        auto rows, conn.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", {}));
    const int current = rows.empty() || !rows[0][0] ? 0 : std::stoi(*rows[0][0]);
    if (current > latest_schema_version())
      return unsupported("the run store's schema is version " + std::to_string(current) +
                         ", newer than this binary's " + std::to_string(latest_schema_version()) +
                         ": upgrade trinity");
    for (const Migration& m : migrations()) {
      if (m.version <= current) continue;
      for (const std::string& sql : m.statements)
        TRINITY_RETURN_IF_ERROR(
            conn.exec(sql).with_context("migration " + std::to_string(m.version)));
      auto ins = conn.query(
          "INSERT INTO schema_migrations (version, name, applied_ms) VALUES ($1, $2, $3)",
          {int64_t{m.version}, m.name, unix_now_ms()});
      if (!ins.ok()) return ins.status();
    }
    return ok_status();
  });
}

}  // namespace trinity::store
