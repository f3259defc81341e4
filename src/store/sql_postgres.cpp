// SqlConnection on PostgreSQL (libpq), plus the pieces shared by both backends: the pool, the
// transaction helper and URI redaction.
#include <libpq-fe.h>

#include <string>

#include "store/sql.h"

namespace trinity::store {
namespace {

class PostgresConnection final : public SqlConnection {
 public:
  PostgresConnection(PGconn* conn, std::string where) : conn_(conn), where_(std::move(where)) {}
  ~PostgresConnection() override { PQfinish(conn_); }

  Status exec(const std::string& sql) override {
    PGresult* res = PQexec(conn_, sql.c_str());
    Status st = check(res);
    PQclear(res);
    return st;
  }

  Result<std::vector<SqlRow>> query(const std::string& sql,
                                    const std::vector<SqlParam>& params) override {
    std::vector<std::string> text(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (size_t i = 0; i < params.size(); ++i) {
      if (const auto* s = std::get_if<std::string>(&params[i])) {
        values[i] = s->c_str();
      } else if (const auto* v = std::get_if<int64_t>(&params[i])) {
        text[i] = std::to_string(*v);
        values[i] = text[i].c_str();
      }
    }
    PGresult* res = PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                                 values.data(), nullptr, nullptr, 0);
    Status st = check(res);
    if (!st.ok()) {
      PQclear(res);
      return st;
    }
    const char* tuples = PQcmdTuples(res);
    changes_ = tuples && *tuples ? std::stoll(tuples) : 0;
    std::vector<SqlRow> rows(static_cast<size_t>(PQntuples(res)));
    const int cols = PQnfields(res);
    for (int r = 0; r < static_cast<int>(rows.size()); ++r) {
      rows[static_cast<size_t>(r)].resize(static_cast<size_t>(cols));
      for (int c = 0; c < cols; ++c) {
        if (PQgetisnull(res, r, c)) continue;
        rows[static_cast<size_t>(r)][static_cast<size_t>(c)] =
            std::string(PQgetvalue(res, r, c), static_cast<size_t>(PQgetlength(res, r, c)));
      }
    }
    PQclear(res);
    return rows;
  }

  int64_t changes() const override { return changes_; }
  Status begin_write() override { return exec("BEGIN"); }
  bool healthy() const override { return PQstatus(conn_) == CONNECTION_OK; }
  SqlDialect dialect() const override { return SqlDialect::kPostgres; }

 private:
  Status check(PGresult* res) const {
    const ExecStatusType s = PQresultStatus(res);
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) return ok_status();
    std::string msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return io_error("run store " + where_ + ": " + msg);
  }

  PGconn* conn_;
  std::string where_;
  int64_t changes_ = 0;
};

}  // namespace

std::string redact_uri(const std::string& uri) {
  const size_t scheme = uri.find("://");
  if (scheme == std::string::npos) return uri;
  const size_t at = uri.find('@', scheme + 3);
  if (at == std::string::npos) return uri;
  const size_t colon = uri.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return uri;
  return uri.substr(0, colon + 1) + "***" + uri.substr(at);
}

Result<std::unique_ptr<SqlConnection>> open_postgres(const std::string& uri) {
  const std::string where = redact_uri(uri);
  PGconn* conn = PQconnectdb(uri.c_str());
  if (!conn) return io_error("run store " + where + ": out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn);
    PQfinish(conn);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return io_error("run store " + where + ": cannot connect: " + msg);
  }
  auto c = std::make_unique<PostgresConnection>(conn, where);
  // Notices (e.g. "relation already exists, skipping") would go to stderr otherwise.
  TRINITY_RETURN_IF_ERROR(c->exec("SET client_min_messages = warning"));
  return std::unique_ptr<SqlConnection>(std::move(c));
}

SqlPool::SqlPool(Opener open, int max) : open_(std::move(open)), max_(max < 1 ? 1 : max) {}

SqlPool::Lease::~Lease() {
  if (pool_ && conn_) pool_->release(std::move(conn_));
}

Result<SqlPool::Lease> SqlPool::acquire() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || open_count_ < max_; });
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
    ++open_count_;
  }
  auto conn = open_();
  if (!conn.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    --open_count_;
    cv_.notify_one();
    return conn.status();
  }
  return Lease(this, std::move(conn).value());
}

void SqlPool::release(std::unique_ptr<SqlConnection> conn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (conn->healthy())
    idle_.push_back(std::move(conn));
  else
    --open_count_;
  cv_.notify_one();
}

std::string sql_param(size_t n) {
  std::string s = "$";
  s += std::to_string(n);
  return s;
}

Status in_transaction(SqlConnection& conn, const std::function<Status()>& body) {
  TRINITY_RETURN_IF_ERROR(conn.begin_write());
  Status st = body();
  if (st.ok()) st = conn.exec("COMMIT");
  if (!st.ok()) (void)conn.exec("ROLLBACK");
  return st;
}

}  // namespace trinity::store
