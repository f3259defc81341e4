// UTF-8 decoding and Unicode whitespace, shared by the mock router's word count and the
// coordinator's trimming of agent replies.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace trinity {

// Decodes the code point at s[i] and advances i. A byte that does not start a well-formed UTF-8
// sequence (a stray continuation byte, a truncated sequence, an overlong form, a surrogate or a
// value above U+10FFFF) is consumed alone and yields U+FFFD.
uint32_t next_code_point(std::string_view s, size_t& i);

// Unicode White_Space (Unicode 15: 25 code points).
bool is_white_space(uint32_t cp);
// White_Space less the no-break spaces U+00A0, U+2007 and U+202F (Elixir's String.split/1).
bool splits_words(uint32_t cp);

// Removes leading and trailing White_Space code points (Elixir's String.trim/1). Invalid bytes
// are never whitespace and are kept.
std::string trim_unicode(std::string_view s);
// Removes leading White_Space only.
std::string_view trim_unicode_start(std::string_view s);

}  // namespace trinity
