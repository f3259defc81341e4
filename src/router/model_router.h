// The TRINITY router on a Qwen3 model: messages -> transcript -> token ids -> forward (adapted
// weights) -> final-RMSNorm hidden at position n-2 (0 when n <= 1) -> logits = hidden . head^T
// (f32) -> agent slot (rows 0-6) and role (rows 7-9).
#pragma once

#include <memory>
#include <vector>

#include "model/engine.h"
#include "router/route.h"
#include "tokenizer/tokenizer.h"

namespace trinity {

class ModelRouter final : public Router {
 public:
  // head: [10, hidden] row-major f32.
  ModelRouter(std::shared_ptr<const tok::Tokenizer> tokenizer,
              std::shared_ptr<ForwardEngine> engine, std::vector<float> head,
              ReflexFloors floors = ReflexFloors{});

  Result<RouteDecision> route(const std::vector<Message>& messages) const override;
  // One forward pass for the whole batch.
  Result<std::vector<RouteDecision>> route_batch(
      const std::vector<std::vector<Message>>& batch) const override;
  std::string profile() const override { return engine_->profile(); }
  std::string backend_label() const override { return engine_->backend_label(); }
  ReflexFloors reflex_floors() const override { return floors_; }
  void clear_prefix_cache() const override { engine_->clear_prefix_cache(); }

  // The position whose hidden state routes a transcript of n tokens.
  static int64_t route_position(int64_t n) { return n <= 1 ? 0 : n - 2; }
  // Logits from a hidden vector: each dot product formed in f64 and rounded once to f32.
  void logits(const float* hidden, float* out10) const;
  // Routes raw token ids (no transcript hash: the caller supplies the messages for it).
  Result<RouteDecision> route_ids(const std::vector<Message>& messages,
                                  const std::vector<int32_t>& ids) const;

  const tok::Tokenizer& tokenizer() const { return *tokenizer_; }
  ForwardEngine& engine() const { return *engine_; }

 private:
  Result<std::vector<int32_t>> tokenize(const std::vector<Message>& messages) const;
  Result<RouteDecision> decide(const std::vector<Message>& messages, const float* hidden,
                               int64_t n_tokens) const;

  std::shared_ptr<const tok::Tokenizer> tokenizer_;
  std::shared_ptr<ForwardEngine> engine_;
  std::vector<float> head_;
  ReflexFloors floors_;
  int64_t hidden_;
};

}  // namespace trinity
