// `mock_tiny`: a model-free router profile for tests and demos, computed exactly as the
// reference's (Elixir) mock_tiny adapter:
//   digest h = the transcript_hash bytes; agent = h[0] mod 7, role = h[1] mod 3;
//   agent and role logits are one-hot 1 + h[2]/255 at the chosen index (0 elsewhere), computed
//   in double precision (so the 6-decimal rounding in route_hash matches the reference);
//   token_count = the number of words of the message contents joined by a space (the
//   reference's `String.split/1`: split on Unicode whitespace except no-break spaces; role
//   names are not counted).
// Stateless, so safe across threads.
#pragma once

#include "router/route.h"

namespace trinity {

class MockTinyRouter final : public Router {
 public:
  Result<RouteDecision> route(const std::vector<Message>& messages) const override;
  std::string profile() const override { return "mock_tiny"; }
};

// Number of maximal runs of non-whitespace code points of UTF-8 `text`, where whitespace is
// Unicode White_Space less the no-break spaces U+00A0, U+2007 and U+202F (Elixir's
// String.split/1). Bytes that are not valid UTF-8 count as non-whitespace.
int64_t whitespace_word_count(const std::string& text);

// The reference mock's token count: whitespace_word_count of the contents joined by " ".
int64_t mock_token_count(const std::vector<Message>& messages);

}  // namespace trinity
