// A content-addressed response cache in SQLite: a provider call whose reply is reproducible is
// made once, and every repeated episode that sends the same request gets the stored reply for
// free. The trainer's `--response-cache FILE` opens one (docs/training.md, "Response cache").
//
// Key: the SHA-256 of a canonical JSON (response_cache_request_json) of everything that decides
// the reply: the provider kind, model, base_url, max_tokens, temperature, the names (never the
// values) of the custom headers and the exact messages (role + content, in order). The built-in
// simulated providers (mock, skills) also read the slot, role and turn from the request, so for
// them those are part of the key too; a live model sees only the messages. API keys and header
// values are never part of the key nor stored.
//
// What is cached (ResponseCache::cacheable): only successful replies, and only from a provider
// whose replies are reproducible: the simulated providers (deterministic), and live providers
// with temperature set to 0. A live provider with temperature > 0, or with none set (the
// server's default, 1.0 for OpenAI and Anthropic), samples: its replies are not reproducible
// and are not cached unless ResponseCacheOptions::cache_nonzero_temperature is set. Such calls
// pass through and count as `bypassed`.
// A reply that one of the slot's fallbacks gave (ChatReply::fallback_index > 0, coord/fallback.h)
// is passed through and not stored: it is not the reply of the slot's own model.
//
// Cost: a hit is a ChatReply with cached = true and attempts = 0, carrying the original call's
// token counts; the orchestrator charges 0 for it (nothing was paid).
//
// The file: one table `responses` (key, provider, model, text, input_tokens, output_tokens,
// created_ms) in WAL mode (the -wal and -shm files live next to it), schema version in
// PRAGMA user_version. Thread-safe: one connection guarded by a mutex; other processes may
// share the file (busy timeout). Lookup and store failures are errors naming the file: a
// broken cache fails the call rather than silently paying for it again.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "coord/orchestrator.h"
#include "coord/provider.h"
#include "core/json.h"
#include "core/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace trinity::train {

struct ResponseCacheOptions {
  // Also cache live providers whose temperature is > 0 or unset (their replies are samples).
  bool cache_nonzero_temperature = false;
  int busy_timeout_ms = 5000;  // how long a write waits for another process's lock
};

struct ResponseCacheStats {
  int64_t hits = 0;
  int64_t misses = 0;
  int64_t stores = 0;       // replies written (a concurrent duplicate is written once)
  int64_t bypassed = 0;     // calls not eligible for caching (temperature), passed through
  double hit_rate() const;  // hits / (hits + misses); 0 before any lookup
  OrderedJson to_json() const;
};

// The canonical request text the key hashes, and the key (64 lowercase hex digits).
std::string response_cache_request_json(const coord::ProviderSpec& spec,
                                        const coord::ChatRequest& request);
std::string response_cache_key(const coord::ProviderSpec& spec, const coord::ChatRequest& request);

class ResponseCache {
 public:
  // Opens `path`, creating the file and the schema when missing. Errors name the file: kIo (it
  // cannot be opened or written), kParse (not a SQLite database, or corrupt), kUnsupported (a
  // newer schema version).
  static Result<std::shared_ptr<ResponseCache>> open(const std::string& path,
                                                     ResponseCacheOptions options = {});
  ~ResponseCache();
  ResponseCache(const ResponseCache&) = delete;
  ResponseCache& operator=(const ResponseCache&) = delete;

  // Whether replies of this provider are reproducible enough to cache (see the top).
  bool cacheable(const coord::ProviderSpec& spec) const;
  // The stored reply (cached = true, attempts = 0) or nullopt; counts a hit or a miss.
  Result<std::optional<coord::ChatReply>> lookup(const std::string& key);
  // Stores a successful reply under `key`; an existing entry is kept. Counts a store if written.
  Status store(const std::string& key, const coord::ProviderSpec& spec,
               const coord::ChatReply& reply);
  void count_bypass() { bypassed_.fetch_add(1, std::memory_order_relaxed); }

  Result<int64_t> entry_count();
  ResponseCacheStats stats() const;
  const std::string& path() const { return path_; }

 private:
  ResponseCache(std::string path, ResponseCacheOptions options);
  Status init();
  Status ensure_schema();
  Result<std::string> query_text(const char* sql, const char* what);
  Status prepare(const char* sql, sqlite3_stmt** stmt, const char* what);
  Status sql_error(const std::string& what, int rc) const;

  std::string path_;
  ResponseCacheOptions options_;
  std::mutex mu_;  // guards the connection and its statements
  sqlite3* db_ = nullptr;
  sqlite3_stmt* select_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  std::atomic<int64_t> hits_{0}, misses_{0}, stores_{0}, bypassed_{0};
};

// A Provider that answers from the cache when it can and otherwise asks `inner`, storing its
// successful replies. Its spec is the inner provider's. Errors are passed through uncached.
class CachingProvider final : public coord::Provider {
 public:
  CachingProvider(std::shared_ptr<coord::Provider> inner, std::shared_ptr<ResponseCache> cache);
  Result<coord::ChatReply> chat(const coord::ChatRequest& request,
                                const coord::CallContext& ctx) override;

 private:
  std::shared_ptr<coord::Provider> inner_;
  std::shared_ptr<ResponseCache> cache_;
};

// The pool with every provider wrapped in a CachingProvider over `cache` (config, prompts and
// secrets unchanged): `pool = with_response_cache(pool, cache)`.
std::shared_ptr<const coord::AgentPool> with_response_cache(
    const std::shared_ptr<const coord::AgentPool>& pool, std::shared_ptr<ResponseCache> cache);

}  // namespace trinity::train
