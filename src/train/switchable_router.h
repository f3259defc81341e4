// A router whose vector can be switched in place: the base model's engine carries an SVF
// overlay (model/svf_overlay.h), so a candidate costs its scales and its head, not an export.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "model/engine.h"
#include "model/svf_overlay.h"
#include "router/model_router.h"
#include "router/open_router.h"

namespace trinity::train {

struct SwitchableModelTimes {
  double weights_ms = 0, engine_ms = 0, tokenizer_ms = 0, overlay_ms = 0;
};

class SwitchableRouter final : public Router {
 public:
  // Loads src.base (unadapted; --artifact/--vector are not used here), the engine of
  // src.profile, the tokenizer and the overlay of the SVF layer (src.layer).
  static Result<std::shared_ptr<SwitchableRouter>> open(const RouterSource& src,
                                                        SwitchableModelTimes* times = nullptr);

  // Switches to a router vector (SVF offsets of the nine targets, then the [10, hidden] head).
  // Not concurrent with routing: call between batches.
  Status set_vector(std::span<const float> vector);
  int64_t vector_length() const { return vector_length_; }
  const Qwen3Config& config() const { return engine_->weights().config; }

  Result<RouteDecision> route(const std::vector<Message>& messages) const override;
  Result<std::vector<RouteDecision>> route_batch(
      const std::vector<std::vector<Message>>& batch) const override;
  std::string profile() const override { return engine_->profile(); }
  std::string backend_label() const override { return engine_->backend_label(); }
  ReflexFloors reflex_floors() const override { return floors_; }
  void clear_prefix_cache() const override { engine_->clear_prefix_cache(); }
  ForwardEngine& engine() const { return *engine_; }
  // Installs the overlay again (after engine().set_svf_overlay(nullptr), e.g. to measure the
  // base engine) with unit scales; set_vector() before routing.
  Status reinstall_overlay() { return engine_->set_svf_overlay(overlay_); }

 private:
  std::shared_ptr<const tok::Tokenizer> tokenizer_;
  std::shared_ptr<ForwardEngine> engine_;
  std::shared_ptr<const SvfOverlay> overlay_;
  std::unique_ptr<ModelRouter> current_;
  ReflexFloors floors_;
  int64_t vector_length_ = 0;
};

}  // namespace trinity::train
