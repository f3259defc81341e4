#include "model/prefix_cache.h"

#include <algorithm>

namespace trinity {

namespace {

int64_t common_prefix(std::span<const int32_t> a, const std::vector<int32_t>& b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return static_cast<int64_t>(i);
}

}  // namespace

std::unique_ptr<KvState> PrefixCache::acquire(std::span<const int32_t> ids) {
  auto best = lru_.end();
  int64_t best_common = 0;
  for (auto it = lru_.begin(); it != lru_.end(); ++it) {
    const int64_t c = common_prefix(ids, it->ids);
    if (c > best_common) {
      best_common = c;
      best = it;
    }
  }
  const int64_t reuse = std::min<int64_t>(best_common, static_cast<int64_t>(ids.size()) - 1);
  if (best == lru_.end() || reuse <= 0) {
    ++stats_.misses;
    return nullptr;
  }
  ++stats_.hits;
  stats_.reused_tokens += reuse;
  std::unique_ptr<KvState> state;
  if (best_common == static_cast<int64_t>(best->ids.size())) {
    // The entry is a prefix of ids: take it over (it is re-inserted, longer, after the call).
    state = std::move(best->state);
    stats_.bytes -= static_cast<int64_t>(state->bytes());
    lru_.erase(best);
    state->set_len(reuse);
  } else {
    state = best->state->copy_prefix(reuse);
    lru_.splice(lru_.begin(), lru_, best);
  }
  stats_.entries = static_cast<int64_t>(lru_.size());
  return state;
}

void PrefixCache::insert(std::span<const int32_t> ids, std::unique_ptr<KvState> state) {
  if (!state || stats_.budget_bytes <= 0) return;
  for (auto it = lru_.begin(); it != lru_.end();) {
    if (it->ids.size() <= ids.size() &&
        common_prefix(ids, it->ids) == static_cast<int64_t>(it->ids.size())) {
      stats_.bytes -= static_cast<int64_t>(it->state->bytes());
      it = lru_.erase(it);
    } else {
      ++it;
    }
  }
  const int64_t size = static_cast<int64_t>(state->bytes());
  if (size > stats_.budget_bytes) {
    stats_.entries = static_cast<int64_t>(lru_.size());
    return;
  }
  evict_to(stats_.budget_bytes - size);
  lru_.push_front(Entry{std::vector<int32_t>(ids.begin(), ids.end()), std::move(state)});
  stats_.bytes += size;
  stats_.entries = static_cast<int64_t>(lru_.size());
}

void PrefixCache::evict_to(int64_t budget) {
  while (!lru_.empty() && stats_.bytes > budget) {
    stats_.bytes -= static_cast<int64_t>(lru_.back().state->bytes());
    lru_.pop_back();
    ++stats_.evictions;
  }
}

void PrefixCache::clear() {
  lru_.clear();
  stats_.bytes = 0;
  stats_.entries = 0;
}

}  // namespace trinity
