// SqlConnection on SQLite (libsqlite3): one database file, WAL journal so that readers never
// block the writer, and a busy timeout so that concurrent writers (threads or processes) wait
// for each other instead of failing.
#include <sqlite3.h>

#include <string>
#include <unordered_map>

#include "core/file_util.h"
#include "store/sql.h"

namespace trinity::store {
namespace {

class SqliteConnection final : public SqlConnection {
 public:
  SqliteConnection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  ~SqliteConnection() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  Status exec(const std::string& sql) override {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      Status st = error(err ? err : sqlite3_errmsg(db_));
      sqlite3_free(err);
      return st;
    }
    return ok_status();
  }

  Result<std::vector<SqlRow>> query(const std::string& sql,
                                    const std::vector<SqlParam>& params) override {
    TRINITY_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, prepared(sql));
    StmtReset guard{stmt};
    TRINITY_RETURN_IF_ERROR(bind(stmt, params));
    std::vector<SqlRow> rows;
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return error(sqlite3_errmsg(db_));
      SqlRow row(static_cast<size_t>(sqlite3_column_count(stmt)));
      for (int i = 0; i < static_cast<int>(row.size()); ++i) {
        if (sqlite3_column_type(stmt, i) == SQLITE_NULL) continue;
        const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, i));
        const int n = sqlite3_column_bytes(stmt, i);
        row[static_cast<size_t>(i)] = p ? std::string(p, static_cast<size_t>(n)) : std::string();
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  int64_t changes() const override { return sqlite3_changes64(db_); }
  Status begin_write() override { return exec("BEGIN IMMEDIATE"); }
  bool healthy() const override { return true; }
  SqlDialect dialect() const override { return SqlDialect::kSqlite; }

 private:
  // Statements are prepared once per connection and kept (the run store repeats a handful).
  static constexpr size_t kMaxCached = 256;
  struct StmtReset {
    sqlite3_stmt* stmt;
    ~StmtReset() {
      sqlite3_reset(stmt);
      sqlite3_clear_bindings(stmt);
    }
  };
  Result<sqlite3_stmt*> prepared(const std::string& sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) return it->second;
    if (cache_.size() >= kMaxCached) {
      for (auto& [text, stmt] : cache_) sqlite3_finalize(stmt);
      cache_.clear();
    }
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                           SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK)
      return error(sqlite3_errmsg(db_));
    cache_.emplace(sql, stmt);
    return stmt;
  }
  std::unordered_map<std::string, sqlite3_stmt*> cache_;

  // Binds $1..$N by name: SQLite numbers named parameters by first appearance, so the names
  // are looked up rather than assumed to be in order.
  Status bind(sqlite3_stmt* stmt, const std::vector<SqlParam>& params) {
    for (size_t i = 0; i < params.size(); ++i) {
      const std::string name = sql_param(i + 1);
      const int index = sqlite3_bind_parameter_index(stmt, name.c_str());
      if (index == 0) continue;  // not used by this statement
      int rc = SQLITE_OK;
      if (const auto* s = std::get_if<std::string>(&params[i]))
        rc = sqlite3_bind_text64(stmt, index, s->data(), s->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      else if (const auto* v = std::get_if<int64_t>(&params[i]))
        rc = sqlite3_bind_int64(stmt, index, *v);
      else
        rc = sqlite3_bind_null(stmt, index);
      if (rc != SQLITE_OK) return error(sqlite3_errmsg(db_));
    }
    return ok_status();
  }

  Status error(const std::string& what) const {
    return io_error("run store sqlite:" + path_ + ": " + what);
  }

  sqlite3* db_;
  std::string path_;
};

}  // namespace

Result<std::unique_ptr<SqlConnection>> open_sqlite(const std::string& path) {
  if (path.empty()) return invalid_argument("--store sqlite: needs a path (sqlite:PATH)");
  const size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    Status st = make_dirs(path.substr(0, slash));
    if (!st.ok()) return st.with_context("run store sqlite:" + path);
  }
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return io_error("run store sqlite:" + path + ": cannot open: " + msg);
  }
  sqlite3_busy_timeout(db, 10000);
  auto conn = std::make_unique<SqliteConnection>(db, path);
  Status st =
      conn->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
  if (!st.ok()) return st;
  return std::unique_ptr<SqlConnection>(std::move(conn));
}

}  // namespace trinity::store
