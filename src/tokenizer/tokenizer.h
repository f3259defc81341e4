// Byte-level BPE tokenizer loaded from a Hugging Face tokenizer.json (Qwen2/Qwen3, GPT-2,
// Llama 3 family), bit-identical to `tokenizers` with add_special_tokens=false.
//
// Pipeline (one class per stage):
//   AddedTokenMatcher (raw text) -> NfcNormalizer -> AddedTokenMatcher (normalized tokens)
//   -> SplitPreTokenizer (regex, Isolated) -> ByteLevel -> BpeModel ; ByteLevelDecoder.
//
// Input contract: encode() takes UTF-8. Ill-formed UTF-8 is rejected with an
// invalid-argument Status "invalid UTF-8 at byte N" (N = offset of the first byte that does
// not start a well-formed sequence); nothing is replaced silently. Empty text -> no ids.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/pretoken_cache.h"

namespace trinity::tok {

// The bytes each id decodes to: derived from the vocabulary and added tokens at build time, or
// taken from the binary form (in place, kept alive by `owner`).
struct DecodeTable {
  std::span<const char> bytes;     // bytes of every id, concatenated
  std::span<const uint32_t> off;   // id -> [off[id], off[id + 1]) in bytes
  std::span<const uint8_t> known;  // id has a token
  std::shared_ptr<const void> owner;
};

class Tokenizer {
 public:
  // `path`: a directory containing tokenizer.json, or the path of a tokenizer.json file.
  static Result<std::shared_ptr<const Tokenizer>> load(const std::string& path);
  // Builds from the JSON text itself; `what` names the source in error messages.
  static Result<std::shared_ptr<const Tokenizer>> load_from_json_text(
      std::string_view json_text, const std::string& what = "tokenizer.json");

  // Thread-safe. Added tokens written in the text are recognized; none are added around it.
  Result<std::vector<int32_t>> encode(std::string_view text) const;
  // Appends to *ids (same contract as encode); lets callers reuse one buffer.
  Status encode_into(std::string_view text, std::vector<int32_t>* ids) const;

  // Ids -> text. Added/special tokens decode as their content (nothing is skipped); ids
  // outside the vocabulary are ignored; invalid UTF-8 from partial byte tokens -> U+FFFD.
  std::string decode(const std::vector<int32_t>& ids) const;

  std::optional<int32_t> token_to_id(std::string_view token) const;
  // Raw vocabulary string (byte-level alphabet) or added-token content; "" if unknown.
  std::string id_to_token(int32_t id) const;
  // One past the largest id, added tokens included (151669 for Qwen3).
  size_t vocab_size() const { return vocab_size_; }
  const std::vector<AddedToken>& added_tokens() const { return added_; }
  bool is_special(int32_t id) const;

  SplitPattern split_pattern() const { return splitter_.pattern(); }
  const BpeModel& model() const { return bpe_; }
  bool uses_nfc() const { return nfc_; }

  // Assembles a tokenizer from already-parsed stages (used by the loader and tests).
  // `decode`, when given, is the table an earlier build derived from the same parts.
  static Result<std::shared_ptr<const Tokenizer>> build_from_parts(
      BpeModel model, SplitPattern pattern, bool nfc, std::vector<AddedToken> added,
      std::optional<DecodeTable> decode = std::nullopt);
  const DecodeTable& decode_table() const { return decode_; }

  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

 private:
  Tokenizer(BpeModel model, SplitPattern pattern) : bpe_(std::move(model)), splitter_(pattern) {}
  static DecodeTable derive_decode_table(const Tokenizer& t);
  void encode_normalized(std::string_view text, std::vector<int32_t>* ids) const;
  void encode_pretokens(std::string_view text, std::vector<int32_t>* ids) const;

  BpeModel bpe_;
  SplitPreTokenizer splitter_;
  bool nfc_ = false;
  std::vector<AddedToken> added_;
  AddedTokenMatcher raw_matcher_;         // tokens with normalized=false
  AddedTokenMatcher normalized_matcher_;  // tokens with normalized=true
  TokenIdMap added_to_id_;
  std::vector<int32_t> added_index_by_id_;  // id -> index into added_, or -1
  size_t vocab_size_ = 0;
  DecodeTable decode_;
  PretokenCache cache_;
};

}  // namespace trinity::tok
