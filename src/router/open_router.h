// Opens a Router from user-facing options (CLI flags, server config): the model-free
// `mock_tiny` profile, or a Qwen3 base checkpoint adapted by a bundle (--artifact) or a router
// vector (--vector), run by the forward engine of a runtime profile (reference, cpu, ...).
#pragma once

#include <memory>
#include <string>

#include "core/disk_cache.h"
#include "core/stage_times.h"
#include "model/engine.h"
#include "model/weights.h"
#include "router/route.h"

namespace trinity {

struct RouterSource {
  std::string profile;    // "" = the default runtime profile; "mock_tiny" needs nothing else
  std::string base;       // HF Qwen3 checkpoint directory (with tokenizer.json)
  std::string artifact;   // adapted bundle directory (manifest.json), or
  std::string vector;     // router vector (.npy / .safetensors), adapted in memory
  std::string tokenizer;  // tokenizer directory; default: `base`
  int threads = 0;
  int64_t prefix_cache_mb = 1024;  // 0.6B: ~4.4k tokens of f32 KV (cpu), ~8.9k of bf16
  int64_t layer = -1;              // SVF layer for --vector (-1: num_hidden_layers - 2)
  CacheConfig cache;               // tokenizer tables, packed weights, bundle verification memos
};

// The base weights with the adaptation applied (bundle or vector) and the routing head
// [10, hidden]. With neither --artifact nor --vector and `allow_unadapted`, the base weights
// and an empty head (benchmarks of the bare model).
struct AdaptedModel {
  std::shared_ptr<Qwen3Weights> weights;
  std::vector<float> head;
  std::string source;  // "artifact <dir>" | "vector <file>" | "base"
  // What the weights are, for the packed-weights cache key: the sha256 of every base checkpoint
  // file and of config.json, and of the bundle manifest or router vector (+ layer).
  std::string identity;
};
// `times` (optional) receives the load steps: weights, bundle_verify, bundle_apply (or adapt).
Result<AdaptedModel> load_adapted_model(const RouterSource& src, bool allow_unadapted = false,
                                        StageTimes* times = nullptr);

// The engine options of a source: its threads and prefix cache, and the packed-weights cache
// keyed by the model's identity (`cache` must outlive the engine's creation).
EngineOptions engine_options(const RouterSource& src, const DiskCache& cache,
                             const AdaptedModel& m);

// `times` (optional) receives every load step, those of load_adapted_model plus tokenizer and
// engine (weight packing).
Result<std::shared_ptr<Router>> open_router(const RouterSource& src, StageTimes* times = nullptr);

}  // namespace trinity
