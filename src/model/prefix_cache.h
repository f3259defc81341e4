// PrefixCache: KV states of earlier calls keyed by their token ids. A new call reuses the entry
// that shares its longest common token prefix and computes only the tokens after it. Entries are
// evicted least-recently-used first to stay within a byte budget. Not thread-safe (the engine
// serializes calls).
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <span>
#include <vector>

#include "model/kv_cache.h"

namespace trinity {

struct PrefixCacheStats {
  int64_t hits = 0;             // lookups that reused at least one cached position
  int64_t misses = 0;           // lookups that reused nothing
  int64_t reused_tokens = 0;    // positions reused in total
  int64_t computed_tokens = 0;  // positions computed in total (hits and misses)
  int64_t evictions = 0;
  int64_t entries = 0;
  int64_t bytes = 0;
  int64_t budget_bytes = 0;
};

class PrefixCache {
 public:
  explicit PrefixCache(int64_t budget_bytes) { stats_.budget_bytes = budget_bytes; }

  // The KV state to continue `ids` from, with state->len() positions already valid (a prefix of
  // ids, always < ids.size() so that at least the last token is computed). When the best entry
  // is itself a prefix of ids (the transcript grew), it is moved out and extended in place;
  // otherwise the common prefix is copied and the entry stays. Returns nullptr on a miss.
  std::unique_ptr<KvState> acquire(std::span<const int32_t> ids);

  // Stores the state of ids (state->len() == ids.size()); replaces entries whose ids are a prefix
  // of these; evicts LRU entries to fit the budget (a state larger than the budget is dropped).
  void insert(std::span<const int32_t> ids, std::unique_ptr<KvState> state);

  // Records how many positions a call computed (for the stats).
  void note_computed(int64_t n) { stats_.computed_tokens += n; }

  void clear();
  PrefixCacheStats stats() const { return stats_; }

 private:
  struct Entry {
    std::vector<int32_t> ids;
    std::unique_ptr<KvState> state;
  };
  void evict_to(int64_t budget);
  std::list<Entry> lru_;  // front = most recently used
  PrefixCacheStats stats_;
};

}  // namespace trinity
