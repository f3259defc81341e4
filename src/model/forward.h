// The Qwen3 forward pass (no lm_head): token ids -> final-RMSNorm hidden states.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/svf_overlay.h"
#include "model/weights.h"

namespace trinity {

// Called with every named intermediate ("embed", "attn_norm", "q", "k", "v", "q_normed",
// "k_normed", "q_rope", "k_rope", "attn_out", "o_proj", "resid_attn", "mlp_norm", "gate", "up",
// "act", "down", "resid_mlp", "final_norm"); layer is -1 outside the layers. data is row-major
// [rows, cols] f32.
using DumpHook = std::function<void(const std::string& name, int layer, const float* data,
                                    int64_t rows, int64_t cols)>;

// Reference profile: scalar, obvious code that mirrors Hugging Face Qwen3 line by line.
// Weights are widened to f32 as they are read; activations are f32; dot products accumulate
// in f64 and are rounded once. Writes [ids.size(), hidden] floats to out.
// With `svf`, the embedding and the overlay layer's matrices are computed from the overlay's
// factors: x W'^T = ((x P) * s) Q^T, every dot product in f64 (svf_overlay.h).
Status forward_reference(const Qwen3Weights& w, std::span<const int32_t> ids, float* out,
                         const DumpHook* hook = nullptr, const SvfApplied* svf = nullptr);

// Validates ids against the vocabulary: "token id X at position P is outside [0, vocab)".
Status check_token_ids(const Qwen3Config& c, std::span<const int32_t> ids);

// RoPE tables as transformers computes them (inv_freq and angles in f32):
// cos/sin [n_pos, head_dim/2] for positions start..start+n_pos-1.
void rope_tables(const Qwen3Config& c, int64_t start, int64_t n_pos, std::vector<float>* cos_t,
                 std::vector<float>* sin_t);

}  // namespace trinity
