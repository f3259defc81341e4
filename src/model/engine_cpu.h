// The `cpu` runtime profile: the fast CPU ForwardEngine (oneDNN GEMMs in the stored dtype, fused
// kernels, batched routing, a token-prefix KV cache). Prefer profiles.h's make_engine().
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "model/engine.h"

namespace trinity {

// Packs the weights (once) and starts the engine. `profile` is "cpu" (bf16 GEMM inputs split
// hi+lo, f32 K/V: within ~1e-5 of float64) or "cpu-bf16" (bf16 GEMM inputs and K/V: fastest,
// ~4e-3). Errors: unknown profile, unsupported shapes or dtypes.
Result<std::unique_ptr<ForwardEngine>> make_cpu_engine(std::shared_ptr<const Qwen3Weights> w,
                                                       const EngineOptions& opt,
                                                       const std::string& profile = "cpu");

}  // namespace trinity
