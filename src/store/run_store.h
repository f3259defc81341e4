// The run store: every coordinator run `trinity serve` answers, persisted (docs/server.md,
// "Run store").
//
//   --store sqlite:PATH        embedded (default: $XDG_DATA_HOME/trinity/runs.db)
//   --store postgres://...     shared by several replicas (also postgresql://)
//
// Life of a run: begin_run() inserts it as `running` (one statement); finish_run() writes the
// final row, its turns and its trace events in one transaction. A process killed in between
// leaves the run `running`; the same replica's next start marks it `interrupted`, and so does
// any replica once the owner's lease has expired (a replica renews its lease while it runs, so
// a live replica's runs are never touched).
//
// Schema (versioned migrations in store/migrations.cpp, applied at open, safe to run from
// several replicas at once): runs, run_turns, run_events, replicas, schema_migrations.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"

namespace trinity::store {

// Run status: running | accepted | unverified | failed | interrupted.
bool is_run_status(const std::string& s);
bool is_finished_status(const std::string& s);  // every status but running

struct TurnRow {
  int turn = 0;
  int agent_id = 0;
  std::string role, routed_role;
  std::optional<double> agent_margin, role_margin;
  std::string provider, model;
  std::string status;  // ok | error | cancelled
  int64_t latency_ms = 0;
  int64_t input_tokens = 0, output_tokens = 0;
  int64_t cost_micro_usd = 0;
  std::string verdict;  // Verifier turns: accept | revise | unknown
};

struct RunRecord {
  std::string id;
  std::string status = "running";
  std::string owner;     // the replica that ran it
  std::string endpoint;  // chat.completions | responses
  std::string pool, profile;
  std::string content_mode;  // hash | full: how request, answer and events hold content
  int64_t created_ms = 0;
  std::optional<int64_t> finished_ms;
  OrderedJson request;                // messages (content per content_mode) and options
  std::optional<std::string> answer;  // per content_mode
  // The answer's tool calls ([{id, type, function: {name, arguments}}], arguments per
  // content_mode); null when it made none.
  OrderedJson answer_tool_calls;
  std::string failure_reason;  // failed runs: the coordinator's reason
  std::string error;           // failed runs: the client-facing message
  int64_t input_tokens = 0, output_tokens = 0;
  int64_t cost_micro_usd = 0;
  int64_t elapsed_ms = 0;
  int turns_count = 0;
  std::vector<TurnRow> turns;
  std::vector<OrderedJson> events;  // trace events (schema of docs/trace-schema.md)

  // The run object of GET /v1/runs/{id} (with_detail: turns and events too).
  OrderedJson to_json(bool with_detail) const;
};

struct RunQuery {
  std::optional<std::string> status;
  std::optional<int64_t> since_ms;  // created at or after
  int limit = 20;
  std::optional<std::string> cursor;  // from a previous page's next_cursor
};

struct RunPage {
  std::vector<RunRecord> runs;  // newest first, without turns and events
  std::optional<std::string> next_cursor;
};

// Keyset cursors: "<created_ms>.<id>", the last row of a page (opaque to clients).
std::string encode_cursor(int64_t created_ms, const std::string& id);
Status decode_cursor(const std::string& cursor, int64_t* created_ms, std::string* id);

// A `since` bound: Unix seconds, or an RFC 3339 UTC time ("2026-12-04T10:00:00Z", a fraction
// allowed) -> Unix milliseconds.
Result<int64_t> parse_since_ms(const std::string& v);

struct StoreOptions {
  std::string owner;           // this replica's id (see default_owner_id)
  int64_t lease_ms = 30000;    // a replica that has not renewed for this long is dead
  int max_connections = 8;     // pooled connections (PostgreSQL; SQLite files too)
  bool register_lease = true;  // false for readers (trinity runs ...)
};

class RunStore {
 public:
  virtual ~RunStore() = default;
  virtual const std::string& spec() const = 0;  // as given, password redacted
  virtual const std::string& owner() const = 0;

  // Inserts a `running` run (id, owner, endpoint, pool, profile, content_mode, created_ms,
  // request).
  virtual Status begin_run(const RunRecord& run) = 0;
  // Writes the finished run, its turns and events in one transaction.
  virtual Status finish_run(const RunRecord& run) = 0;
  virtual Result<std::optional<RunRecord>> get_run(const std::string& id) = 0;
  virtual Result<RunPage> list_runs(const RunQuery& query) = 0;
  // The trace events of a run, in order.
  virtual Result<std::vector<OrderedJson>> run_events(const std::string& id) = 0;

  // Renews this replica's lease (call every lease_ms / 3).
  virtual Status renew_lease(int64_t now_ms) = 0;
  // Marks `interrupted` the runs left `running` by this owner (at start: none of them can be
  // live) and by owners whose lease expired. Returns how many.
  virtual Result<int64_t> recover(int64_t now_ms, bool own_runs) = 0;
  // Deletes finished runs created before `before_ms`. Returns how many.
  virtual Result<int64_t> delete_before(int64_t before_ms) = 0;
  // Removes this replica's lease (clean shutdown).
  virtual Status release_lease() = 0;
};

// Opens `spec` (sqlite:PATH | postgres://... | postgresql://...), applies the migrations and
// registers the lease. Does not recover runs (the caller decides when).
Result<std::unique_ptr<RunStore>> open_run_store(const std::string& spec,
                                                 const StoreOptions& options);

// "sqlite:$XDG_DATA_HOME/trinity/runs.db" (else $HOME/.local/share/...); "" if neither is set.
std::string default_store_spec();
// "<hostname>:<port>": stable across restarts of one replica, distinct between replicas.
std::string default_owner_id(int port);

}  // namespace trinity::store
