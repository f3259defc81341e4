// BPE model stage: vocabulary, merge ranks and the merge loop of Hugging Face `tokenizers`
// (priority queue ordered by (rank, position), stale entries dropped by new id).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/json.h"
#include "core/status.h"

namespace trinity::tok {

class ByteReader;

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using TokenIdMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

class BpeModel {
 public:
  struct Symbol {
    int32_t id;
    int32_t prev, next;
    int32_t len;  // bytes; 0 once merged into its left neighbour
  };
  struct MergeEntry {
    uint64_t key;  // (left << 32) | right; kEmpty marks a free slot
    int32_t rank;
    int32_t new_id;
  };
  // One slot of the token -> id table: the token is key_bytes[off, off + len); id -1 = free.
  struct VocabSlot {
    uint32_t off, len;
    int32_t id;
    uint32_t reserved;
  };
  // The model's flat tables. They are what the binary form stores, so a cached model is used in
  // place; every span points into `owner` (vectors built from JSON, or a mapped cache entry).
  struct Tables {
    std::span<const char> key_bytes;       // vocabulary keys, concatenated
    std::span<const VocabSlot> key_slots;  // open addressing by XXH3-64, power-of-two size
    std::span<const char> token_bytes;     // id -> token strings, concatenated
    std::span<const uint32_t> token_off;   // id -> [off[id], off[id + 1]) in token_bytes
    std::span<const uint8_t> has_id;       // id has a token
    std::span<const MergeEntry> merges;    // open addressing, power-of-two size
    std::shared_ptr<const void> owner;
  };

  // Builds the model from tokenizer.json's "model" object (type BPE, byte-level vocabulary).
  static Result<BpeModel> from_json(const Json& model);

  // The compact binary form (binary_form.cpp): flags and the tables above, 8-byte aligned.
  // read_binary() checks every bound and every table (a lookup always terminates); a malformed
  // input is an error, never a crash. The tables are used in place, kept alive by `owner`.
  void write_binary(std::string* out) const;
  static Result<BpeModel> read_binary(ByteReader& in, std::shared_ptr<const void> owner);

  // Appends the ids of one pre-token given as raw bytes (the ByteLevel stage is implied).
  // Words of up to kShortWord symbols use a quadratic loop; longer ones (or all, with
  // force_heap, for tests) the priority-queue loop of `tokenizers`. Both give the same ids.
  void encode_word(std::string_view bytes, std::vector<int32_t>* out,
                   bool force_heap = false) const;
  static constexpr size_t kShortWord = 64;

  std::optional<int32_t> token_to_id(std::string_view token) const;
  // The vocabulary string of `id`, or nullopt if the model has no such id.
  std::optional<std::string_view> id_to_token(int32_t id) const;
  // One past the largest id in the vocabulary.
  size_t id_limit() const { return t_.has_id.size(); }
  // Bytes of every id's token together (an upper bound of their decoded bytes).
  size_t vocab_bytes() const { return t_.token_bytes.size(); }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  static uint64_t pair_key(int32_t a, int32_t b) {
    return (uint64_t{static_cast<uint32_t>(a)} << 32) | static_cast<uint32_t>(b);
  }
  static size_t merge_slot(uint64_t key, size_t mask) {
    return static_cast<size_t>((key * 0x9E3779B97F4A7C15ULL) >> 20) & mask;
  }
  const MergeEntry* find_merge(int32_t a, int32_t b) const {
    const uint64_t key = pair_key(a, b);
    const size_t mask = t_.merges.size() - 1;
    size_t i = merge_slot(key, mask);
    while (true) {
      const MergeEntry& e = t_.merges[i];
      if (e.key == key) return &e;
      if (e.key == kEmpty) return nullptr;
      i = (i + 1) & mask;
    }
  }
  void merge_short(std::vector<Symbol>& sym, std::vector<int32_t>* out) const;
  void init_byte_ids();

  Tables t_;
  int32_t byte_id_[256];
  std::optional<int32_t> unk_id_;
  bool fuse_unk_ = false;
  bool ignore_merges_ = false;
};

}  // namespace trinity::tok
