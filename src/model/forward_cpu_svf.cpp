// CpuModel under an SVF overlay (svf_overlay.h): the embedding and the overlay layer's seven
// matrices are computed as ((x P) * s) Q^T, so a new router vector is a new s, not new weights.
#include <cstring>

#include "core/dtype.h"
#include "model/forward_cpu.h"
#include "ops/cpu/kernels.h"
#include "ops/cpu/parallel.h"

namespace trinity {

namespace {

// A [rows, cols] row-major f32 matrix transposed, in `dtype` (bf16: rounded to nearest even).
std::vector<uint8_t> transposed_as(const std::vector<float>& a, int64_t rows, int64_t cols,
                                   DType dtype) {
  std::vector<float> t(static_cast<size_t>(rows * cols));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) t[static_cast<size_t>(j * rows + i)] = a[i * cols + j];
  std::vector<uint8_t> out(t.size() * dtype_size(dtype));
  cpu::convert_f32(t.data(), static_cast<int64_t>(t.size()), out.data(), dtype);
  return out;
}

std::vector<uint8_t> as_dtype(const std::vector<float>& a, DType dtype) {
  std::vector<uint8_t> out(a.size() * dtype_size(dtype));
  cpu::convert_f32(a.data(), static_cast<int64_t>(a.size()), out.data(), dtype);
  return out;
}

// Packs a group: the parts' P^T stacked (one input GEMM), and each part's Q (or, for the
// embedding, P itself: x0 = ((E[ids] P) * s) P^T).
Result<CpuModel::SvfGroup> pack_group(const std::vector<const SvfFactor*>& parts, DType dtype,
                                      bool q_is_p) {
  CpuModel::SvfGroup g;
  g.act = dtype;
  std::vector<std::vector<uint8_t>> pts;
  std::vector<cpu::MatrixRef> in_refs;
  for (const SvfFactor* f : parts) {
    pts.push_back(transposed_as(f->p, f->cols, f->k, dtype));  // P^T: [k, cols]
    in_refs.push_back({dtype, pts.back().data(), f->k, f->cols});
    g.k.push_back(f->k);
    g.rows.push_back(q_is_p ? f->cols : f->rows);
    g.s.insert(g.s.end(), static_cast<size_t>(f->k), 1.0f);
  }
  TRINITY_ASSIGN_OR_RETURN(g.in, cpu::PackedMatmul::create(in_refs));
  for (const SvfFactor* f : parts) {
    const std::vector<uint8_t> q = as_dtype(q_is_p ? f->p : f->q, dtype);
    TRINITY_ASSIGN_OR_RETURN(
        auto pm, cpu::PackedMatmul::create({{dtype, q.data(), q_is_p ? f->cols : f->rows, f->k}}));
    g.out.push_back(std::move(pm));
  }
  return g;
}

}  // namespace

int64_t CpuModel::SvfGroup::k_total() const {
  int64_t t = 0;
  for (int64_t x : k) t += x;
  return t;
}

Status CpuModel::set_svf(std::shared_ptr<const SvfOverlay> overlay) {
  svf_.reset();
  svf_overlay_.reset();
  if (!overlay) return ok_status();
  const Qwen3Config& c = w_->config;
  if (overlay->layer < 0 || overlay->layer >= c.num_hidden_layers)
    return invalid_argument("svf overlay: layer " + std::to_string(overlay->layer) +
                            " outside the model");
  const auto& m = overlay->mats;
  auto st = std::make_unique<SvfState>();
  st->layer = overlay->layer;
  const DType dt = act_;  // f32 factors for f32 activations, bf16 for bf16 ones
  TRINITY_ASSIGN_OR_RETURN(st->embed, pack_group({&overlay->embed}, DType::kF32, true));
  TRINITY_ASSIGN_OR_RETURN(st->qkv, pack_group({&m[kSvfQ], &m[kSvfK], &m[kSvfV]}, dt, false));
  TRINITY_ASSIGN_OR_RETURN(st->o, pack_group({&m[kSvfO]}, dt, false));
  TRINITY_ASSIGN_OR_RETURN(st->gate_up, pack_group({&m[kSvfGate], &m[kSvfUp]}, dt, false));
  TRINITY_ASSIGN_OR_RETURN(st->down, pack_group({&m[kSvfDown]}, dt, false));
  // Shapes must be the layer's: q|k|v out = q_dim + 2 kv_dim, etc.
  if (st->embed.rows[0] != c.hidden_size || st->qkv.in->k() != c.hidden_size ||
      st->o.in->k() != c.q_dim() || st->gate_up.in->k() != c.hidden_size ||
      st->down.in->k() != c.intermediate_size ||
      st->qkv.rows != std::vector<int64_t>{c.q_dim(), c.kv_dim(), c.kv_dim()})
    return invalid_argument("svf overlay: factor shapes do not match the model");
  svf_ = std::move(st);
  svf_overlay_ = std::move(overlay);
  return ok_status();
}

Status CpuModel::set_svf_scales(const SvfScales& scales) {
  if (!svf_) return invalid_argument("set_svf_scales: no overlay installed");
  auto fill = [](SvfGroup& g, std::initializer_list<const std::vector<float>*> parts) -> Status {
    size_t off = 0;
    for (const auto* p : parts) {
      if (off + p->size() > g.s.size()) return invalid_argument("svf scales: size mismatch");
      std::memcpy(g.s.data() + off, p->data(), p->size() * sizeof(float));
      off += p->size();
    }
    return off == g.s.size() ? ok_status() : invalid_argument("svf scales: size mismatch");
  };
  const auto& m = scales.mats;
  TRINITY_RETURN_IF_ERROR(fill(svf_->embed, {&scales.embed}));
  TRINITY_RETURN_IF_ERROR(fill(svf_->qkv, {&m[kSvfQ], &m[kSvfK], &m[kSvfV]}));
  TRINITY_RETURN_IF_ERROR(fill(svf_->o, {&m[kSvfO]}));
  TRINITY_RETURN_IF_ERROR(fill(svf_->gate_up, {&m[kSvfGate], &m[kSvfUp]}));
  return fill(svf_->down, {&m[kSvfDown]});
}

Status CpuModel::run_mm(cpu::PackedMatmul& mm, DType src_dtype, const void* src, int64_t m,
                        float* dst, int64_t ldd) {
  if (src_dtype == DType::kF32 && mm.act_dtype() == DType::kBF16)
    return mm.run_split(static_cast<const float*>(src), m, dst, ldd, threads_, split_);
  return mm.run(src, m, dst, ldd, threads_);
}

Status CpuModel::svf_gemm(SvfGroup& g, const void* src, int64_t m, float* dst, int64_t ldd) {
  const int64_t kt = g.k_total();
  const size_t asz = dtype_size(g.act);
  float* t = scratch(svf_t_, static_cast<size_t>(m * kt));
  TRINITY_RETURN_IF_ERROR(run_mm(*g.in, g.act, src, m, t, kt));  // x P (all parts at once)
  uint8_t* ts = scratch(svf_ts_, static_cast<size_t>(m * kt) * asz);
  for (size_t p = 0, col = 0, out_col = 0; p < g.out.size(); ++p) {
    const int64_t k = g.k[p];
    const float* s = g.s.data() + col;
    // (x P_i) * s_i, contiguous [m, k_i] in the group's activation dtype.
    cpu::parallel_for(threads_, m, [&](int64_t b, int64_t e) {
      std::vector<float> row(static_cast<size_t>(k));
      for (int64_t r = b; r < e; ++r) {
        const float* tr = t + r * kt + static_cast<int64_t>(col);
        for (int64_t j = 0; j < k; ++j) row[static_cast<size_t>(j)] = tr[j] * s[j];
        cpu::convert_f32(row.data(), k, ts + static_cast<size_t>(r * k) * asz, g.act);
      }
    });
    TRINITY_RETURN_IF_ERROR(run_mm(*g.out[p], g.act, ts, m, dst + out_col, ldd));  // . Q_i^T
    col += static_cast<size_t>(k);
    out_col += static_cast<size_t>(g.rows[p]);
  }
  return ok_status();
}

Status CpuModel::layer_gemm(int64_t l, cpu::PackedMatmul& mm, SvfGroup SvfState::*group,
                            const void* src, int64_t m, float* dst, int64_t ldd) {
  if (svf_ && l == svf_->layer) return svf_gemm((*svf_).*group, src, m, dst, ldd);
  return gemm(mm, src, m, dst, ldd);
}

}  // namespace trinity
