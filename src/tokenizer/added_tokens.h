// Added-token stage: finds added tokens (special or not) in text before normalization,
// with the semantics of `tokenizers`' AddedVocabulary::find_matches: leftmost-longest
// non-overlapping matches, then the single_word / lstrip / rstrip rules.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"

namespace trinity::tok {

struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
  bool special = false;
};

// One piece of a split: either an added token (id >= 0) or plain text (id == -1).
struct Segment {
  size_t begin, end;
  int32_t id;
};

class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  // `patterns[i]` is what is searched for `tokens[i]` (the content, or its normalized form).
  AddedTokenMatcher(std::vector<AddedToken> tokens, std::vector<std::string> patterns);

  bool empty() const { return tokens_.empty(); }
  // Splits `text` into segments covering it in order (empty `text` -> no segments).
  void split(std::string_view text, std::vector<Segment>* out) const;

 private:
  // Longest pattern matching at `pos`, or -1.
  int longest_at(std::string_view text, size_t pos) const;

  std::vector<AddedToken> tokens_;
  std::vector<std::string> patterns_;
  bool first_byte_[256] = {};
  int single_first_byte_ = -1;  // the only first byte of all patterns, else -1 (memchr path)
  std::vector<int> by_first_byte_[256];  // indices into tokens_, longest pattern first
};

// Added token ids index dense tables: larger ids are rejected.
constexpr int64_t kMaxAddedTokenId = int64_t{1} << 22;

Result<std::vector<AddedToken>> parse_added_tokens(const Json& root);

}  // namespace trinity::tok
