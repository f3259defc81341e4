#include "adapt/svf_overlay_build.h"

#include <cblas.h>

#include <chrono>

#include "adapt/svf.h"

namespace trinity {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::vector<float> widened(const Weight& w) {
  std::vector<float> out(static_cast<size_t>(w.numel()));
  for (int64_t r = 0; r < w.rows(); ++r) w.row_to_f32(r, out.data() + r * w.cols());
  return out;
}

// Column j of the Gram route's k x k column-major eigenvectors, as a row-major [k, k] matrix
// whose column j is that vector.
std::vector<float> eigvecs_row_major(const SvfFactors& f) {
  const int64_t k = f.k;
  std::vector<float> out(static_cast<size_t>(k * k));
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < k; ++j)
      out[static_cast<size_t>(i * k + j)] = static_cast<float>(f.v[static_cast<size_t>(i + j * k)]);
  return out;
}

}  // namespace

Result<SvfFactor> build_svf_factor(const Weight& w, bool with_q, int threads) {
  TRINITY_ASSIGN_OR_RETURN(SvfFactors f, svf_decompose(w, SvdComputeType::kF32, threads));
  SvfFactor out;
  out.rows = w.rows(), out.cols = w.cols(), out.k = f.k, out.s = f.s;
  const int64_t m = w.rows(), n = w.cols(), k = f.k;
  if (!f.gram) {  // direct: W = U diag(S) Vt -> P = Vt^T, Q = U diag(S)
    out.p.resize(static_cast<size_t>(n * k));
    for (int64_t j = 0; j < k; ++j)
      for (int64_t c = 0; c < n; ++c)
        out.p[static_cast<size_t>(c * k + j)] = f.vt[static_cast<size_t>(j * n + c)];
    if (with_q) {
      out.q = f.u;
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < k; ++j)
          out.q[static_cast<size_t>(i * k + j)] *= static_cast<float>(f.s[static_cast<size_t>(j)]);
    }
    return out;
  }
  const std::vector<float> vecs = eigvecs_row_major(f);
  if (!f.transposed) {  // rows >= cols: P = V, Q = W V = U diag(S)
    out.p = vecs;
    if (with_q) {
      const std::vector<float> wf = widened(w);
      out.q.resize(static_cast<size_t>(m * k));
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(m),
                  static_cast<int>(k), static_cast<int>(n), 1.0f, wf.data(), static_cast<int>(n),
                  out.p.data(), static_cast<int>(k), 0.0f, out.q.data(), static_cast<int>(k));
    }
    return out;
  }
  // rows < cols: the eigenvectors are U; Q = U, P = W^T U = V diag(S).
  out.q = vecs;
  const std::vector<float> wf = widened(w);
  out.p.resize(static_cast<size_t>(n * k));
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, static_cast<int>(n), static_cast<int>(k),
              static_cast<int>(m), 1.0f, wf.data(), static_cast<int>(n), out.q.data(),
              static_cast<int>(k), 0.0f, out.p.data(), static_cast<int>(k));
  if (!with_q) out.q.clear();
  return out;
}

Result<std::shared_ptr<const SvfOverlay>> build_svf_overlay(const Qwen3Weights& w, int64_t layer,
                                                            int threads,
                                                            SvfOverlayBuildStats* stats) {
  const auto t0 = Clock::now();
  const Qwen3Config& c = w.config;
  if (layer < 0) layer = c.num_hidden_layers - 2;
  if (layer < 0 || layer >= c.num_hidden_layers)
    return invalid_argument("svf overlay: layer " + std::to_string(layer) + " outside [0, " +
                            std::to_string(c.num_hidden_layers) + ")");
  auto overlay = std::make_shared<SvfOverlay>();
  overlay->layer = layer;
  TRINITY_ASSIGN_OR_RETURN(overlay->embed, build_svf_factor(w.embed, /*with_q=*/false, threads));
  const Qwen3Layer& L = w.layers[static_cast<size_t>(layer)];
  const Weight* mats[kSvfMatrixCount] = {&L.q_proj,    &L.k_proj,  &L.v_proj,   &L.o_proj,
                                         &L.gate_proj, &L.up_proj, &L.down_proj};
  for (int i = 0; i < kSvfMatrixCount; ++i) {
    TRINITY_ASSIGN_OR_RETURN(overlay->mats[static_cast<size_t>(i)],
                             build_svf_factor(*mats[i], /*with_q=*/true, threads));
  }
  // The overlay consumes the router vector's offsets in svf_targets order.
  const auto targets = svf_targets(c, layer);
  if (overlay->offset_count() + targets.back().k != svf_offset_count(targets))
    return internal_error("svf overlay: offset count does not match the SVF targets");
  if (stats) stats->total_ms = ms_since(t0);
  return std::shared_ptr<const SvfOverlay>(std::move(overlay));
}

}  // namespace trinity
