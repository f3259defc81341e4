#include "tokenizer/pretoken_cache.h"

#include <sys/mman.h>

#include "core/status.h"

#include <cstring>

namespace trinity::tok {

PretokenCache::PretokenCache(size_t slots) {
  size_t per = 16;
  while (per * kShards < slots) per *= 2;
  mask_ = per - 1;
  region_.bytes = per * kShards * sizeof(Slot);
  region_.base =
      ::mmap(nullptr, region_.bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  TRINITY_CHECK(region_.base != MAP_FAILED, "PretokenCache: mmap of the slot region failed");
  for (size_t i = 0; i < kShards; ++i)
    shards_[i].slots = static_cast<Slot*>(region_.base) + i * per;
}

PretokenCache::Region::~Region() {
  if (base != nullptr && base != MAP_FAILED) ::munmap(base, bytes);
}

namespace {

// Little-endian load of n < 8 bytes, zero-extended (no variable-length memcpy call).
inline uint64_t load_tail(const char* p, size_t n) {
  uint64_t w = 0;
  for (size_t i = 0; i < n; ++i) w |= uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return w;
}

}  // namespace

uint64_t PretokenCache::hash(std::string_view key) {
  // Multiply-xorshift over 8-byte words; keys are short.
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ (key.size() * 0xFF51AFD7ED558CCDULL);
  size_t i = 0;
  for (; i + 8 <= key.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, key.data() + i, 8);
    h = (h ^ w) * 0xC4CEB9FE1A85EC53ULL;
    h ^= h >> 29;
  }
  h = (h ^ load_tail(key.data() + i, key.size() - i)) * 0xC4CEB9FE1A85EC53ULL;
  h ^= h >> 32;
  return h;
}

PretokenCache::PaddedKey PretokenCache::pad(std::string_view key) {
  PaddedKey k{};
  size_t i = 0, w = 0;
  for (; i + 8 <= key.size(); i += 8, ++w) std::memcpy(&k.w[w], key.data() + i, 8);
  if (i < key.size()) k.w[w] = load_tail(key.data() + i, key.size() - i);
  return k;
}

bool PretokenCache::lookup(std::string_view key, uint64_t h, std::vector<int32_t>* out) const {
  if (!cacheable(key)) return false;
  Shard& s = shards_[h % kShards];
  size_t home = static_cast<size_t>(h >> 8);
  const PaddedKey pk = pad(key);
  std::lock_guard<std::mutex> lock(s.mu);
  for (size_t k = 0; k < kProbe; ++k) {
    const Slot& slot = s.slots[(home + k) & mask_];
    if (slot.n_ids == 0) return false;
    if (same_key(slot, h, pk, key.size())) {
      out->insert(out->end(), slot.ids, slot.ids + slot.n_ids);
      return true;
    }
  }
  return false;
}

void PretokenCache::insert(std::string_view key, uint64_t h, const int32_t* ids, size_t n) const {
  if (!cacheable(key) || n == 0 || n > kMaxIds) return;
  Shard& s = shards_[h % kShards];
  size_t home = static_cast<size_t>(h >> 8);
  const PaddedKey pk = pad(key);
  std::lock_guard<std::mutex> lock(s.mu);
  Slot* target = &s.slots[home & mask_];  // evicted when the probe window is full
  for (size_t k = 0; k < kProbe; ++k) {
    Slot& slot = s.slots[(home + k) & mask_];
    if (slot.n_ids == 0 || same_key(slot, h, pk, key.size())) {
      target = &slot;
      break;
    }
  }
  target->hash = h;
  target->key_len = static_cast<uint8_t>(key.size());
  target->n_ids = static_cast<uint8_t>(n);
  std::memcpy(target->key, pk.w, sizeof(pk.w));
  std::memcpy(target->ids, ids, n * sizeof(int32_t));
}

size_t PretokenCache::size() const {
  size_t total = 0;
  for (Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mu);
    for (size_t i = 0; i <= mask_; ++i) total += s.slots[i].n_ids != 0;
  }
  return total;
}

}  // namespace trinity::tok
