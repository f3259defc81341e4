// UTF-8 helpers and the Unicode character classes the tokenizer needs.
//
// The pre-tokenizer classes (\p{L}, \p{N}, \s) come from tables generated from Oniguruma
// (Unicode 14.0), the regex engine Hugging Face `tokenizers` uses; see unicode_tables.inc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace trinity::tok {

// Classes of the Qwen/GPT-2 split regex. kNewline is '\r' or '\n' (also whitespace).
enum class CharClass : uint8_t { kOther = 0, kLetter = 1, kNumber = 2, kSpace = 3, kNewline = 4 };

// Two-stage lookup table over all code points; built once, immutable afterwards.
class CharClassTable {
 public:
  static const CharClassTable& get();
  CharClass classify(char32_t cp) const {
    if (cp >= 0x110000) return CharClass::kOther;
    return static_cast<CharClass>(
        blocks_[static_cast<size_t>(stage1_[cp >> 8]) * 256 + (cp & 0xFF)]);
  }

 private:
  CharClassTable();
  uint16_t stage1_[0x1100];
  std::basic_string<uint8_t> blocks_;
};

inline CharClass char_class(char32_t cp) {
  return CharClassTable::get().classify(cp);
}
// Unicode White_Space (Oniguruma `\s`, Rust regex `\s`).
inline bool is_white_space(char32_t cp) {
  CharClass c = char_class(cp);
  return c == CharClass::kSpace || c == CharClass::kNewline;
}
// Rust regex `\w` (Alphabetic, marks, decimal digits, connector punctuation, join controls),
// used by the added-token `single_word` check.
bool is_word_char(char32_t cp);

// Decodes the code point starting at p (which must be valid UTF-8, as checked by
// find_invalid_utf8); *len receives its byte length.
inline char32_t decode_utf8(const unsigned char* p, size_t* len) {
  unsigned char b0 = p[0];
  if (b0 < 0x80) {
    *len = 1;
    return b0;
  }
  if (b0 < 0xE0) {
    *len = 2;
    return (char32_t(b0 & 0x1F) << 6) | (p[1] & 0x3F);
  }
  if (b0 < 0xF0) {
    *len = 3;
    return (char32_t(b0 & 0x0F) << 12) | (char32_t(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
  }
  *len = 4;
  return (char32_t(b0 & 0x07) << 18) | (char32_t(p[1] & 0x3F) << 12) |
         (char32_t(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
}

// Byte offset of the first byte that does not start a well-formed UTF-8 sequence
// (overlongs, surrogates and code points above U+10FFFF are ill-formed); nullopt if valid.
std::optional<size_t> find_invalid_utf8(std::string_view s);

void append_utf8(std::string& out, char32_t cp);

// Rust `String::from_utf8_lossy`: each maximal ill-formed subpart becomes U+FFFD.
std::string utf8_lossy(std::string_view bytes);

}  // namespace trinity::tok
