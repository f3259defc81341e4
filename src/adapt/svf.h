// Singular-value fine-tuning (SVF): W = U diag(S) Vh, S' = S * (1 + z),
// W' = U diag(S') Vh * (sum(S) / sum(S')).
//
// Two paths, neither of which materializes an m x m U:
//  - direct: LAPACKE thin sgesdd (jobz 'S') over OpenBLAS on an f32 copy, for matrices whose
//    aspect ratio is below kSvfGramRatio (every Qwen3 layer matrix);
//  - gram: for tall matrices ([vocab, hidden]), G = W^T W accumulated in f64 (dsyrk over f64
//    row blocks), eigh in f64 (dsyevd) gives V and S, and W' = W + W * (V diag(f - 1) V^T) with
//    f = (1 + z) * sum(S) / sum(S'), applied in f32 row blocks (sgemm). The f64 Gram keeps the
//    squared condition number harmless; only V (n x n) and the output are allocated.
// Both paths compute W' as W + a correction, so the unchanged part of W is carried exactly.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "adapt/svf_targets.h"
#include "io/router_vector.h"
#include "model/weights.h"

namespace trinity {

enum class SvdComputeType { kF32, kSource };
Result<SvdComputeType> parse_svd_compute_type(const std::string& s);
const char* svd_compute_type_name(SvdComputeType t);  // "f32" | "source"

// max(m, n) / min(m, n) at or above which the Gram path is used.
constexpr int64_t kSvfGramRatio = 8;

struct SvfFactors {
  int64_t m = 0, n = 0, k = 0;
  bool gram = false;
  std::vector<double> s;  // k singular values, descending
  std::vector<float> u;   // direct: m x k row-major
  std::vector<float> vt;  // direct: k x n row-major
  std::vector<double> v;  // gram: n x n column-major, column j = right singular vector j
  std::string u_backend, s_backend, v_backend;
  std::string compute_type;  // "f32"
  double elapsed_ms = 0;
};

struct SvfStats {
  double sum_s = 0, sum_s_prime = 0, scale = 1;
  std::string adapted_backend;
  double elapsed_ms = 0;
};

// Decomposes `w` (HF orientation, f32/bf16/f16; widened to f32, exact for bf16/f16).
Result<SvfFactors> svf_decompose(const Weight& w, SvdComputeType type);

// W' (m x n row-major f32, HF orientation) from the factors of `w` and offsets z (size k).
Result<std::vector<float>> svf_reconstruct(const Weight& w, const SvfFactors& f,
                                           std::span<const float> z, SvfStats* stats = nullptr);

// decompose + reconstruct.
Result<std::vector<float>> svf_adapt(const Weight& source, std::span<const float> z,
                                     SvdComputeType type);

// The router vector split for `targets` (length = sum(k) + 10 * hidden).
Result<RouterVector> load_router_vector(const std::string& path, const Qwen3Config& config,
                                        const std::vector<SvfTarget>& targets);

// The weight a target adapts (for index 9 of a tied model: the embedding).
Result<const Weight*> svf_source_weight(const Qwen3Weights& w, const SvfTarget& t);

// The `--vector` path: replaces the embedding and the seven layer matrices of `w` with owned,
// adapted weights cast to the source dtype. lm_head is not adapted (routing never uses it); for
// tied models it keeps pointing at the original embedding.
Status adapt_weights_in_memory(Qwen3Weights& w, const RouterVector& rv,
                               const std::vector<SvfTarget>& targets,
                               SvdComputeType type = SvdComputeType::kF32);

}  // namespace trinity
