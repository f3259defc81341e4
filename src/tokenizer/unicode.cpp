#include "tokenizer/unicode.h"

#include <utf8proc.h>

#include <cstring>
#include <map>
#include <vector>

namespace trinity::tok {

namespace {

struct CodeRange {
  char32_t first, last;
};

#include "tokenizer/unicode_tables.inc"

template <size_t N>
void paint(std::vector<uint8_t>& cls, const CodeRange (&ranges)[N], CharClass c) {
  for (const CodeRange& r : ranges) {
    for (char32_t cp = r.first; cp <= r.last; ++cp) cls[cp] = static_cast<uint8_t>(c);
  }
}

// Length of the well-formed UTF-8 sequence at s[i], or 0 if ill-formed. On failure
// *bad receives the length of the maximal ill-formed subpart (>= 1).
size_t utf8_seq_len(const unsigned char* s, size_t n, size_t i, size_t* bad) {
  unsigned char b0 = s[i];
  *bad = 1;
  if (b0 < 0x80) return 1;
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  for (size_t k = 1; k <= need; ++k) {
    if (i + k >= n) {
      *bad = k;
      return 0;
    }
    unsigned char b = s[i + k];
    if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) {
      *bad = k;
      return 0;
    }
  }
  return need + 1;
}

}  // namespace

CharClassTable::CharClassTable() {
  std::vector<uint8_t> cls(0x110000, static_cast<uint8_t>(CharClass::kOther));
  paint(cls, kLetterRanges, CharClass::kLetter);
  paint(cls, kNumberRanges, CharClass::kNumber);
  paint(cls, kWhiteSpaceRanges, CharClass::kSpace);
  cls['\r'] = cls['\n'] = static_cast<uint8_t>(CharClass::kNewline);
  // Deduplicate 256-entry blocks.
  std::map<std::basic_string<uint8_t>, uint16_t> seen;
  for (size_t b = 0; b < 0x1100; ++b) {
    std::basic_string<uint8_t> block(cls.data() + b * 256, 256);
    auto it = seen.find(block);
    if (it == seen.end()) {
      uint16_t idx = static_cast<uint16_t>(seen.size());
      it = seen.emplace(std::move(block), idx).first;
      blocks_.append(it->first);
    }
    stage1_[b] = it->second;
  }
}

const CharClassTable& CharClassTable::get() {
  static const CharClassTable table;
  return table;
}

bool is_word_char(char32_t cp) {
  if (cp < 0x80) {
    return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
           cp == '_';
  }
  if (cp >= 0x110000) return false;
  if (cp == 0x200C || cp == 0x200D) return true;  // Join_Control
  // Other_Alphabetic symbols (circled / squared / negative squared Latin letters).
  if ((cp >= 0x24B6 && cp <= 0x24E9) || (cp >= 0x1F130 && cp <= 0x1F149) ||
      (cp >= 0x1F150 && cp <= 0x1F169) || (cp >= 0x1F170 && cp <= 0x1F189)) {
    return true;
  }
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_PC:
      return true;
    default:
      return false;
  }
}

std::optional<size_t> find_invalid_utf8(std::string_view sv) {
  const auto* s = reinterpret_cast<const unsigned char*>(sv.data());
  size_t n = sv.size(), i = 0;
  while (i < n) {
    // ASCII fast path, 8 bytes at a time.
    while (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, s + i, 8);
      if (w & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= n) break;
    if (s[i] < 0x80) {
      ++i;
      continue;
    }
    size_t bad;
    size_t len = utf8_seq_len(s, n, i, &bad);
    if (len == 0) return i;
    i += len;
  }
  return std::nullopt;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string utf8_lossy(std::string_view sv) {
  const auto* s = reinterpret_cast<const unsigned char*>(sv.data());
  size_t n = sv.size(), i = 0;
  std::string out;
  out.reserve(n);
  while (i < n) {
    size_t bad;
    size_t len = utf8_seq_len(s, n, i, &bad);
    if (len == 0) {
      out.append("\xEF\xBF\xBD");
      i += bad;
    } else {
      out.append(sv.substr(i, len));
      i += len;
    }
  }
  return out;
}

}  // namespace trinity::tok
