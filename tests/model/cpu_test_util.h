// Helpers shared by the cpu engine tests: random synthetic checkpoints of arbitrary shapes.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/compare.h"
#include "core/thread_pool.h"
#include "model/profiles.h"
#include "model/synthetic.h"
#include "model/weights.h"

namespace trinity::testing_cpu {

struct ModelShape {
  int64_t hidden, inter, layers, heads, kv_heads, head_dim;
  DType dtype;
  bool tied;
  std::string name() const {
    std::string n;
    for (int64_t v : {hidden, inter, layers, heads, kv_heads, head_dim}) {
      n += std::to_string(v);
      n += '_';
    }
    n += dtype_name(dtype);
    n += tied ? "_tied" : "_untied";
    return n;
  }
};

inline std::shared_ptr<Qwen3Weights> make_model(const ModelShape& s, uint64_t seed,
                                                int64_t vocab = 1000) {
  Qwen3Config c;
  c.hidden_size = s.hidden;
  c.intermediate_size = s.inter;
  c.num_hidden_layers = s.layers;
  c.num_attention_heads = s.heads;
  c.num_key_value_heads = s.kv_heads;
  c.head_dim = s.head_dim;
  c.vocab_size = vocab;
  c.rms_norm_eps = 1e-6;
  c.rope_theta = 1e6;
  c.max_position_embeddings = 40960;
  c.tie_word_embeddings = s.tied;
  const std::string dir = (std::filesystem::path(::testing::TempDir()) /
                           ("trinity_cpu_" + s.name() + "_" + std::to_string(seed)))
                              .string();
  std::filesystem::create_directories(dir);
  SyntheticOptions opt;
  opt.seed = seed;
  opt.dtype = s.dtype;
  ThreadPool pool(2);
  Status st = write_synthetic_checkpoint(dir, c, opt, pool);
  EXPECT_TRUE(st.ok()) << st.message();
  auto w = load_qwen3_weights(dir);
  EXPECT_TRUE(w.ok()) << w.status().message();
  return w.ok() ? *w : nullptr;
}

// An engine of `profile` with `threads` threads and a prefix cache of `cache_mb` MB.
inline std::unique_ptr<ForwardEngine> make_test_engine(std::shared_ptr<const Qwen3Weights> w,
                                                       const std::string& profile = "cpu",
                                                       int threads = 2, int64_t cache_mb = 64) {
  EngineOptions opt;
  opt.threads = threads;
  opt.prefix_cache_mb = cache_mb;
  auto e = make_engine(profile, std::move(w), opt);
  EXPECT_TRUE(e.ok()) << e.status().message();
  return e.ok() ? std::move(*e) : nullptr;
}

inline std::vector<int32_t> random_ids(int64_t n, int64_t vocab, uint64_t seed) {
  std::vector<int32_t> ids(static_cast<size_t>(n));
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto& id : ids) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    id = static_cast<int32_t>(x % static_cast<uint64_t>(vocab));
  }
  return ids;
}

// Relative L2 error of each row (got vs want), the worst row; NaN/Inf fail (common/compare.h).
using trinity::testing::max_row_rel_l2;

}  // namespace trinity::testing_cpu
