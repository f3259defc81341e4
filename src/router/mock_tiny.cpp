#include "router/mock_tiny.h"

#include "core/utf8.h"
#include "router/etf_hash.h"

namespace trinity {

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
    joined += routed_content(messages[i]);
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
