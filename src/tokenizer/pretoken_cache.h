// Thread-safe bounded cache: pre-token bytes -> token ids.
//
// Sharded by hash (one mutex per shard); each shard is a fixed array of 64-byte slots with
// the key and ids stored inline, probed linearly over a short window. When the window is
// full the home slot is overwritten, so memory is fixed at construction (kShards *
// slots_per_shard * 64 bytes) and a hit never allocates. Pre-tokens longer than kMaxKeyBytes
// or with more than kMaxIds ids are not cached.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

namespace trinity::tok {

class PretokenCache {
 public:
  static constexpr size_t kShards = 64;
  static constexpr size_t kMaxKeyBytes = 24;
  static constexpr size_t kMaxIds = 7;
  static constexpr size_t kProbe = 8;

  // Total slots, rounded up to a power of two per shard.
  explicit PretokenCache(size_t slots = size_t{1} << 17);

  static uint64_t hash(std::string_view key);
  static bool cacheable(std::string_view key) { return key.size() <= kMaxKeyBytes; }
  // Appends the cached ids to *out and returns true on a hit.
  bool lookup(std::string_view key, uint64_t hash, std::vector<int32_t>* out) const;
  void insert(std::string_view key, uint64_t hash, const int32_t* ids, size_t n) const;
  size_t size() const;  // occupied slots (for tests)

 private:
  // Keys are stored zero-padded to kMaxKeyBytes and compared as three 64-bit words.
  struct alignas(64) Slot {
    uint64_t hash;
    uint64_t key[kMaxKeyBytes / 8];
    int32_t ids[kMaxIds];
    uint8_t key_len;
    uint8_t n_ids;  // 0 = empty slot
  };
  struct PaddedKey {
    uint64_t w[kMaxKeyBytes / 8];
  };
  static PaddedKey pad(std::string_view key);
  static bool same_key(const Slot& s, uint64_t h, const PaddedKey& k, size_t len) {
    return s.hash == h && s.key_len == len && s.key[0] == k.w[0] && s.key[1] == k.w[1] &&
           s.key[2] == k.w[2];
  }
  static_assert(sizeof(Slot) == 64);
  struct Shard {
    std::mutex mu;
    Slot* slots = nullptr;
  };
  // All shards' slots: one anonymous mapping, zero pages until touched (a start pays nothing
  // for the slots it never uses).
  struct Region {
    void* base = nullptr;
    size_t bytes = 0;
    Region() = default;
    Region(const Region&) = delete;
    Region& operator=(const Region&) = delete;
    ~Region();
  };
  Region region_;
  size_t mask_;  // slots per shard - 1
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace trinity::tok
