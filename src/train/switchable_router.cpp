#include "train/switchable_router.h"

#include <chrono>
#include <cmath>

#include "adapt/svf_overlay_build.h"
#include "adapt/svf_targets.h"
#include "model/profiles.h"
#include "tokenizer/binary_form.h"

namespace trinity::train {

namespace {
using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}
}  // namespace

Result<std::shared_ptr<SwitchableRouter>> SwitchableRouter::open(const RouterSource& src,
                                                                 SwitchableModelTimes* times) {
  SwitchableModelTimes t;
  auto t0 = Clock::now();
  TRINITY_ASSIGN_OR_RETURN(
      RuntimeProfile profile,
      find_runtime_profile(src.profile.empty() ? default_profile_name() : src.profile));
  TRINITY_RETURN_IF_ERROR(profile_available(profile));
  RouterSource base = src;
  base.artifact.clear();
  base.vector.clear();
  TRINITY_ASSIGN_OR_RETURN(AdaptedModel m, load_adapted_model(base, /*allow_unadapted=*/true));
  t.weights_ms = ms_since(t0);
  t0 = Clock::now();
  const DiskCache cache(src.cache);
  const std::string tok_dir = src.tokenizer.empty() ? src.base : src.tokenizer;
  auto tok = tok::load_tokenizer_cached(tok_dir, &cache);
  if (!tok.ok()) return tok.status().with_context("loading the tokenizer of " + tok_dir);
  t.tokenizer_ms = ms_since(t0);
  t0 = Clock::now();
  TRINITY_ASSIGN_OR_RETURN(auto overlay, build_svf_overlay(*m.weights, src.layer, src.threads));
  t.overlay_ms = ms_since(t0);
  t0 = Clock::now();
  TRINITY_ASSIGN_OR_RETURN(std::unique_ptr<ForwardEngine> engine,
                           make_engine(profile.name, m.weights, engine_options(src, cache, m)));
  TRINITY_RETURN_IF_ERROR(engine->set_svf_overlay(overlay));
  t.engine_ms = ms_since(t0);
  auto r = std::shared_ptr<SwitchableRouter>(new SwitchableRouter());
  r->tokenizer_ = *tok;
  r->engine_ = std::shared_ptr<ForwardEngine>(std::move(engine));
  r->overlay_ = std::move(overlay);
  r->floors_ = {profile.agent_margin_floor, profile.role_margin_floor};
  const auto targets = svf_targets(m.weights->config, r->overlay_->layer);
  r->vector_length_ = router_vector_length(m.weights->config, targets);
  std::vector<float> zeros(static_cast<size_t>(r->vector_length_), 0.0f);
  TRINITY_RETURN_IF_ERROR(r->set_vector(zeros));
  if (times) *times = t;
  return r;
}

Status SwitchableRouter::set_vector(std::span<const float> vector) {
  if (static_cast<int64_t>(vector.size()) != vector_length_)
    return invalid_argument("router vector size mismatch: expected " +
                            std::to_string(vector_length_) + ", got " +
                            std::to_string(vector.size()));
  const int64_t hidden = config().hidden_size;
  const size_t head_start = static_cast<size_t>(vector_length_ - kRouterHeadRows * hidden);
  for (size_t i = head_start; i < vector.size(); ++i)
    if (!std::isfinite(vector[i]))
      return invalid_argument("router vector: head value " + std::to_string(i - head_start) +
                              " is not finite");
  TRINITY_RETURN_IF_ERROR(engine_->set_svf_offsets(vector.first(head_start)));
  std::vector<float> head(vector.begin() + static_cast<std::ptrdiff_t>(head_start), vector.end());
  current_ = std::make_unique<ModelRouter>(tokenizer_, engine_, std::move(head), floors_);
  return ok_status();
}

Result<RouteDecision> SwitchableRouter::route(const std::vector<Message>& messages) const {
  return current_->route(messages);
}

Result<std::vector<RouteDecision>> SwitchableRouter::route_batch(
    const std::vector<std::vector<Message>>& batch) const {
  return current_->route_batch(batch);
}

}  // namespace trinity::train
