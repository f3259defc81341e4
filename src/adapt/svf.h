// Singular-value fine-tuning (SVF): W = U diag(S) Vh, S' = S * (1 + z),
// W' = U diag(S') Vh * (sum(S) / sum(S')).
//
// The eigen route (every shape): X = W when m >= n, else X = W^T, so X is [p, k] with k =
// min(m, n). G = X^T X in f64 (cpu::gram_f64_upper: AVX-512, products exact, f64 sums), eigh
// in f64 (LAPACKE dsyevd) gives S = sqrt(eig) and the singular vectors V of X's small side;
// then X' = X + X D with D = V diag(f - 1) V^T, f = (1 + z) * sum(S) / sum(S'). U is never
// formed. D is computed in f64 (as two Gram products, for the signs of f - 1) and the GEMM X D
// runs through oneDNN: for bf16 sources D is split into bf16 hi + lo (|D - hi - lo| <= 2^-17
// |D|) and both go through the bf16 matrix units with exact products and f32 sums; f32/f16
// sources use an f32 GEMM. W' = X' (or X'^T), so the unchanged part of W is carried exactly.
//
// Conditioning: the eigenvalues give sigma_min / sigma_max for free. Below kSvfGramMinRcond the
// Gram's f64 rounding (eps * sigma_max^2) would reach sigma_min^2, so the decomposition falls
// back to the direct path: LAPACKE thin sgesdd on an f32 copy (the pre-eigen-route method).
// How the threshold was measured: tests/adapt/svf_accuracy_test.cpp and docs/performance.md.
#pragma once

#include <functional>
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

// sigma_min / sigma_max (from the Gram's eigenvalues) below which the decomposition falls back
// to the direct sgesdd path.
constexpr double kSvfGramMinRcond = 1e-6;

struct SvfFactors {
  int64_t m = 0, n = 0, k = 0;
  bool gram = false;        // the eigen route (else the direct sgesdd fallback)
  bool transposed = false;  // gram of W W^T (m < n): v holds left singular vectors
  double rcond = 0;         // sigma_min / sigma_max as the path computed them
  std::vector<double> s;    // k singular values, descending
  std::vector<float> u;     // direct: m x k row-major
  std::vector<float> vt;    // direct: k x n row-major
  std::vector<double> v;    // gram: k x k column-major, column j = singular vector j
  std::string u_backend, s_backend, v_backend;
  std::string compute_type;  // "f32"
  double elapsed_ms = 0, gram_ms = 0, eigh_ms = 0, direct_ms = 0;
};

struct SvfStats {
  double sum_s = 0, sum_s_prime = 0, scale = 1;
  std::string adapted_backend;
  double elapsed_ms = 0;
};

// Decomposes `w` (HF orientation, f32/bf16/f16; widened exactly). `min_rcond` is the fallback
// threshold (tests pass others to reach both branches).
Result<SvfFactors> svf_decompose(const Weight& w, SvdComputeType type, int threads = 0,
                                 double min_rcond = kSvfGramMinRcond);

// W' (m x n row-major f32, HF orientation) from the factors of `w` and offsets z (size k).
Result<std::vector<float>> svf_reconstruct(const Weight& w, const SvfFactors& f,
                                           std::span<const float> z, SvfStats* stats = nullptr,
                                           int threads = 0);

// Streaming reconstruction of a tall gram-path matrix for several offset vectors in one pass
// over W (the tied embedding and LM head): sink(r0, r1, rows) gets, per block of rows,
// rows[t] = rows [r0, r1) of W'_t (f32, n per row, valid during the call). stats gets one entry
// per offset vector.
using SvfRowSink = std::function<Status(int64_t r0, int64_t r1, const std::vector<const float*>&)>;
Status svf_reconstruct_rows(const Weight& w, const SvfFactors& f,
                            const std::vector<std::span<const float>>& zs, const SvfRowSink& sink,
                            std::vector<SvfStats>* stats = nullptr, int threads = 0);

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
