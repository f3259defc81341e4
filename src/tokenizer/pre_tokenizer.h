// Pre-tokenizer stages: the Split regex (a hand-written scanner with Oniguruma semantics)
// and the ByteLevel byte <-> character alphabet.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trinity::tok {

// The split regexes this scanner implements exactly (Oniguruma semantics: \s is Unicode
// White_Space, \p{L} / \p{N} by general category, (?i:...) with simple case folding).
enum class SplitPattern {
  // Qwen2/Qwen3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|
  //              ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
  kQwen2,
  // Llama 3: the same with \p{N}{1,3}.
  kLlama3,
  // GPT-2 (ByteLevel use_regex=true): 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+|
  //                                   ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  kGpt2,
};

std::string_view split_pattern_regex(SplitPattern p);
// Recognizes a tokenizer.json Split regex; nullopt if it is not one of the above.
std::optional<SplitPattern> split_pattern_from_regex(std::string_view regex);

// Split with behavior Isolated: every regex match is one pre-token. The pattern matches at
// every position of a non-empty valid UTF-8 string, so pre-tokens tile the input.
class SplitPreTokenizer {
 public:
  explicit SplitPreTokenizer(SplitPattern pattern) : pattern_(pattern) {}
  SplitPattern pattern() const { return pattern_; }

  // End (exclusive byte offset) of the match starting at `pos` < text.size().
  size_t match_end(std::string_view text, size_t pos) const;

  // Calls fn(std::string_view piece) for each pre-token of `text` (valid UTF-8).
  template <typename Fn>
  void for_each(std::string_view text, Fn&& fn) const {
    std::vector<size_t>& ends = scratch_ends();
    ends.clear();
    split_all(text, &ends);
    size_t pos = 0;
    for (size_t end : ends) {
      fn(text.substr(pos, end - pos));
      pos = end;
    }
  }
  // Appends the end offset of every pre-token of `text` to *ends.
  void split_all(std::string_view text, std::vector<size_t>* ends) const;

 private:
  static std::vector<size_t>& scratch_ends();
  SplitPattern pattern_;
};

// GPT-2 bytes_to_unicode(): printable bytes map to themselves, the others to U+0100...
class ByteLevelAlphabet {
 public:
  static const ByteLevelAlphabet& get();
  char32_t byte_to_char(uint8_t b) const { return byte_to_char_[b]; }
  // The byte a character stands for, or -1 if it is not in the alphabet.
  int char_to_byte(char32_t c) const { return c < 324 ? char_to_byte_[c] : -1; }
  // Maps raw bytes to their byte-level string (UTF-8).
  std::string encode(std::string_view bytes) const;
  // Maps a byte-level string back to bytes; nullopt if a character is outside the alphabet
  // or the string is not valid UTF-8.
  std::optional<std::string> decode(std::string_view token) const;

 private:
  ByteLevelAlphabet();
  std::array<char32_t, 256> byte_to_char_{};
  std::array<int16_t, 324> char_to_byte_{};
};

}  // namespace trinity::tok
