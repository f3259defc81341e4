#include "router/mock_tiny.h"

#include "router/etf_hash.h"

namespace trinity {

namespace {

// Unicode White_Space, less the no-break spaces (U+00A0, U+2007, U+202F).
bool splits_words(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A && cp != 0x2007) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x205F || cp == 0x3000;
}

// Decodes the code point at s[i] and advances i. A byte that does not start a well-formed UTF-8
// sequence (a stray continuation byte, a truncated sequence, an overlong form, a surrogate or a
// value above U+10FFFF) is consumed alone and yields U+FFFD: never whitespace, as for Elixir,
// which only splits on the canonical bytes of a whitespace character.
uint32_t next_code_point(const std::string& s, size_t& i) {
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

}  // namespace

int64_t whitespace_word_count(const std::string& text) {
  int64_t count = 0;
  bool in_word = false;
  for (size_t i = 0; i < text.size();) {
    const bool ws = splits_words(next_code_point(text, i));
    if (!ws && !in_word) ++count;
    in_word = !ws;
  }
  return count;
}

int64_t mock_token_count(const std::vector<Message>& messages) {
  std::string joined;
  for (size_t i = 0; i < messages.size(); ++i) {
    if (i) joined += ' ';
    joined += messages[i].content;
  }
  return whitespace_word_count(joined);
}

Result<RouteDecision> MockTinyRouter::route(const std::vector<Message>& messages) const {
  if (messages.empty()) return invalid_argument("mock_tiny: cannot route an empty transcript");
  TRINITY_ASSIGN_OR_RETURN(std::string hex, transcript_hash(messages));
  auto nibble = [&](size_t i) {
    char c = hex[i];
    return c <= '9' ? c - '0' : c - 'a' + 10;
  };
  auto byte = [&](size_t i) { return nibble(2 * i) * 16 + nibble(2 * i + 1); };
  const int h0 = byte(0), h1 = byte(1), h2 = byte(2);
  const int agent_id = h0 % kNumAgents, role_id = h1 % kNumRoles;
  const double hot = 1.0 + static_cast<double>(h2) / 255.0;  // double, as the reference
  std::array<float, kNumAgents> agent{};
  std::array<float, kNumRoles> role{};
  agent[static_cast<size_t>(agent_id)] = static_cast<float>(hot);
  role[static_cast<size_t>(role_id)] = static_cast<float>(hot);
  TRINITY_ASSIGN_OR_RETURN(RouteDecision d, make_route_decision(messages, agent, role));
  std::array<double, kNumAgents + kNumRoles> exact{};
  exact[static_cast<size_t>(agent_id)] = hot;
  exact[static_cast<size_t>(kNumAgents + role_id)] = hot;
  d.logits_f64 = exact;
  d.agent_margin = hot;  // top1 - top2 = hot - 0
  d.role_margin = hot;
  const auto rounded = d.rounded_logits();
  TRINITY_ASSIGN_OR_RETURN(d.route_hash,
                           route_hash(d.agent_id, d.role_id, rounded.data(), rounded.size()));
  d.token_count = mock_token_count(messages);
  d.profile = profile();
  return d;
}

}  // namespace trinity
