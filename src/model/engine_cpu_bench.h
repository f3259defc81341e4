// The routing benchmark (`trinity bench route`, bench/bench_forward): prefill latency per N,
// the incremental case (prefix cache) and the batched case, for any ForwardEngine.
#pragma once

#include <cstdint>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "model/engine.h"

namespace trinity {

struct RouteBenchOptions {
  std::vector<int64_t> tokens = {32, 128, 512, 2048};
  int repeat = 5;                     // timed repeats per case (one untimed warm-up first)
  int64_t incremental_prefix = 1024;  // incremental case: route prefix, then prefix + extra
  int64_t incremental_extra = 64;     //   (0 disables it)
  int64_t batch = 37;                 // batched case: this many sequences in one call
  int64_t batch_tokens = 28;          //   of about this many tokens (0 disables it)
  uint64_t seed = 1;
};

// FLOPs of one prefill of n tokens (GEMMs + causal attention; no lm_head).
double prefill_flops(const Qwen3Config& c, int64_t n);

// FLOPs of the GEMMs of one route over n tokens (the last layer's o_proj and MLP run for the
// routed row only).
double route_gemm_flops(const Qwen3Config& c, int64_t n);

// Runs the cases cold (prefix cache cleared before each timed call, except where the case is
// about the cache) and returns JSON: {profile, backend_label, threads, model, cases: [{name,
// tokens, median_ms, min_ms, first_ms, tokens_per_s, gflops_per_s, peak_rss_mb, stages_ms,
// gemm_gflops_per_s}], prefix_cache}.
Result<OrderedJson> run_route_bench(ForwardEngine& engine, const RouteBenchOptions& opt);

// Peak resident set size of this process so far, MiB.
double peak_rss_mb();

}  // namespace trinity
