// A small SQL connection interface with two backends: SQLite (embedded, libsqlite3) and
// PostgreSQL (libpq). Statements are written once, in the common subset of both dialects, with
// numbered parameters $1..$N (SQLite binds them by name; PostgreSQL natively). Values travel as
// text or 64-bit integers; NULL is an empty optional.
//
// A connection is used by one thread at a time (SqlPool hands them out).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/status.h"

namespace trinity::store {

// A statement parameter: NULL, text or an integer.
using SqlParam = std::variant<std::monostate, std::string, int64_t>;
using SqlRow = std::vector<std::optional<std::string>>;  // column values as text (NULL: empty)

enum class SqlDialect { kSqlite, kPostgres };

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  // One or more statements without parameters (DDL, BEGIN/COMMIT).
  virtual Status exec(const std::string& sql) = 0;
  // One statement with parameters $1..$N; the rows it returns (none for writes).
  virtual Result<std::vector<SqlRow>> query(const std::string& sql,
                                            const std::vector<SqlParam>& params) = 0;
  // Rows changed by the last write statement.
  virtual int64_t changes() const = 0;
  // Opens a write transaction (SQLite: BEGIN IMMEDIATE, so that two writers never deadlock on
  // a lock upgrade; PostgreSQL: BEGIN).
  virtual Status begin_write() = 0;
  // False once the connection is known broken (it is then dropped by the pool).
  virtual bool healthy() const = 0;
  virtual SqlDialect dialect() const = 0;
};

// SQLite file at `path` (created with its parent directory; WAL journal, synchronous NORMAL,
// busy timeout 10 s).
Result<std::unique_ptr<SqlConnection>> open_sqlite(const std::string& path);
// PostgreSQL connection URI (postgres://user@host:port/db?...). Errors never echo a password.
Result<std::unique_ptr<SqlConnection>> open_postgres(const std::string& uri);

// A bounded pool of connections opened on demand by `open`. acquire() blocks while all `max`
// are in use; a connection that is no longer healthy() is closed when released.
class SqlPool {
 public:
  using Opener = std::function<Result<std::unique_ptr<SqlConnection>>()>;
  SqlPool(Opener open, int max);

  class Lease {
   public:
    Lease(SqlPool* pool, std::unique_ptr<SqlConnection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    ~Lease();
    SqlConnection* operator->() const { return conn_.get(); }
    SqlConnection& operator*() const { return *conn_; }

   private:
    SqlPool* pool_;
    std::unique_ptr<SqlConnection> conn_;
  };
  Result<Lease> acquire();

 private:
  void release(std::unique_ptr<SqlConnection> conn);
  Opener open_;
  int max_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<SqlConnection>> idle_;
  int open_count_ = 0;
};

// "$n", the n-th statement parameter.
std::string sql_param(size_t n);

// Runs `body` in a write transaction on `conn`: COMMIT when it returns OK, ROLLBACK otherwise.
Status in_transaction(SqlConnection& conn, const std::function<Status()>& body);

// "postgres://user:secret@host/db" -> "postgres://user:***@host/db" (for logs and errors).
std::string redact_uri(const std::string& uri);

}  // namespace trinity::store
