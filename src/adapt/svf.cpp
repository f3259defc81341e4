#include "adapt/svf.h"

#include <cblas.h>
#include <lapacke.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

namespace trinity {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

constexpr int64_t kRowBlock = 8192;

// Rows [r0, r1) of `w` widened to f32 (exact for bf16/f16).
void widen_rows_f32(const Weight& w, int64_t r0, int64_t r1, float* out) {
  const int64_t n = w.cols();
  const size_t count = static_cast<size_t>((r1 - r0) * n);
  if (w.dtype == DType::kF32) {
    std::memcpy(out, w.data + static_cast<size_t>(r0 * n) * 4, count * 4);
  } else if (w.dtype == DType::kBF16) {
    const uint8_t* p = w.data + static_cast<size_t>(r0 * n) * 2;
    for (size_t i = 0; i < count; ++i) {
      uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      out[i] = bf16_to_f32(h);
    }
  } else {
    for (int64_t r = r0; r < r1; ++r) w.row_to_f32(r, out + (r - r0) * n);
  }
}

void widen_rows_f64(const Weight& w, int64_t r0, int64_t r1, float* tmp, double* out) {
  widen_rows_f32(w, r0, r1, tmp);
  const size_t count = static_cast<size_t>((r1 - r0) * w.cols());
  for (size_t i = 0; i < count; ++i) out[i] = tmp[i];
}

Status check_weight(const Weight& w) {
  if (w.empty() || w.shape.size() != 2 || w.rows() <= 0 || w.cols() <= 0)
    return invalid_argument("SVF source must be a non-empty 2-D matrix, got shape " +
                            shape_to_string(w.shape));
  if (w.dtype != DType::kF32 && w.dtype != DType::kBF16 && w.dtype != DType::kF16)
    return unsupported(std::string("SVF source dtype ") + dtype_name(w.dtype) +
                       " (supported: F32, BF16, F16)");
  return ok_status();
}

Result<SvfFactors> decompose_gram(const Weight& w) {
  SvfFactors f;
  const int64_t m = w.rows(), n = w.cols();
  f.m = m, f.n = n, f.k = n, f.gram = true;
  std::vector<double> g(static_cast<size_t>(n * n), 0.0);
  const int64_t rb = std::min<int64_t>(kRowBlock, m);
  std::vector<float> tmp(static_cast<size_t>(rb * n));
  std::vector<double> blk(static_cast<size_t>(rb * n));
  for (int64_t r0 = 0; r0 < m; r0 += rb) {
    const int64_t r1 = std::min(m, r0 + rb);
    widen_rows_f64(w, r0, r1, tmp.data(), blk.data());
    // Row-major [rows, n] block == column-major X = block^T [n, rows]; G += X X^T.
    cblas_dsyrk(CblasColMajor, CblasUpper, CblasNoTrans, static_cast<int>(n),
                static_cast<int>(r1 - r0), 1.0, blk.data(), static_cast<int>(n), 1.0, g.data(),
                static_cast<int>(n));
  }
  std::vector<double> evals(static_cast<size_t>(n));
  const lapack_int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'U', static_cast<lapack_int>(n),
                                         g.data(), static_cast<lapack_int>(n), evals.data());
  if (info != 0)
    return internal_error("dsyevd failed (info " + std::to_string(info) + ") on " +
                          shape_to_string(w.shape));
  // Ascending eigenvalues -> descending singular values.
  f.s.resize(static_cast<size_t>(n));
  f.v.resize(static_cast<size_t>(n * n));
  for (int64_t j = 0; j < n; ++j) {
    const int64_t src = n - 1 - j;
    f.s[static_cast<size_t>(j)] = std::sqrt(std::max(0.0, evals[static_cast<size_t>(src)]));
    std::memcpy(&f.v[static_cast<size_t>(j * n)], &g[static_cast<size_t>(src * n)],
                static_cast<size_t>(n) * sizeof(double));
  }
  f.u_backend = "none (W' = W + W V diag(f-1) V^T; U never formed)";
  f.s_backend = "openblas:dsyrk(f64 gram)+lapacke-openblas:dsyevd";
  f.v_backend = f.s_backend;
  return f;
}

Result<SvfFactors> decompose_direct(const Weight& w) {
  SvfFactors f;
  const int64_t m = w.rows(), n = w.cols(), k = std::min(m, n);
  f.m = m, f.n = n, f.k = k;
  std::vector<float> a(static_cast<size_t>(m * n));
  widen_rows_f32(w, 0, m, a.data());
  std::vector<float> s(static_cast<size_t>(k));
  f.u.resize(static_cast<size_t>(m * k));
  f.vt.resize(static_cast<size_t>(k * n));
  // Row-major W [m, n] is column-major W^T [n, m] = U~ S V~^T, so W = V~ S U~^T: LAPACK's "U"
  // (n x k, column-major) is our Vt (k x n, row-major) and its "VT" (k x m) is our U (m x k).
  const lapack_int info =
      LAPACKE_sgesdd(LAPACK_COL_MAJOR, 'S', static_cast<lapack_int>(n), static_cast<lapack_int>(m),
                     a.data(), static_cast<lapack_int>(n), s.data(), f.vt.data(),
                     static_cast<lapack_int>(n), f.u.data(), static_cast<lapack_int>(k));
  if (info != 0)
    return internal_error("sgesdd failed (info " + std::to_string(info) + ") on " +
                          shape_to_string(w.shape));
  f.s.assign(s.begin(), s.end());
  f.u_backend = f.s_backend = f.v_backend = "lapacke-openblas:sgesdd";
  return f;
}

}  // namespace

Result<SvdComputeType> parse_svd_compute_type(const std::string& s) {
  if (s == "f32") return SvdComputeType::kF32;
  if (s == "source") return SvdComputeType::kSource;
  return invalid_argument("--svd-compute-type must be f32 or source, got '" + s + "'");
}

const char* svd_compute_type_name(SvdComputeType t) {
  return t == SvdComputeType::kF32 ? "f32" : "source";
}

Result<SvfFactors> svf_decompose(const Weight& w, SvdComputeType type) {
  TRINITY_RETURN_IF_ERROR(check_weight(w));
  const auto t0 = Clock::now();
  const int64_t m = w.rows(), n = w.cols();
  // Stored weights are F32/BF16/F16, so both compute types decompose f32 values (the source
  // dtype widened exactly); the Gram step of the tall path always accumulates in f64.
  Result<SvfFactors> f = (m >= kSvfGramRatio * n) ? decompose_gram(w) : decompose_direct(w);
  if (!f.ok()) return f.status();
  f->compute_type = svd_compute_type_name(type);
  f->elapsed_ms = ms_since(t0);
  return f;
}

Result<std::vector<float>> svf_reconstruct(const Weight& w, const SvfFactors& f,
                                           std::span<const float> z, SvfStats* stats) {
  TRINITY_RETURN_IF_ERROR(check_weight(w));
  const auto t0 = Clock::now();
  const int64_t m = w.rows(), n = w.cols(), k = f.k;
  if (f.m != m || f.n != n)
    return invalid_argument("SVF factors are for [" + std::to_string(f.m) + ", " +
                            std::to_string(f.n) + "], weight is " + shape_to_string(w.shape));
  if (static_cast<int64_t>(z.size()) != k)
    return invalid_argument("SVF offsets: expected " + std::to_string(k) + ", got " +
                            std::to_string(z.size()));
  double sum_s = 0, sum_sp = 0;
  for (int64_t j = 0; j < k; ++j) {
    sum_s += f.s[static_cast<size_t>(j)];
    sum_sp += f.s[static_cast<size_t>(j)] * (1.0 + static_cast<double>(z[static_cast<size_t>(j)]));
  }
  if (!(sum_sp != 0.0) || !std::isfinite(sum_sp))
    return invalid_argument("SVF: sum(S') is " + std::to_string(sum_sp) + " for " +
                            shape_to_string(w.shape) + "; cannot normalize");
  const double scale = sum_s / sum_sp;
  std::vector<double> g(static_cast<size_t>(k));  // f - 1 per singular direction
  for (int64_t j = 0; j < k; ++j)
    g[static_cast<size_t>(j)] =
        (1.0 + static_cast<double>(z[static_cast<size_t>(j)])) * scale - 1.0;

  std::vector<float> out(static_cast<size_t>(m * n));
  std::string backend;
  if (f.gram) {
    // D = V diag(g) V^T in f64, then W' = W + W D in f32 row blocks.
    std::vector<double> vs(f.v);
    for (int64_t j = 0; j < k; ++j)
      for (int64_t i = 0; i < n; ++i)
        vs[static_cast<size_t>(i + j * n)] *= g[static_cast<size_t>(j)];
    std::vector<double> d(static_cast<size_t>(n * n));
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, static_cast<int>(n), static_cast<int>(n),
                static_cast<int>(k), 1.0, vs.data(), static_cast<int>(n), f.v.data(),
                static_cast<int>(n), 0.0, d.data(), static_cast<int>(n));
    std::vector<float> df(d.begin(), d.end());  // symmetric: orientation does not matter
    const int64_t rb = std::min<int64_t>(kRowBlock, m);
    std::vector<float> blk(w.dtype == DType::kF32 ? 0 : static_cast<size_t>(rb * n));
    for (int64_t r0 = 0; r0 < m; r0 += rb) {
      const int64_t r1 = std::min(m, r0 + rb);
      float* c = out.data() + r0 * n;
      const float* a;
      if (w.dtype == DType::kF32) {
        a = reinterpret_cast<const float*>(w.data) + r0 * n;
        std::memcpy(c, a, static_cast<size_t>((r1 - r0) * n) * 4);
      } else {
        widen_rows_f32(w, r0, r1, blk.data());
        std::memcpy(c, blk.data(), static_cast<size_t>((r1 - r0) * n) * 4);
        a = blk.data();
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(r1 - r0),
                  static_cast<int>(n), static_cast<int>(n), 1.0f, a, static_cast<int>(n), df.data(),
                  static_cast<int>(n), 1.0f, c, static_cast<int>(n));
    }
    backend = "openblas:sgemm(W + W*D, D = V diag(f-1) V^T in f64)";
  } else {
    // W' = W + (U diag(S (f - 1))) Vt.
    std::vector<float> us(f.u);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < k; ++j)
        us[static_cast<size_t>(i * k + j)] =
            static_cast<float>(us[static_cast<size_t>(i * k + j)] * f.s[static_cast<size_t>(j)] *
                               g[static_cast<size_t>(j)]);
    widen_rows_f32(w, 0, m, out.data());
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
                static_cast<int>(k), 1.0f, us.data(), static_cast<int>(k), f.vt.data(),
                static_cast<int>(n), 1.0f, out.data(), static_cast<int>(n));
    backend = "openblas:sgemm(W + U diag(S(f-1)) Vt)";
  }
  if (stats) {
    stats->sum_s = sum_s;
    stats->sum_s_prime = sum_sp;
    stats->scale = scale;
    stats->adapted_backend = backend;
    stats->elapsed_ms = ms_since(t0);
  }
  return out;
}

Result<std::vector<float>> svf_adapt(const Weight& source, std::span<const float> z,
                                     SvdComputeType type) {
  TRINITY_ASSIGN_OR_RETURN(SvfFactors f, svf_decompose(source, type));
  return svf_reconstruct(source, f, z);
}

Result<RouterVector> load_router_vector(const std::string& path, const Qwen3Config& config,
                                        const std::vector<SvfTarget>& targets) {
  return load_router_vector(path, svf_offset_count(targets), config.hidden_size);
}

Result<const Weight*> svf_source_weight(const Qwen3Weights& w, const SvfTarget& t) {
  if (t.hf_name == kHfEmbedName) return &w.embed;
  if (t.hf_name == kHfLmHeadName) return &w.lm_head;
  auto& mw = const_cast<Qwen3Weights&>(w);
  for (auto& slot : mw.slots())
    if (slot.hf_name == t.hf_name) {
      if (slot.weight->shape != t.hf_shape)
        return mismatch("SVF target " + t.hf_name + ": expected " + shape_to_string(t.hf_shape) +
                        ", got " + shape_to_string(slot.weight->shape));
      return static_cast<const Weight*>(slot.weight);
    }
  return not_found("SVF target " + t.hf_name +
                   " is not a weight of the model (layer out of range?)");
}

Status adapt_weights_in_memory(Qwen3Weights& w, const RouterVector& rv,
                               const std::vector<SvfTarget>& targets, SvdComputeType type) {
  if (static_cast<int64_t>(rv.offsets.size()) != svf_offset_count(targets))
    return invalid_argument("router vector size mismatch: expected " +
                            std::to_string(svf_offset_count(targets)) + " offsets, got " +
                            std::to_string(rv.offsets.size()));
  for (const SvfTarget& t : targets) {
    if (t.index == 9) continue;  // the LM head is not used by routing
    TRINITY_ASSIGN_OR_RETURN(const Weight* src, svf_source_weight(w, t));
    std::span<const float> z(rv.offsets.data() + t.offset_start,
                             static_cast<size_t>(t.offset_end - t.offset_start));
    auto adapted = svf_adapt(*src, z, type);
    if (!adapted.ok()) return adapted.status().with_context(t.hf_name);
    Weight nw = make_owned_weight(*adapted, src->shape, src->dtype);
    *const_cast<Weight*>(src) = std::move(nw);
  }
  return ok_status();
}

}  // namespace trinity
