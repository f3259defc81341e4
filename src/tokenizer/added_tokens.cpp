#include "tokenizer/added_tokens.h"

#include <algorithm>
#include <cstring>

#include "tokenizer/unicode.h"

namespace trinity::tok {

namespace {

// Last / first code point of a valid UTF-8 string.
char32_t last_char(std::string_view s) {
  size_t i = s.size() - 1;
  while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
  size_t len;
  return decode_utf8(reinterpret_cast<const unsigned char*>(s.data()) + i, &len);
}
char32_t first_char(std::string_view s) {
  size_t len;
  return decode_utf8(reinterpret_cast<const unsigned char*>(s.data()), &len);
}

// Start of the trailing White_Space run of s (Rust `\s*$` leftmost match start).
size_t trailing_space_start(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    size_t i = end - 1;
    while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
    size_t len;
    if (!is_white_space(decode_utf8(reinterpret_cast<const unsigned char*>(s.data()) + i, &len))) {
      break;
    }
    end = i;
  }
  return end;
}
// Length of the leading White_Space run of s.
size_t leading_space_len(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t len;
    if (!is_white_space(decode_utf8(reinterpret_cast<const unsigned char*>(s.data()) + i, &len))) {
      break;
    }
    i += len;
  }
  return i;
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens,
                                     std::vector<std::string> patterns)
    : tokens_(std::move(tokens)), patterns_(std::move(patterns)) {
  for (size_t i = 0; i < tokens_.size(); ++i) {
    if (patterns_[i].empty()) continue;
    auto b = static_cast<unsigned char>(patterns_[i][0]);
    first_byte_[b] = true;
    by_first_byte_[b].push_back(static_cast<int>(i));
  }
  int distinct = 0;
  for (int b = 0; b < 256; ++b) {
    if (first_byte_[b]) {
      ++distinct;
      single_first_byte_ = b;
    }
  }
  if (distinct != 1) single_first_byte_ = -1;
  for (auto& v : by_first_byte_) {
    // Longest first; among equal lengths the earlier pattern wins (as aho-corasick does).
    std::stable_sort(v.begin(), v.end(),
                     [&](int a, int b) { return patterns_[a].size() > patterns_[b].size(); });
  }
}

int AddedTokenMatcher::longest_at(std::string_view text, size_t pos) const {
  for (int idx : by_first_byte_[static_cast<unsigned char>(text[pos])]) {
    const std::string& p = patterns_[static_cast<size_t>(idx)];
    if (text.size() - pos >= p.size() && text.compare(pos, p.size(), p) == 0) return idx;
  }
  return -1;
}

void AddedTokenMatcher::split(std::string_view text, std::vector<Segment>* out) const {
  if (text.empty()) return;
  size_t start_offset = 0;
  size_t pos = 0;
  const size_t n = text.size();
  while (pos < n) {
    if (single_first_byte_ >= 0) {
      const void* hit = std::memchr(text.data() + pos, single_first_byte_, n - pos);
      if (hit == nullptr) break;
      pos = static_cast<size_t>(static_cast<const char*>(hit) - text.data());
    } else if (!first_byte_[static_cast<unsigned char>(text[pos])]) {
      ++pos;
      continue;
    }
    int idx = longest_at(text, pos);
    if (idx < 0) {
      ++pos;
      continue;
    }
    const AddedToken& tok = tokens_[static_cast<size_t>(idx)];
    size_t start = pos;
    size_t stop = pos + patterns_[static_cast<size_t>(idx)].size();
    pos = stop;  // the next search starts after this match, kept or not
    if (tok.single_word) {
      bool start_space = start == 0 || !is_word_char(last_char(text.substr(0, start)));
      bool stop_space = stop == n || !is_word_char(first_char(text.substr(stop)));
      if (!start_space || !stop_space) continue;
    }
    if (tok.lstrip) start = std::max(trailing_space_start(text.substr(0, start)), start_offset);
    if (tok.rstrip) stop += leading_space_len(text.substr(stop));
    if (start_offset < start) out->push_back(Segment{start_offset, start, -1});
    out->push_back(Segment{start, stop, tok.id});
    start_offset = stop;
  }
  if (start_offset < n) out->push_back(Segment{start_offset, n, -1});
}

Result<std::vector<AddedToken>> parse_added_tokens(const Json& root) {
  // Ids index dense tables; real vocabularies stay far below this.
  std::vector<AddedToken> out;
  auto it = root.find("added_tokens");
  if (it == root.end() || it->is_null()) return out;
  if (!it->is_array()) return parse_error("added_tokens: expected an array");
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& t = (*it)[i];
    std::string ctx = "added_tokens[" + std::to_string(i) + "]";
    AddedToken tok;
    TRINITY_ASSIGN_OR_RETURN(int64_t id, json_int(t, "id", ctx));
    if (id < 0 || id >= kMaxAddedTokenId) {
      return parse_error(ctx + ": id " + std::to_string(id) + " out of range");
    }
    tok.id = static_cast<int32_t>(id);
    TRINITY_ASSIGN_OR_RETURN(tok.content, json_string(t, "content", ctx));
    if (find_invalid_utf8(tok.content)) return parse_error(ctx + ": content is not valid UTF-8");
    auto flag = [&](const char* key, bool def) -> Result<bool> {
      auto f = t.find(key);
      if (f == t.end() || f->is_null()) return def;
      if (!f->is_boolean()) return parse_error(ctx + ": field '" + key + "' must be a bool");
      return f->get<bool>();
    };
    TRINITY_ASSIGN_OR_RETURN(tok.special, flag("special", false));
    TRINITY_ASSIGN_OR_RETURN(tok.single_word, flag("single_word", false));
    TRINITY_ASSIGN_OR_RETURN(tok.lstrip, flag("lstrip", false));
    TRINITY_ASSIGN_OR_RETURN(tok.rstrip, flag("rstrip", false));
    TRINITY_ASSIGN_OR_RETURN(tok.normalized, flag("normalized", !tok.special));
    out.push_back(std::move(tok));
  }
  return out;
}

}  // namespace trinity::tok
