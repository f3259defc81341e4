#include "router/open_router.h"

#include "adapt/svf.h"
#include "core/file_util.h"
#include "model/profiles.h"
#include "router/mock_tiny.h"
#include "router/model_router.h"

namespace trinity {

Result<std::shared_ptr<Router>> open_router(const RouterSource& src) {
  if (src.profile == "mock_tiny")
    return std::shared_ptr<Router>(std::make_shared<MockTinyRouter>());
  TRINITY_ASSIGN_OR_RETURN(
      RuntimeProfile profile,
      find_runtime_profile(src.profile.empty() ? default_profile_name() : src.profile));
  TRINITY_RETURN_IF_ERROR(profile_available(profile));
  if (src.base.empty())
    return invalid_argument(
        "profile '" + profile.name +
        "' needs --base DIR (a Qwen3 checkpoint); only mock_tiny runs without one");
  if (src.artifact.empty() == src.vector.empty())
    return invalid_argument("give exactly one of --artifact DIR or --vector FILE");
  TRINITY_ASSIGN_OR_RETURN(std::shared_ptr<Qwen3Weights> w, load_qwen3_weights(src.base));
  std::vector<float> head;
  if (!src.vector.empty()) {
    auto targets = svf_targets(w->config, src.layer);
    TRINITY_ASSIGN_OR_RETURN(RouterVector rv, load_router_vector(src.vector, w->config, targets));
    TRINITY_RETURN_IF_ERROR(adapt_weights_in_memory(*w, rv, targets).with_context(src.vector));
    head = std::move(rv.head);
  } else {
    return unsupported("--artifact is not wired yet");
  }
  const std::string tok_dir = src.tokenizer.empty() ? src.base : src.tokenizer;
  auto tok = tok::Tokenizer::load(tok_dir);
  if (!tok.ok()) return tok.status().with_context("loading the tokenizer of " + tok_dir);
  EngineOptions eo;
  eo.threads = src.threads;
  eo.prefix_cache_mb = src.prefix_cache_mb;
  TRINITY_ASSIGN_OR_RETURN(std::unique_ptr<ForwardEngine> engine, make_engine(profile.name, w, eo));
  ReflexFloors floors{profile.agent_margin_floor, profile.role_margin_floor};
  return std::shared_ptr<Router>(std::make_shared<ModelRouter>(
      *tok, std::shared_ptr<ForwardEngine>(std::move(engine)), std::move(head), floors));
}

}  // namespace trinity
