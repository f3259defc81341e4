#include "router/model_router.h"

#include <span>

namespace trinity {

ModelRouter::ModelRouter(std::shared_ptr<const tok::Tokenizer> tokenizer,
                         std::shared_ptr<ForwardEngine> engine, std::vector<float> head,
                         ReflexFloors floors)
    : tokenizer_(std::move(tokenizer)),
      engine_(std::move(engine)),
      head_(std::move(head)),
      floors_(floors),
      hidden_(engine_->weights().config.hidden_size) {
  TRINITY_CHECK(static_cast<int64_t>(head_.size()) == kRouterHeadRows * hidden_,
                "router head must be [10, hidden]");
}

void ModelRouter::logits(const float* hidden, float* out10) const {
  for (int r = 0; r < kRouterHeadRows; ++r) {
    const float* row = head_.data() + static_cast<int64_t>(r) * hidden_;
    double acc = 0.0;
    for (int64_t i = 0; i < hidden_; ++i) acc += static_cast<double>(hidden[i]) * row[i];
    out10[r] = static_cast<float>(acc);
  }
}

Result<std::vector<int32_t>> ModelRouter::tokenize(const std::vector<Message>& messages) const {
  if (messages.empty()) return invalid_argument("cannot route an empty conversation");
  auto ids = tokenizer_->encode(build_transcript(messages));
  if (!ids.ok()) return ids.status().with_context("tokenizing the router transcript");
  if (ids->empty()) return invalid_argument("the router transcript tokenizes to no tokens");
  return ids;
}

Result<RouteDecision> ModelRouter::decide(const std::vector<Message>& messages, const float* hidden,
                                          int64_t n_tokens) const {
  float l[kRouterHeadRows];
  logits(hidden, l);
  std::array<float, kNumAgents> agents{};
  std::array<float, kNumRoles> roles{};
  std::copy(l, l + kNumAgents, agents.begin());
  std::copy(l + kNumAgents, l + kRouterHeadRows, roles.begin());
  TRINITY_ASSIGN_OR_RETURN(RouteDecision d, make_route_decision(messages, agents, roles));
  d.token_count = n_tokens;
  d.profile = profile();
  return d;
}

Result<RouteDecision> ModelRouter::route_ids(const std::vector<Message>& messages,
                                             const std::vector<int32_t>& ids) const {
  if (ids.empty()) return invalid_argument("cannot route an empty token sequence");
  const int64_t n = static_cast<int64_t>(ids.size());
  std::vector<float> hidden(static_cast<size_t>(hidden_));
  TRINITY_RETURN_IF_ERROR(
      engine_->forward_rows({std::span<const int32_t>(ids)}, {route_position(n)}, hidden.data()));
  return decide(messages, hidden.data(), n);
}

Result<RouteDecision> ModelRouter::route(const std::vector<Message>& messages) const {
  TRINITY_ASSIGN_OR_RETURN(std::vector<int32_t> ids, tokenize(messages));
  return route_ids(messages, ids);
}

Result<std::vector<RouteDecision>> ModelRouter::route_batch(
    const std::vector<std::vector<Message>>& batch) const {
  std::vector<std::vector<int32_t>> ids(batch.size());
  std::vector<std::span<const int32_t>> seqs;
  std::vector<int64_t> rows;
  for (size_t i = 0; i < batch.size(); ++i) {
    auto r = tokenize(batch[i]);
    if (!r.ok()) return r.status().with_context("conversation " + std::to_string(i));
    ids[i] = std::move(r).value();
    seqs.emplace_back(ids[i]);
    rows.push_back(route_position(static_cast<int64_t>(ids[i].size())));
  }
  std::vector<float> hidden(batch.size() * static_cast<size_t>(hidden_));
  if (!batch.empty()) TRINITY_RETURN_IF_ERROR(engine_->forward_rows(seqs, rows, hidden.data()));
  std::vector<RouteDecision> out;
  out.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    TRINITY_ASSIGN_OR_RETURN(RouteDecision d, decide(batch[i], hidden.data() + i * hidden_,
                                                     static_cast<int64_t>(ids[i].size())));
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace trinity
