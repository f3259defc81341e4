// Synthetic Qwen3 checkpoints with seeded random weights: the same architecture as the real
// model, so the whole pipeline runs (and is benchmarked) without downloaded weights.
#pragma once

#include <string>

#include "core/dtype.h"
#include "core/status.h"
#include "core/thread_pool.h"
#include "io/qwen3_config.h"

namespace trinity {

// "tiny": hidden 64, 4 layers, GQA 4/2, head_dim 24, real vocab; "qwen3-0.6b": the real shape.
Result<Qwen3Config> synthetic_preset(const std::string& name);

struct SyntheticOptions {
  uint64_t seed = 0;
  DType dtype = DType::kBF16;
  double matrix_std = 0.02;  // matrices and embedding ~ N(0, std^2)
  double norm_std = 0.1;     // norm weights ~ 1 + N(0, std^2)
};

// Writes config.json, generation_config.json and model.safetensors into `dir` (which must
// exist). Matrices are [out, in] as in HF. Every file is written atomically.
Status write_synthetic_checkpoint(const std::string& dir, const Qwen3Config& config,
                                  const SyntheticOptions& opt, ThreadPool& pool);

}  // namespace trinity
