#include "adapt/svf.h"

#include <cblas.h>
#include <lapacke.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "core/huge_alloc.h"
#include "ops/cpu/gram.h"
#include "ops/cpu/kernels.h"
#include "ops/cpu/matmul.h"
#include "ops/cpu/parallel.h"

namespace trinity {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

constexpr int64_t kRowBlock = 256;  // rows of X per reconstruction GEMM

int resolve_threads(int threads) {
  return threads > 0 ? threads : cpu::hardware_threads();
}

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

Status check_weight(const Weight& w) {
  if (w.empty() || w.shape.size() != 2 || w.rows() <= 0 || w.cols() <= 0)
    return invalid_argument("SVF source must be a non-empty 2-D matrix, got shape " +
                            shape_to_string(w.shape));
  if (w.dtype != DType::kF32 && w.dtype != DType::kBF16 && w.dtype != DType::kF16)
    return unsupported(std::string("SVF source dtype ") + dtype_name(w.dtype) +
                       " (supported: F32, BF16, F16)");
  return ok_status();
}

// X = W (m >= n) or X = W^T (m < n): [p, k] with k = min(m, n).
cpu::StridedMatrix gram_view(const Weight& w) {
  const int64_t m = w.rows(), n = w.cols();
  if (m >= n) return {w.dtype, w.data, m, n, n, 1};
  return {w.dtype, w.data, n, m, 1, n};
}

Result<SvfFactors> decompose_gram(const Weight& w, int threads) {
  SvfFactors f;
  const int64_t m = w.rows(), n = w.cols(), k = std::min(m, n);
  f.m = m, f.n = n, f.k = k, f.gram = true, f.transposed = m < n;
  auto t0 = Clock::now();
  std::vector<double> g(static_cast<size_t>(k * k), 0.0);
  cpu::gram_f64_upper(gram_view(w), g.data(), k, threads);
  f.gram_ms = ms_since(t0);
  t0 = Clock::now();
  std::vector<double> evals(static_cast<size_t>(k));
  // The row-major upper triangle is LAPACK's column-major lower one.
  const lapack_int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'L', static_cast<lapack_int>(k),
                                         g.data(), static_cast<lapack_int>(k), evals.data());
  f.eigh_ms = ms_since(t0);
  if (info != 0)
    return internal_error("dsyevd failed (info " + std::to_string(info) + ") on " +
                          shape_to_string(w.shape));
  // Ascending eigenvalues -> descending singular values.
  f.s.resize(static_cast<size_t>(k));
  f.v.resize(static_cast<size_t>(k * k));
  for (int64_t j = 0; j < k; ++j) {
    const int64_t src = k - 1 - j;
    f.s[static_cast<size_t>(j)] = std::sqrt(std::max(0.0, evals[static_cast<size_t>(src)]));
    std::memcpy(&f.v[static_cast<size_t>(j * k)], &g[static_cast<size_t>(src * k)],
                static_cast<size_t>(k) * sizeof(double));
  }
  f.rcond = f.s[0] > 0 ? f.s[static_cast<size_t>(k - 1)] / f.s[0] : 0.0;
  f.u_backend = f.transposed ? "none (W' = W + U diag(f-1) U^T W; V never formed)"
                             : "none (W' = W + W V diag(f-1) V^T; U never formed)";
  f.s_backend =
      std::string("trinity:gram_f64(") + cpu::gram_f64_impl() + ")+lapacke-openblas:dsyevd";
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

// f - 1 per singular direction, f = (1 + z) * sum(S) / sum(S'); fills the normalization stats.
Result<std::vector<double>> offsets_minus_one(const Weight& w, const SvfFactors& f,
                                              std::span<const float> z, SvfStats* stats) {
  const int64_t k = f.k;
  if (f.m != w.rows() || f.n != w.cols())
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
  std::vector<double> g(static_cast<size_t>(k));
  for (int64_t j = 0; j < k; ++j)
    g[static_cast<size_t>(j)] =
        (1.0 + static_cast<double>(z[static_cast<size_t>(j)])) * scale - 1.0;
  if (stats) stats->sum_s = sum_s, stats->sum_s_prime = sum_sp, stats->scale = scale;
  return g;
}

// D = V diag(g) V^T (k x k, full, row-major f64) as two f64 Grams, one per sign of g:
// A = diag(sqrt(g+)) V^T gives A^T A = V diag(g+) V^T.
std::vector<double> correction_matrix(const SvfFactors& f, const std::vector<double>& g,
                                      int threads) {
  const int64_t k = f.k;
  std::vector<double> a(static_cast<size_t>(k * k)), d(a.size(), 0.0), neg(a.size(), 0.0);
  for (int sign : {1, -1}) {
    for (int64_t j = 0; j < k; ++j) {
      const double c = std::sqrt(std::max(0.0, sign * g[static_cast<size_t>(j)]));
      for (int64_t i = 0; i < k; ++i)
        a[static_cast<size_t>(j * k + i)] = c * f.v[static_cast<size_t>(j * k + i)];
    }
    cpu::gram_f64_upper({DType::kF64, a.data(), k, k, k, 1}, sign > 0 ? d.data() : neg.data(), k,
                        threads);
  }
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = i; j < k; ++j) {
      const double v = d[static_cast<size_t>(i * k + j)] - neg[static_cast<size_t>(i * k + j)];
      d[static_cast<size_t>(i * k + j)] = d[static_cast<size_t>(j * k + i)] = v;
    }
  return d;
}

// The GEMM y = X [D_0 | D_1 | ...] through oneDNN. For bf16 X each D_t is split into bf16 hi
// and lo parts stacked along K: y_t = [X, X] [hi_t; lo_t] = X hi_t + X lo_t, summed in the GEMM's
// f32 accumulators (one output block per target, half the output traffic of a hi | lo pair).
// f32/f16 X: D_t in f32, one block per output.
struct CorrectionGemm {
  std::unique_ptr<cpu::PackedMatmul> pm;
  bool split = false;
  std::string backend;
};

Result<CorrectionGemm> correction_gemm(DType xdtype, const std::vector<std::vector<double>>& ds,
                                       int64_t k) {
  CorrectionGemm cg;
  cg.split = xdtype == DType::kBF16;
  std::vector<std::vector<uint16_t>> stacked;  // per target [k, 2k]: row j = [hi row j | lo row j]
  std::vector<std::vector<float>> full;
  std::vector<cpu::MatrixRef> parts;
  for (const auto& d : ds) {
    std::vector<float> d32(d.begin(), d.end());  // symmetric: rows are columns
    if (!cg.split) {
      full.push_back(std::move(d32));
      parts.push_back({DType::kF32, full.back().data(), k, k});
      continue;
    }
    std::vector<uint16_t> st(2 * d32.size());
    for (int64_t j = 0; j < k; ++j)
      cpu::split_bf16(d32.data() + j * k, k, st.data() + j * 2 * k, st.data() + j * 2 * k + k);
    stacked.push_back(std::move(st));
    parts.push_back({DType::kBF16, stacked.back().data(), k, 2 * k});
  }
  TRINITY_ASSIGN_OR_RETURN(cg.pm, cpu::PackedMatmul::create(parts));
  cg.backend = std::string("onednn:") + cg.pm->impl_name() +
               (cg.split ? "(W + [W, W]*[D_hi; D_lo], bf16 split of D = V diag(f-1) V^T in f64)"
                         : "(W + W*D, D = V diag(f-1) V^T in f64, f32 GEMM)");
  return cg;
}

// Rows [r0, r1) of a contiguous [rows, k] matrix of dtype dt, as f32 into out.
void widen_block(DType dt, const uint8_t* x, int64_t k, int64_t r0, int64_t r1, float* out) {
  Weight view;
  view.dtype = dt;
  view.data = x;
  view.shape = {r1, k};
  widen_rows_f32(view, r0, r1, out);
}

// X' = X + X D_t for every t over a contiguous X [rows, k] (dtype dt), in blocks of rows.
Status gram_reconstruct_blocks(DType dt, const uint8_t* x, int64_t rows, int64_t k,
                               CorrectionGemm& cg, size_t outputs, const SvfRowSink& sink,
                               int threads) {
  const int64_t rb = std::min(kRowBlock, rows), nn = cg.pm->n(), es = dtype_size(dt);
  // Huge pages: these blocks are rewritten for every row block (see core/huge_alloc.h).
  using Buf = std::vector<float, HugePageAllocator<float>>;
  Buf y(static_cast<size_t>(rb * nn)), xf(static_cast<size_t>(rb * k));
  std::vector<Buf> outs(outputs, Buf(static_cast<size_t>(rb * k)));
  // The split GEMM's source: each bf16 row of X twice, [x, x] (K = 2k).
  std::vector<uint16_t, HugePageAllocator<uint16_t>> xx(cg.split ? static_cast<size_t>(rb * 2 * k)
                                                                 : 0);
  std::vector<const float*> ptrs;
  for (const auto& o : outs) ptrs.push_back(o.data());
  for (int64_t r0 = 0; r0 < rows; r0 += rb) {
    const int64_t r1 = std::min(rows, r0 + rb), nr = r1 - r0;
    cpu::parallel_for(threads, nr, [&](int64_t b, int64_t e) {
      widen_block(dt, x, k, r0 + b, r0 + e, xf.data() + b * k);
      if (!cg.split) return;
      for (int64_t r = b; r < e; ++r) {
        const uint8_t* xr = x + (r0 + r) * k * es;
        std::memcpy(xx.data() + r * 2 * k, xr, static_cast<size_t>(k) * 2);
        std::memcpy(xx.data() + r * 2 * k + k, xr, static_cast<size_t>(k) * 2);
      }
    });
    const void* src = cg.split            ? static_cast<const void*>(xx.data())
                      : dt == DType::kF16 ? static_cast<const void*>(xf.data())
                                          : x + r0 * k * es;
    TRINITY_RETURN_IF_ERROR(cg.pm->run(src, nr, y.data(), nn, threads));
    cpu::parallel_for(threads, nr, [&](int64_t b, int64_t e) {
      for (size_t t = 0; t < outputs; ++t)
        for (int64_t r = b; r < e; ++r)  // o = x + X D_t, SIMD
          cpu::add_rows(xf.data() + r * k, y.data() + r * nn + static_cast<int64_t>(t) * k, k,
                        outs[t].data() + r * k);
    });
    TRINITY_RETURN_IF_ERROR(sink(r0, r1, ptrs));
  }
  return ok_status();
}

// W' = W + (U diag(S (f - 1))) Vt: the direct (sgesdd) path's reconstruction.
std::vector<float> reconstruct_direct(const Weight& w, const SvfFactors& f,
                                      const std::vector<double>& g) {
  const int64_t m = w.rows(), n = w.cols(), k = f.k;
  std::vector<float> us(f.u), out(static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < k; ++j)
      us[static_cast<size_t>(i * k + j)] =
          static_cast<float>(us[static_cast<size_t>(i * k + j)] * f.s[static_cast<size_t>(j)] *
                             g[static_cast<size_t>(j)]);
  widen_rows_f32(w, 0, m, out.data());
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), 1.0f, us.data(), static_cast<int>(k), f.vt.data(),
              static_cast<int>(n), 1.0f, out.data(), static_cast<int>(n));
  return out;
}

// The gram path for several offset vectors over X (W or its transposed copy), rows to `sink`.
Status reconstruct_gram(const Weight& w, const SvfFactors& f,
                        const std::vector<std::span<const float>>& zs, const uint8_t* x,
                        int64_t rows, const SvfRowSink& sink, std::vector<SvfStats>* stats,
                        int threads) {
  const auto t0 = Clock::now();
  std::vector<std::vector<double>> ds;
  std::vector<SvfStats> st(zs.size());
  for (size_t t = 0; t < zs.size(); ++t) {
    TRINITY_ASSIGN_OR_RETURN(std::vector<double> g, offsets_minus_one(w, f, zs[t], &st[t]));
    ds.push_back(correction_matrix(f, g, threads));
  }
  TRINITY_ASSIGN_OR_RETURN(CorrectionGemm cg, correction_gemm(w.dtype, ds, f.k));
  ds.clear();
  TRINITY_RETURN_IF_ERROR(
      gram_reconstruct_blocks(w.dtype, x, rows, f.k, cg, zs.size(), sink, threads));
  for (SvfStats& s : st) s.adapted_backend = cg.backend, s.elapsed_ms = ms_since(t0);
  if (stats) *stats = std::move(st);
  return ok_status();
}

// W^T [n, m] in w's dtype (the X of a wide matrix).
std::vector<uint8_t> transposed_copy(const Weight& w) {
  const int64_t m = w.rows(), n = w.cols();
  const size_t es = dtype_size(w.dtype);
  std::vector<uint8_t> t(static_cast<size_t>(m * n) * es);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      std::memcpy(t.data() + static_cast<size_t>(j * m + i) * es,
                  w.data + static_cast<size_t>(i * n + j) * es, es);
  return t;
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

Result<SvfFactors> svf_decompose(const Weight& w, SvdComputeType type, int threads,
                                 double min_rcond) {
  TRINITY_RETURN_IF_ERROR(check_weight(w));
  const auto t0 = Clock::now();
  // Stored weights are F32/BF16/F16, so both compute types decompose the source values widened
  // exactly; the Gram accumulates in f64.
  TRINITY_ASSIGN_OR_RETURN(SvfFactors f, decompose_gram(w, resolve_threads(threads)));
  if (f.rcond < min_rcond) {
    const auto t1 = Clock::now();
    TRINITY_ASSIGN_OR_RETURN(SvfFactors d, decompose_direct(w));
    d.gram_ms = f.gram_ms, d.eigh_ms = f.eigh_ms, d.direct_ms = ms_since(t1);
    d.rcond = d.s[0] > 0 ? d.s.back() / d.s[0] : 0.0;
    char why[128];
    std::snprintf(why, sizeof(why), " (fallback: gram sigma_min/sigma_max %.2e < %.0e)", f.rcond,
                  min_rcond);
    d.u_backend += why, d.s_backend += why, d.v_backend += why;
    f = std::move(d);
  }
  f.compute_type = svd_compute_type_name(type);
  f.elapsed_ms = ms_since(t0);
  return f;
}

Result<std::vector<float>> svf_reconstruct(const Weight& w, const SvfFactors& f,
                                           std::span<const float> z, SvfStats* stats, int threads) {
  TRINITY_RETURN_IF_ERROR(check_weight(w));
  const auto t0 = Clock::now();
  const int64_t m = w.rows(), n = w.cols();
  if (!f.gram) {
    SvfStats st;
    TRINITY_ASSIGN_OR_RETURN(std::vector<double> g, offsets_minus_one(w, f, z, &st));
    std::vector<float> out = reconstruct_direct(w, f, g);
    st.adapted_backend = "openblas:sgemm(W + U diag(S(f-1)) Vt)";
    st.elapsed_ms = ms_since(t0);
    if (stats) *stats = st;
    return out;
  }
  std::vector<float> out(static_cast<size_t>(m * n));
  std::vector<SvfStats> st;
  if (!f.transposed) {
    TRINITY_RETURN_IF_ERROR(svf_reconstruct_rows(
        w, f, {z},
        [&](int64_t r0, int64_t r1, const std::vector<const float*>& rows) {
          std::memcpy(out.data() + r0 * n, rows[0], static_cast<size_t>((r1 - r0) * n) * 4);
          return ok_status();
        },
        &st, threads));
  } else {
    const std::vector<uint8_t> xt = transposed_copy(w);  // X = W^T [n, m]; X' = W'^T
    TRINITY_RETURN_IF_ERROR(reconstruct_gram(
        w, f, {z}, xt.data(), n,
        [&](int64_t r0, int64_t r1, const std::vector<const float*>& rows) {
          for (int64_t r = r0; r < r1; ++r)
            for (int64_t i = 0; i < m; ++i)
              out[static_cast<size_t>(i * n + r)] = rows[0][(r - r0) * m + i];
          return ok_status();
        },
        &st, resolve_threads(threads)));
  }
  if (stats) *stats = st[0], stats->elapsed_ms = ms_since(t0);
  return out;
}

Status svf_reconstruct_rows(const Weight& w, const SvfFactors& f,
                            const std::vector<std::span<const float>>& zs, const SvfRowSink& sink,
                            std::vector<SvfStats>* stats, int threads) {
  TRINITY_RETURN_IF_ERROR(check_weight(w));
  if (!f.gram || f.transposed)
    return invalid_argument("svf_reconstruct_rows needs gram-path factors of a tall matrix, got " +
                            shape_to_string(w.shape) + (f.gram ? " (wide)" : " (direct path)"));
  return reconstruct_gram(w, f, zs, w.data, w.rows(), sink, stats, resolve_threads(threads));
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
