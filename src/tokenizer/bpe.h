// BPE model stage: vocabulary, merge ranks and the merge loop of Hugging Face `tokenizers`
// (priority queue ordered by (rank, position), stale entries dropped by new id).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/json.h"
#include "core/status.h"

namespace trinity::tok {

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

  // Builds the model from tokenizer.json's "model" object (type BPE, byte-level vocabulary).
  static Result<BpeModel> from_json(const Json& model);

  // Appends the ids of one pre-token given as raw bytes (the ByteLevel stage is implied).
  // Words of up to kShortWord symbols use a quadratic loop; longer ones (or all, with
  // force_heap, for tests) the priority-queue loop of `tokenizers`. Both give the same ids.
  void encode_word(std::string_view bytes, std::vector<int32_t>* out,
                   bool force_heap = false) const;
  static constexpr size_t kShortWord = 64;

  std::optional<int32_t> token_to_id(std::string_view token) const;
  // The vocabulary string of `id`, or nullptr if the model has no such id.
  const std::string* id_to_token(int32_t id) const;
  // One past the largest id in the vocabulary.
  size_t id_limit() const { return id_to_token_.size(); }

 private:
  struct MergeEntry {
    uint64_t key;  // (left << 32) | right; kEmpty marks a free slot
    int32_t rank;
    int32_t new_id;
  };
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  static uint64_t pair_key(int32_t a, int32_t b) {
    return (uint64_t{static_cast<uint32_t>(a)} << 32) | static_cast<uint32_t>(b);
  }
  const MergeEntry* find_merge(int32_t a, int32_t b) const {
    uint64_t key = pair_key(a, b);
    size_t mask = merges_.size() - 1;
    size_t i = static_cast<size_t>((key * 0x9E3779B97F4A7C15ULL) >> 20) & mask;
    while (true) {
      const MergeEntry& e = merges_[i];
      if (e.key == key) return &e;
      if (e.key == kEmpty) return nullptr;
      i = (i + 1) & mask;
    }
  }
  void merge_short(std::vector<Symbol>& sym, std::vector<int32_t>* out) const;
  Status add_merge(int32_t a, int32_t b, int32_t rank, int32_t new_id);

  TokenIdMap token_to_id_;
  std::vector<std::string> id_to_token_;
  std::vector<uint8_t> has_id_;
  int32_t byte_id_[256];
  std::vector<MergeEntry> merges_;  // open addressing, power-of-two size
  std::optional<int32_t> unk_id_;
  bool fuse_unk_ = false;
  bool ignore_merges_ = false;
};

}  // namespace trinity::tok
