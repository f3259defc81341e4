#include "tokenizer/pre_tokenizer.h"

#include "tokenizer/unicode.h"

namespace trinity::tok {

namespace {

constexpr std::string_view kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Scans `text` (valid UTF-8) with the class table resolved once.
class Scanner {
 public:
  explicit Scanner(std::string_view text)
      : s_(reinterpret_cast<const unsigned char*>(text.data())),
        n_(text.size()),
        table_(CharClassTable::get()) {}

  // Code point and class at byte offset i < n; *len receives the byte length.
  CharClass cls_at(size_t i, size_t* len, char32_t* cp) const {
    unsigned char b = s_[i];
    if (b < 0x80) {
      *len = 1;
      *cp = b;
      return ascii_class(b);
    }
    *cp = decode_utf8(s_ + i, len);
    return table_.classify(*cp);
  }
  CharClass cls_at(size_t i, size_t* len) const {
    char32_t cp;
    return cls_at(i, len, &cp);
  }
  // End of the maximal run of characters of class c starting at i.
  size_t run(size_t i, CharClass c) const {
    while (i < n_) {
      size_t len;
      if (cls_at(i, &len) != c) break;
      i += len;
    }
    return i;
  }
  size_t run_newlines(size_t i) const {
    while (i < n_ && (s_[i] == '\r' || s_[i] == '\n')) ++i;
    return i;
  }
  // Length of a contraction suffix (after the apostrophe) at i, 0 if none.
  size_t contraction(size_t i, bool fold) const {
    if (i >= n_) return 0;
    size_t l1;
    char32_t c1;
    cls_at(i, &l1, &c1);
    c1 = fold ? fold_char(c1) : c1;
    if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return l1;
    if (c1 != 'r' && c1 != 'v' && c1 != 'l') return 0;
    if (i + l1 >= n_) return 0;
    size_t l2;
    char32_t c2;
    cls_at(i + l1, &l2, &c2);
    c2 = fold ? fold_char(c2) : c2;
    if ((c1 == 'l' && c2 == 'l') || (c1 != 'l' && c2 == 'e')) return l1 + l2;
    return 0;
  }
  size_t size() const { return n_; }
  unsigned char byte(size_t i) const { return s_[i]; }

 private:
  // Unicode simple case folding, restricted to what can fold onto the contraction letters.
  static char32_t fold_char(char32_t c) {
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c == 0x17F) return 's';  // LATIN SMALL LETTER LONG S
    return c;
  }
  static CharClass ascii_class(unsigned char b) {
    static constexpr auto kTable = [] {
      std::array<CharClass, 128> t{};
      for (int c = 0; c < 128; ++c) {
        CharClass k = CharClass::kOther;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) k = CharClass::kLetter;
        if (c >= '0' && c <= '9') k = CharClass::kNumber;
        if (c == ' ' || (c >= 0x09 && c <= 0x0D)) k = CharClass::kSpace;
        if (c == '\r' || c == '\n') k = CharClass::kNewline;
        t[static_cast<size_t>(c)] = k;
      }
      return t;
    }();
    return kTable[b];
  }

  const unsigned char* s_;
  size_t n_;
  const CharClassTable& table_;
};

bool is_space_class(CharClass c) {
  return c == CharClass::kSpace || c == CharClass::kNewline;
}

// \s+(?!\S) | \s+ (and, for Qwen/Llama, \s*[\r\n]+ before them) at a whitespace char.
size_t match_whitespace(const Scanner& sc, size_t pos, bool newline_rule) {
  size_t n = sc.size(), i = pos, last_start = pos, last_newline_end = 0;
  bool newline = false;
  while (i < n) {
    size_t len;
    CharClass c = sc.cls_at(i, &len);
    if (!is_space_class(c)) break;
    if (c == CharClass::kNewline) {
      newline = true;
      last_newline_end = i + len;
    }
    last_start = i;
    i += len;
  }
  if (newline_rule && newline) return last_newline_end;  // \s*[\r\n]+
  if (i == n) return n;                                  // \s+(?!\S) at the end
  if (last_start > pos) return last_start;               // \s+(?!\S): leave one space
  return i;                                              // \s+
}

size_t match_qwen(const Scanner& sc, size_t pos, int max_digits) {
  size_t n = sc.size();
  size_t len0;
  char32_t c0;
  CharClass k0 = sc.cls_at(pos, &len0, &c0);
  size_t j = pos + len0;
  // (?i:'s|'t|'re|'ve|'m|'ll|'d)
  if (c0 == '\'') {
    if (size_t m = sc.contraction(j, /*fold=*/true)) return j + m;
  }
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (k0 == CharClass::kLetter) return sc.run(j, CharClass::kLetter);
  if (k0 != CharClass::kNewline && k0 != CharClass::kNumber && j < n) {
    size_t len1;
    if (sc.cls_at(j, &len1) == CharClass::kLetter) return sc.run(j + len1, CharClass::kLetter);
  }
  // \p{N} or \p{N}{1,3}
  if (k0 == CharClass::kNumber) {
    for (int d = 1; d < max_digits && j < n; ++d) {
      size_t len;
      if (sc.cls_at(j, &len) != CharClass::kNumber) break;
      j += len;
    }
    return j;
  }
  //  ?[^\s\p{L}\p{N}]+[\r\n]*
  if (k0 == CharClass::kOther) return sc.run_newlines(sc.run(j, CharClass::kOther));
  if (c0 == ' ' && j < n) {
    size_t len1;
    if (sc.cls_at(j, &len1) == CharClass::kOther) {
      return sc.run_newlines(sc.run(j + len1, CharClass::kOther));
    }
  }
  // \s*[\r\n]+ | \s+(?!\S) | \s+
  return match_whitespace(sc, pos, /*newline_rule=*/true);
}

size_t match_gpt2(const Scanner& sc, size_t pos) {
  size_t n = sc.size();
  size_t len0;
  char32_t c0;
  CharClass k0 = sc.cls_at(pos, &len0, &c0);
  size_t j = pos + len0;
  if (c0 == '\'') {
    if (size_t m = sc.contraction(j, /*fold=*/false)) return j + m;
  }
  //  ?\p{L}+ |  ?\p{N}+ |  ?[^\s\p{L}\p{N}]+
  if (k0 == CharClass::kLetter || k0 == CharClass::kNumber || k0 == CharClass::kOther) {
    return sc.run(j, k0);
  }
  if (c0 == ' ' && j < n) {
    size_t len1;
    CharClass k1 = sc.cls_at(j, &len1);
    if (k1 == CharClass::kLetter || k1 == CharClass::kNumber || k1 == CharClass::kOther) {
      return sc.run(j + len1, k1);
    }
  }
  return match_whitespace(sc, pos, /*newline_rule=*/false);
}

}  // namespace

std::string_view split_pattern_regex(SplitPattern p) {
  switch (p) {
    case SplitPattern::kQwen2:
      return kQwen2Regex;
    case SplitPattern::kLlama3:
      return kLlama3Regex;
    case SplitPattern::kGpt2:
      return kGpt2Regex;
  }
  return {};
}

std::optional<SplitPattern> split_pattern_from_regex(std::string_view regex) {
  for (SplitPattern p : {SplitPattern::kQwen2, SplitPattern::kLlama3, SplitPattern::kGpt2}) {
    if (regex == split_pattern_regex(p)) return p;
  }
  return std::nullopt;
}

size_t SplitPreTokenizer::match_end(std::string_view text, size_t pos) const {
  Scanner sc(text);
  switch (pattern_) {
    case SplitPattern::kQwen2:
      return match_qwen(sc, pos, 1);
    case SplitPattern::kLlama3:
      return match_qwen(sc, pos, 3);
    case SplitPattern::kGpt2:
      return match_gpt2(sc, pos);
  }
  return text.size();
}

void SplitPreTokenizer::split_all(std::string_view text, std::vector<size_t>* ends) const {
  Scanner sc(text);
  size_t pos = 0, n = text.size();
  while (pos < n) {
    switch (pattern_) {
      case SplitPattern::kQwen2:
        pos = match_qwen(sc, pos, 1);
        break;
      case SplitPattern::kLlama3:
        pos = match_qwen(sc, pos, 3);
        break;
      case SplitPattern::kGpt2:
        pos = match_gpt2(sc, pos);
        break;
    }
    ends->push_back(pos);
  }
}

std::vector<size_t>& SplitPreTokenizer::scratch_ends() {
  thread_local std::vector<size_t> ends;
  return ends;
}

const ByteLevelAlphabet& ByteLevelAlphabet::get() {
  static const ByteLevelAlphabet alphabet;
  return alphabet;
}

ByteLevelAlphabet::ByteLevelAlphabet() {
  char_to_byte_.fill(-1);
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    char32_t c = printable ? static_cast<char32_t>(b) : next++;
    byte_to_char_[static_cast<size_t>(b)] = c;
    char_to_byte_[c] = static_cast<int16_t>(b);
  }
}

std::string ByteLevelAlphabet::encode(std::string_view bytes) const {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) append_utf8(out, byte_to_char_[b]);
  return out;
}

std::optional<std::string> ByteLevelAlphabet::decode(std::string_view token) const {
  if (find_invalid_utf8(token)) return std::nullopt;
  std::string out;
  out.reserve(token.size());
  const auto* s = reinterpret_cast<const unsigned char*>(token.data());
  for (size_t i = 0; i < token.size();) {
    size_t len;
    char32_t c = decode_utf8(s + i, &len);
    int b = char_to_byte(c);
    if (b < 0) return std::nullopt;
    out.push_back(static_cast<char>(b));
    i += len;
  }
  return out;
}

}  // namespace trinity::tok
