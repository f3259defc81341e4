// `mock_tiny`: a model-free router profile for tests and demos.
// digest h = the transcript_hash bytes; agent = h[0] mod 7, role = h[1] mod 3; agent and role
// logits are one-hot 1 + h[2]/255 at the chosen index (0 elsewhere); token_count = the number of
// whitespace-separated words of the router transcript. Stateless, so safe across threads.
#pragma once

#include "router/route.h"

namespace trinity {

class MockTinyRouter final : public Router {
 public:
  Result<RouteDecision> route(const std::vector<Message>& messages) const override;
  std::string profile() const override { return "mock_tiny"; }
};

// Number of maximal runs of non-whitespace bytes (ASCII whitespace: space, \t, \n, \v, \f, \r).
int64_t whitespace_word_count(const std::string& text);

}  // namespace trinity
