#include "router/mock_tiny.h"

#include "router/etf_hash.h"

namespace trinity {

int64_t whitespace_word_count(const std::string& text) {
  int64_t count = 0;
  bool in_word = false;
  for (char c : text) {
    bool ws = c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
    if (!ws && !in_word) ++count;
    in_word = !ws;
  }
  return count;
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
  const float hot = 1.0f + static_cast<float>(h2) / 255.0f;
  std::array<float, kNumAgents> agent{};
  std::array<float, kNumRoles> role{};
  agent[static_cast<size_t>(h0 % kNumAgents)] = hot;
  role[static_cast<size_t>(h1 % kNumRoles)] = hot;
  TRINITY_ASSIGN_OR_RETURN(RouteDecision d, make_route_decision(messages, agent, role));
  d.token_count = whitespace_word_count(build_transcript(messages));
  d.profile = profile();
  return d;
}

}  // namespace trinity
