#include "router/open_router.h"

#include <cstdio>

#include "adapt/bundle.h"
#include "adapt/svf.h"
#include "core/file_util.h"
#include "model/profiles.h"
#include "router/mock_tiny.h"
#include "router/model_router.h"
#include "tokenizer/binary_form.h"

namespace trinity {

namespace {

// The base checkpoint's contents: config.json and every safetensors file, by sha256 (memoized
// by file identity, so an unchanged checkpoint is hashed once).
Result<std::string> checkpoint_identity(const Qwen3Weights& w, const DiskCache& cache) {
  std::string id;
  if (!cache.enabled()) return id;  // nothing will be looked up by it
  TRINITY_ASSIGN_OR_RETURN(std::string cfg,
                           sha256_file_memoized(join_path(w.dir, "config.json"), &cache));
  id += "config " + cfg + "\n";
  for (const std::string& f : w.checkpoint->file_paths()) {
    TRINITY_ASSIGN_OR_RETURN(std::string sha, sha256_file_memoized(f, &cache));
    id += "checkpoint " + sha + "\n";
  }
  return id;
}

}  // namespace

Result<AdaptedModel> load_adapted_model(const RouterSource& src, bool allow_unadapted,
                                        StageTimes* times) {
  if (src.base.empty())
    return invalid_argument(
        "--base DIR (a Qwen3 checkpoint) is required; only --profile "
        "mock_tiny runs without one");
  if (!src.artifact.empty() && !src.vector.empty())
    return invalid_argument("give only one of --artifact DIR or --vector FILE");
  if (src.artifact.empty() && src.vector.empty() && !allow_unadapted)
    return invalid_argument("give --artifact DIR (an adapted bundle) or --vector FILE");
  AdaptedModel m;
  StepClock clock(times);
  const DiskCache cache(src.cache);
  TRINITY_ASSIGN_OR_RETURN(m.weights, load_qwen3_weights(src.base));
  TRINITY_ASSIGN_OR_RETURN(m.identity, checkpoint_identity(*m.weights, cache));
  clock.mark("weights");
  if (!src.vector.empty()) {
    auto targets = svf_targets(m.weights->config, src.layer);
    TRINITY_ASSIGN_OR_RETURN(RouterVector rv,
                             load_router_vector(src.vector, m.weights->config, targets));
    TRINITY_RETURN_IF_ERROR(
        adapt_weights_in_memory(*m.weights, rv, targets).with_context(src.vector));
    clock.mark("adapt");
    m.head = std::move(rv.head);
    m.source = "vector " + src.vector;
    m.identity += "vector " + rv.sha256 + " layer " + std::to_string(src.layer) + "\n";
  } else if (!src.artifact.empty()) {
    TRINITY_ASSIGN_OR_RETURN(Bundle bundle, load_bundle(src.artifact, &cache));
    clock.mark("bundle_verify");
    for (const std::string& w : bundle.warnings)
      std::fprintf(stderr, "trinity: warning: %s\n", w.c_str());
    TRINITY_RETURN_IF_ERROR(apply_bundle(*m.weights, bundle).with_context(src.artifact));
    clock.mark("bundle_apply");
    m.head = std::move(bundle.head);
    m.source = "artifact " + src.artifact;
    m.identity += "bundle manifest " + bundle.manifest_sha256 + "\n";
  } else {
    m.source = "base";
    m.identity += "unadapted\n";
  }
  return m;
}

EngineOptions engine_options(const RouterSource& src, const DiskCache& cache,
                             const AdaptedModel& m) {
  EngineOptions eo;
  eo.threads = src.threads;
  eo.prefix_cache_mb = src.prefix_cache_mb;
  eo.cache = &cache;
  eo.weights_identity = m.identity;
  return eo;
}

Result<std::shared_ptr<Router>> open_router(const RouterSource& src, StageTimes* times) {
  if (src.profile == "mock_tiny")
    return std::shared_ptr<Router>(std::make_shared<MockTinyRouter>());
  TRINITY_ASSIGN_OR_RETURN(
      RuntimeProfile profile,
      find_runtime_profile(src.profile.empty() ? default_profile_name() : src.profile));
  TRINITY_RETURN_IF_ERROR(profile_available(profile));
  TRINITY_ASSIGN_OR_RETURN(AdaptedModel m, load_adapted_model(src, false, times));
  StepClock clock(times);
  const std::string tok_dir = src.tokenizer.empty() ? src.base : src.tokenizer;
  const DiskCache cache(src.cache);
  auto tok = tok::load_tokenizer_cached(tok_dir, &cache);
  if (!tok.ok()) return tok.status().with_context("loading the tokenizer of " + tok_dir);
  clock.mark("tokenizer");
  TRINITY_ASSIGN_OR_RETURN(std::unique_ptr<ForwardEngine> engine,
                           make_engine(profile.name, m.weights, engine_options(src, cache, m)));
  clock.mark("engine");
  // Warm-up: one 2-token forward starts the thread team, JIT-compiles the GEMM kernels and
  // brings the code in, so the first real route costs what later ones do (not in the cache).
  {
    const std::vector<int32_t> ids = {0, 1};
    std::vector<float> hidden(static_cast<size_t>(m.weights->config.hidden_size));
    TRINITY_RETURN_IF_ERROR(engine->forward_rows({ids}, {0}, hidden.data()));
    engine->clear_prefix_cache();
  }
  clock.mark("warmup");
  ReflexFloors floors{profile.agent_margin_floor, profile.role_margin_floor};
  return std::shared_ptr<Router>(std::make_shared<ModelRouter>(
      *tok, std::shared_ptr<ForwardEngine>(std::move(engine)), std::move(m.head), floors));
}

}  // namespace trinity
