#include "core/utf8.h"

namespace trinity {

uint32_t next_code_point(std::string_view s, size_t& i) {
  static constexpr uint32_t kMinOfLength[] = {0, 0, 0x80, 0x800, 0x10000};
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t c = byte(i);
  const size_t len = c < 0x80           ? 1
                     : (c >> 5) == 0x6  ? 2
                     : (c >> 4) == 0xE  ? 3
                     : (c >> 3) == 0x1E ? 4
                                        : 0;
  if (len == 0 || i + len > s.size()) {
    ++i;
    return 0xFFFD;
  }
  uint32_t cp = len == 1 ? c : c & (0x7Fu >> len);
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < kMinOfLength[len] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
    ++i;
    return 0xFFFD;
  }
  i += len;
  return cp;
}

bool splits_words(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A && cp != 0x2007) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x205F || cp == 0x3000;
}

bool is_white_space(uint32_t cp) {
  return splits_words(cp) || cp == 0xA0 || cp == 0x2007 || cp == 0x202F;
}

std::string_view trim_unicode_start(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t next = i;
    if (!is_white_space(next_code_point(s, next))) break;
    i = next;
  }
  return s.substr(i);
}

std::string trim_unicode(std::string_view s) {
  s = trim_unicode_start(s);
  size_t end = 0;  // one past the last non-whitespace code point
  for (size_t i = 0; i < s.size();) {
    const bool ws = is_white_space(next_code_point(s, i));
    if (!ws) end = i;
  }
  return std::string(s.substr(0, end));
}

}  // namespace trinity
