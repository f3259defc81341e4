#include "train/response_cache.h"

#include <sqlite3.h>

#include <chrono>
#include <cstdlib>
#include <utility>

#include "core/sha256.h"

namespace trinity::train {

namespace {

constexpr int kSchemaVersion = 1;

constexpr const char* kCreateSchema =
    "BEGIN IMMEDIATE;"
    "CREATE TABLE IF NOT EXISTS responses ("
    "  key TEXT PRIMARY KEY,"
    "  provider TEXT NOT NULL,"
    "  model TEXT NOT NULL,"
    "  text TEXT NOT NULL,"
    "  input_tokens INTEGER NOT NULL,"
    "  output_tokens INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "PRAGMA user_version = 1;"
    "COMMIT;";

constexpr const char* kSelect =
    "SELECT text, input_tokens, output_tokens FROM responses WHERE key = ?1";
constexpr const char* kInsert =
    "INSERT OR IGNORE INTO responses "
    "(key, provider, model, text, input_tokens, output_tokens, created_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

// Resets a statement (and its bindings) when a lookup or store is done with it.
class StatementReset {
 public:
  explicit StatementReset(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~StatementReset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  StatementReset(const StatementReset&) = delete;
  StatementReset& operator=(const StatementReset&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

int bind_text(sqlite3_stmt* stmt, int index, const std::string& s) {
  return sqlite3_bind_text64(stmt, index, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

std::string column_text(sqlite3_stmt* stmt, int index) {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, index));
  const int n = sqlite3_column_bytes(stmt, index);
  return p ? std::string(p, static_cast<size_t>(n)) : std::string();
}

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

double ResponseCacheStats::hit_rate() const {
  const int64_t lookups = hits + misses;
  return lookups > 0 ? static_cast<double>(hits) / static_cast<double>(lookups) : 0.0;
}

OrderedJson ResponseCacheStats::to_json() const {
  return OrderedJson{{"hits", hits},
                     {"misses", misses},
                     {"stores", stores},
                     {"bypassed", bypassed},
                     {"hit_rate", hit_rate()}};
}

// What is sent over the wire, as the providers encode it (invalid UTF-8 replaced), plus the
// request fields the simulated providers read.
std::string response_cache_request_json(const coord::ProviderSpec& spec,
                                        const coord::ChatRequest& request) {
  OrderedJson header_names = OrderedJson::array();
  for (const auto& [name, value] : spec.headers) header_names.push_back(name);  // sorted map
  OrderedJson messages = OrderedJson::array();
  for (const auto& m : request.messages)
    messages.push_back(OrderedJson{{"role", m.role}, {"content", m.content}});
  OrderedJson j{{"cache_schema", kSchemaVersion},
                {"provider", spec.provider},
                {"model", spec.model},
                {"base_url", spec.base_url},
                {"max_tokens", spec.max_tokens},
                {"temperature", opt_json(spec.temperature)},
                {"header_names", std::move(header_names)}};
  if (!spec.is_live()) {
    j["agent_id"] = request.agent_id;
    j["role_id"] = request.role_id;
    j["turn"] = request.turn;
  }
  j["messages"] = std::move(messages);
  return j.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
}

std::string response_cache_key(const coord::ProviderSpec& spec, const coord::ChatRequest& request) {
  return sha256_hex(response_cache_request_json(spec, request));
}

ResponseCache::ResponseCache(std::string path, ResponseCacheOptions options)
    : path_(std::move(path)), options_(options) {}

ResponseCache::~ResponseCache() {
  sqlite3_finalize(select_);
  sqlite3_finalize(insert_);
  sqlite3_close_v2(db_);
}

Result<std::shared_ptr<ResponseCache>> ResponseCache::open(const std::string& path,
                                                           ResponseCacheOptions options) {
  std::shared_ptr<ResponseCache> cache(new ResponseCache(path, options));
  TRINITY_RETURN_IF_ERROR(cache->init());
  return cache;
}

Status ResponseCache::sql_error(const std::string& what, int rc) const {
  const std::string detail = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  const std::string msg = "response cache " + path_ + ": " + what + ": " + detail;
  const int primary = rc & 0xff;
  if (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT)
    return parse_error(msg + " (not a SQLite database, or corrupt)");
  return io_error(msg);
}

Status ResponseCache::prepare(const char* sql, sqlite3_stmt** stmt, const char* what) {
  const int rc = sqlite3_prepare_v2(db_, sql, -1, stmt, nullptr);
  return rc == SQLITE_OK ? ok_status() : sql_error(what, rc);
}

// The first column of the first row of `sql`, as text.
Result<std::string> ResponseCache::query_text(const char* sql, const char* what) {
  sqlite3_stmt* stmt = nullptr;
  TRINITY_RETURN_IF_ERROR(prepare(sql, &stmt, what));
  const int rc = sqlite3_step(stmt);
  std::string text = rc == SQLITE_ROW ? column_text(stmt, 0) : "";
  sqlite3_finalize(stmt);
  if (rc != SQLITE_ROW) return sql_error(what, rc);
  return text;
}

// Connection, WAL, schema, statements.
Status ResponseCache::init() {
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) return sql_error("cannot open", rc);
  sqlite3_busy_timeout(db_, options_.busy_timeout_ms);
  TRINITY_ASSIGN_OR_RETURN(const std::string mode,
                           query_text("PRAGMA journal_mode = WAL", "setting WAL mode"));
  if (mode != "wal")
    return io_error("response cache " + path_ + ": WAL mode unavailable (journal mode '" + mode +
                    "')");
  rc = sqlite3_exec(db_, "PRAGMA synchronous = NORMAL", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return sql_error("setting synchronous", rc);
  TRINITY_RETURN_IF_ERROR(ensure_schema());
  TRINITY_RETURN_IF_ERROR(prepare(kSelect, &select_, "preparing the lookup"));
  return prepare(kInsert, &insert_, "preparing the store");
}

// Creates the table in a new file; refuses a newer schema.
Status ResponseCache::ensure_schema() {
  TRINITY_ASSIGN_OR_RETURN(const std::string text,
                           query_text("PRAGMA user_version", "reading the schema version"));
  const long version = std::strtol(text.c_str(), nullptr, 10);
  if (version > kSchemaVersion)
    return unsupported("response cache " + path_ + ": schema version " + text +
                       " is newer than this build's " + std::to_string(kSchemaVersion));
  if (version == kSchemaVersion) return ok_status();
  const int rc = sqlite3_exec(db_, kCreateSchema, nullptr, nullptr, nullptr);
  if (rc == SQLITE_OK) return ok_status();
  const Status st = sql_error("creating the schema", rc);
  sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  return st;
}

bool ResponseCache::cacheable(const coord::ProviderSpec& spec) const {
  if (!spec.is_live() || options_.cache_nonzero_temperature) return true;
  return spec.temperature.has_value() && *spec.temperature <= 0.0;
}

Result<std::optional<coord::ChatReply>> ResponseCache::lookup(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  StatementReset reset(select_);
  int rc = bind_text(select_, 1, key);
  if (rc != SQLITE_OK) return sql_error("lookup", rc);
  rc = sqlite3_step(select_);
  if (rc == SQLITE_DONE) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::optional<coord::ChatReply>();
  }
  if (rc != SQLITE_ROW) return sql_error("lookup", rc);
  coord::ChatReply reply;
  reply.text = column_text(select_, 0);
  reply.input_tokens = sqlite3_column_int64(select_, 1);
  reply.output_tokens = sqlite3_column_int64(select_, 2);
  reply.attempts = 0;
  reply.http_status = 0;
  reply.cached = true;
  hits_.fetch_add(1, std::memory_order_relaxed);
  return std::optional<coord::ChatReply>(std::move(reply));
}

Status ResponseCache::store(const std::string& key, const coord::ProviderSpec& spec,
                            const coord::ChatReply& reply) {
  std::lock_guard<std::mutex> lock(mu_);
  StatementReset reset(insert_);
  int rc = bind_text(insert_, 1, key);
  if (rc == SQLITE_OK) rc = bind_text(insert_, 2, spec.provider);
  if (rc == SQLITE_OK) rc = bind_text(insert_, 3, spec.model);
  if (rc == SQLITE_OK) rc = bind_text(insert_, 4, reply.text);
  if (rc == SQLITE_OK) rc = sqlite3_bind_int64(insert_, 5, reply.input_tokens);
  if (rc == SQLITE_OK) rc = sqlite3_bind_int64(insert_, 6, reply.output_tokens);
  if (rc == SQLITE_OK) rc = sqlite3_bind_int64(insert_, 7, wall_ms());
  if (rc != SQLITE_OK) return sql_error("store", rc);
  rc = sqlite3_step(insert_);
  if (rc != SQLITE_DONE) return sql_error("store", rc);
  if (sqlite3_changes(db_) > 0) stores_.fetch_add(1, std::memory_order_relaxed);
  return ok_status();
}

Result<int64_t> ResponseCache::entry_count() {
  std::lock_guard<std::mutex> lock(mu_);
  TRINITY_ASSIGN_OR_RETURN(const std::string n,
                           query_text("SELECT COUNT(*) FROM responses", "counting entries"));
  return static_cast<int64_t>(std::strtoll(n.c_str(), nullptr, 10));
}

ResponseCacheStats ResponseCache::stats() const {
  ResponseCacheStats s;
  s.hits = hits_.load(std::memory_order_relaxed);
  s.misses = misses_.load(std::memory_order_relaxed);
  s.stores = stores_.load(std::memory_order_relaxed);
  s.bypassed = bypassed_.load(std::memory_order_relaxed);
  return s;
}

CachingProvider::CachingProvider(std::shared_ptr<coord::Provider> inner,
                                 std::shared_ptr<ResponseCache> cache)
    : coord::Provider(inner->spec()), inner_(std::move(inner)), cache_(std::move(cache)) {}

Result<coord::ChatReply> CachingProvider::chat(const coord::ChatRequest& request,
                                               const coord::CallContext& ctx) {
  if (!cache_->cacheable(spec_)) {
    cache_->count_bypass();
    return inner_->chat(request, ctx);
  }
  if (ctx.cancel && ctx.cancel->load()) return Status(ErrorCode::kCancelled, "run cancelled");
  const std::string key = response_cache_key(spec_, request);
  TRINITY_ASSIGN_OR_RETURN(std::optional<coord::ChatReply> hit, cache_->lookup(key));
  if (hit) return std::move(*hit);
  auto reply = inner_->chat(request, ctx);
  if (!reply.ok()) return reply;                // errors are never cached
  if (reply->fallback_index > 0) return reply;  // a fallback's reply is not the slot's to keep
  TRINITY_RETURN_IF_ERROR(cache_->store(key, spec_, *reply));
  return reply;
}

std::shared_ptr<const coord::AgentPool> with_response_cache(
    const std::shared_ptr<const coord::AgentPool>& pool, std::shared_ptr<ResponseCache> cache) {
  auto wrapped = std::make_shared<coord::AgentPool>(*pool);
  for (auto& provider : wrapped->providers)
    provider = std::make_shared<CachingProvider>(provider, cache);
  return wrapped;
}

}  // namespace trinity::train
