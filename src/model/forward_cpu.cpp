// The cpu profile's layer pass; read it beside forward_ref.cpp (same steps, fused).
#include "model/forward_cpu.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "core/mmap.h"
#include "model/forward.h"
#include "model/packed_cache.h"
#include "ops/cpu/kernels.h"
#include "ops/cpu/parallel.h"

namespace trinity {

namespace {

cpu::MatrixRef matrix(const Weight& w) {
  return {w.dtype, w.data, w.rows(), w.cols()};
}

std::vector<float> vector_f32(const Weight& w) {
  std::vector<float> v(static_cast<size_t>(w.numel()));
  for (int64_t i = 0; i < w.numel(); ++i) v[i] = w.at(i);
  return v;
}

// Adds the time since the previous mark to a stage.
class StageClock {
 public:
  explicit StageClock(std::array<double, CpuModel::kNumStages>& acc)
      : acc_(acc), t_(std::chrono::steady_clock::now()) {}
  void mark(CpuModel::Stage s) {
    const auto now = std::chrono::steady_clock::now();
    acc_[static_cast<size_t>(s)] += std::chrono::duration<double, std::milli>(now - t_).count();
    t_ = now;
  }

 private:
  std::array<double, CpuModel::kNumStages>& acc_;
  std::chrono::steady_clock::time_point t_;
};

// x += o over rows x dim, rows split over the threads (each element one f32 add: the same bits
// as a serial loop).
void residual_add(float* x, const float* o, int64_t rows, int64_t dim, int threads) {
  cpu::parallel_for(threads, rows, [&](int64_t b, int64_t e) {
    cpu::add_rows(x + b * dim, o + b * dim, (e - b) * dim, x + b * dim);
  });
}

}  // namespace

const char* CpuModel::stage_name(int stage) {
  static const char* const kNames[kNumStages] = {"embed",    "norm",      "gemm_qkv",
                                                 "rope_kv",  "attention", "gemm_o",
                                                 "gemm_mlp", "silu_mul",  "residual"};
  return stage >= 0 && stage < kNumStages ? kNames[stage] : "?";
}

namespace {

// The matrices of one layer in packing order: q|k|v share their input, so do gate|up.
std::vector<std::vector<cpu::MatrixRef>> layer_matrices(const Qwen3Layer& L) {
  return {{matrix(L.q_proj), matrix(L.k_proj), matrix(L.v_proj)},
          {matrix(L.o_proj)},
          {matrix(L.gate_proj), matrix(L.up_proj)},
          {matrix(L.down_proj)}};
}

PackedSpec spec_of(const std::vector<cpu::MatrixRef>& parts) {
  PackedSpec s;
  s.k = parts[0].cols;
  bool all_bf16 = true;
  for (const auto& p : parts) {
    s.n += p.rows;
    all_bf16 = all_bf16 && p.dtype == DType::kBF16;
  }
  s.act = all_bf16 ? DType::kBF16 : DType::kF32;
  return s;
}

// Packs every layer's matrices (4 per layer, in layer_matrices order), from the cache when it
// holds them; a fresh packing is stored there.
Result<std::vector<std::unique_ptr<cpu::PackedMatmul>>> pack_all(const Qwen3Weights& w, int threads,
                                                                 const DiskCache* cache,
                                                                 const std::string& key,
                                                                 std::string* note) {
  std::vector<std::vector<cpu::MatrixRef>> all;
  for (const Qwen3Layer& L : w.layers)
    for (auto& parts : layer_matrices(L)) all.push_back(std::move(parts));
  const bool use_cache = cache && cache->enabled() && !key.empty();
  std::vector<PackedSpec> specs;
  for (const auto& parts : all) specs.push_back(spec_of(parts));
  std::string why;
  if (use_cache) {
    if (auto hit = load_packed(*cache, key, specs, threads, &why)) {
      if (note) *note = "hit";
      return std::move(*hit);
    }
  }
  // The ~10 s of a first 0.6B start should not pass in silence at a terminal (scripts and
  // pipes get a clean stderr).
  if (use_cache && ::isatty(STDERR_FILENO))
    std::fprintf(stderr,
                 "trinity: note: packing the weights for the cpu engine (once: stored in the "
                 "cache %s for later starts)\n",
                 cache->dir().c_str());
  std::vector<std::unique_ptr<cpu::PackedMatmul>> out;
  for (const auto& parts : all) {
    TRINITY_ASSIGN_OR_RETURN(auto pm, cpu::PackedMatmul::create(parts));
    out.push_back(std::move(pm));
  }
  if (note) *note = !use_cache ? "off" : why.empty() ? "miss" : "rebuilt: " + why;
  if (use_cache) {
    std::vector<const cpu::PackedMatmul*> mats;
    for (const auto& pm : out) mats.push_back(pm.get());
    const Status st = store_packed(*cache, key, mats, threads);
    if (!st.ok() && note) *note += " (not stored: " + st.message() + ")";
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<CpuModel>> CpuModel::create(std::shared_ptr<const Qwen3Weights> w,
                                                   int threads, CpuPrecision precision,
                                                   const DiskCache* cache,
                                                   const std::string& cache_key,
                                                   std::string* cache_note) {
  const Qwen3Config& c = w->config;
  if (c.head_dim % 2 != 0 || c.head_dim > cpu::kMaxHeadDim)
    return unsupported("cpu profile: head_dim " + std::to_string(c.head_dim) +
                       " (must be even and <= " + std::to_string(cpu::kMaxHeadDim) + ")");
  auto m = std::unique_ptr<CpuModel>(new CpuModel());
  m->w_ = w;
  m->threads_ = threads > 0 ? threads : cpu::hardware_threads();
  m->precision_ = precision;
  TRINITY_ASSIGN_OR_RETURN(auto packed, pack_all(*w, m->threads_, cache, cache_key, cache_note));
  size_t next = 0;
  for (const Qwen3Layer& L : w->layers) {
    Layer out;
    out.qkv = std::move(packed[next++]);
    out.o = std::move(packed[next++]);
    out.gate_up = std::move(packed[next++]);
    out.down = std::move(packed[next++]);
    out.input_norm = vector_f32(L.input_norm);
    out.post_norm = vector_f32(L.post_norm);
    out.q_norm = vector_f32(L.q_norm);
    out.k_norm = vector_f32(L.k_norm);
    // The packed copies are what the forward reads from now on: drop the checkpoint's pages of
    // these matrices from the resident set (else the 0.6B model counts its 0.9 GB twice).
    for (const Weight* wt :
         {&L.q_proj, &L.k_proj, &L.v_proj, &L.o_proj, &L.gate_proj, &L.up_proj, &L.down_proj})
      if (!wt->owner)
        release_mapped_pages(wt->data, static_cast<size_t>(wt->numel()) * dtype_size(wt->dtype));
    m->layers_.push_back(std::move(out));
  }
  m->final_norm_ = vector_f32(w->final_norm);
  if (!m->layers_.empty()) {
    m->wdt_ = m->layers_[0].qkv->act_dtype();
    m->gemm_impl_ = m->layers_[0].qkv->impl_name();
    for (const Layer& L : m->layers_)
      for (const auto* p : {L.qkv.get(), L.o.get(), L.gate_up.get(), L.down.get()})
        if (p->act_dtype() != m->wdt_)
          return unsupported("cpu profile: the checkpoint mixes bf16 and f32 matrices");
  }
  const bool fast = m->wdt_ == DType::kBF16 && precision == CpuPrecision::kBf16;
  m->act_ = m->kv_ = fast ? DType::kBF16 : DType::kF32;
  return m;
}

std::unique_ptr<KvState> CpuModel::new_kv() const {
  const Qwen3Config& c = w_->config;
  return std::make_unique<KvState>(c.num_hidden_layers, c.kv_dim(), kv_);
}

Status CpuModel::gemm(cpu::PackedMatmul& mm, const void* src, int64_t m, float* dst, int64_t ldd) {
  if (act_ == DType::kF32)
    return mm.run_split(static_cast<const float*>(src), m, dst, ldd, threads_, split_);
  return mm.run(src, m, dst, ldd, threads_);
}

void CpuModel::ensure_rope(int64_t n_pos) {
  if (n_pos <= n_rope_) return;
  const int64_t n = std::max<int64_t>({n_pos, 2 * n_rope_, 256});
  rope_tables(w_->config, 0, n, &cos_, &sin_);  // the same f32 angles as the reference
  n_rope_ = n;
}

Status CpuModel::run(const std::vector<CpuSegment>& segs) {
  const Qwen3Config& c = w_->config;
  const int64_t D = c.hidden_size, H = c.num_attention_heads, KV = c.num_key_value_heads;
  const int64_t hd = c.head_dim, I = c.intermediate_size, qd = c.q_dim(), kvd = c.kv_dim();
  const int64_t nqkv = qd + 2 * kvd, half = hd / 2;
  const float eps = static_cast<float>(c.rms_norm_eps);
  const int T = threads_;
  const size_t asz = dtype_size(act_), ksz = dtype_size(kv_);

  // Rows of the pass: the segments' new tokens, concatenated.
  int64_t M = 0, max_pos = 0;
  for (const auto& s : segs) {
    M += s.n;
    max_pos = std::max(max_pos, s.pos0 + s.n);
  }
  if (M == 0) return ok_status();
  StageClock clock(stage_ms_);
  ensure_rope(max_pos);
  row_seg_.resize(static_cast<size_t>(M));
  row_pos_.resize(static_cast<size_t>(M));
  float* x = scratch(x_, static_cast<size_t>(M * D));
  for (size_t si = 0, r = 0; si < segs.size(); ++si) {
    const auto& s = segs[si];
    TRINITY_CHECK(s.kv->capacity() >= s.pos0 + s.n && s.kv->len() == s.pos0,
                  "CpuModel::run: KV state does not match the segment");
    for (int64_t i = 0; i < s.n; ++i, ++r) {
      row_seg_[r] = static_cast<int64_t>(si);
      row_pos_[r] = s.pos0 + i;
      w_->embed.row_to_f32(s.ids[i], x + r * D);  // inputs_embeds = embed_tokens(input_ids)
    }
  }
  // Rows that reach the output (the last layer's attention output, MLP and final norm).
  std::vector<int64_t> sel;
  for (int64_t r = 0, si = 0; si < static_cast<int64_t>(segs.size()); ++si) {
    const auto& s = segs[static_cast<size_t>(si)];
    if (s.want == CpuSegment::Want::kAll)
      for (int64_t i = 0; i < s.n; ++i) sel.push_back(r + i);
    else if (s.want == CpuSegment::Want::kLast)
      sel.push_back(r + s.n - 1);
    r += s.n;
  }
  const int64_t S = static_cast<int64_t>(sel.size());
  if (svf_) {  // adapted embedding rows: ((E[ids] P) * s) P^T
    float* xe = scratch(svf_x_, static_cast<size_t>(M * D));
    TRINITY_RETURN_IF_ERROR(svf_gemm(svf_->embed, x, M, xe, D));
    std::memcpy(x, xe, static_cast<size_t>(M * D) * sizeof(float));
  }
  clock.mark(kEmbed);

  uint8_t* h = scratch(h_, static_cast<size_t>(M * std::max(D, I)) * asz);
  float* qkv = scratch(qkv_, static_cast<size_t>(M * nqkv));
  float* q = scratch(q_, static_cast<size_t>(M * qd));
  uint8_t* attn = scratch(attn_, static_cast<size_t>(M * qd) * asz);
  float* o = scratch(o_, static_cast<size_t>(M * D));
  float* gu = scratch(gu_, static_cast<size_t>(M * 2 * I));
  uint8_t* act = scratch(act_buf_, static_cast<size_t>(M * I) * asz);

  const int64_t NL = c.num_hidden_layers;
  for (int64_t l = 0; l < NL; ++l) {
    const Layer& L = layers_[static_cast<size_t>(l)];
    const bool last = l == NL - 1;
    // --- self-attention block ---
    cpu::rms_norm_rows(x, M, D, D, L.input_norm.data(), eps, h, D, act_, T);  // input_layernorm
    clock.mark(kNorm);
    TRINITY_RETURN_IF_ERROR(
        layer_gemm(l, *L.qkv, &SvfState::qkv, h, M, qkv, nqkv));  // q, k, v proj
    clock.mark(kGemmQkv);
    // q_norm / k_norm per head, then RoPE; k and v go straight into the sequence's KV state.
    cpu::parallel_for(T, M, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const float* row = qkv + r * nqkv;
        KvState* kv = segs[static_cast<size_t>(row_seg_[r])].kv;
        const int64_t pos = row_pos_[r];
        const float* cs = cos_.data() + pos * half;
        const float* sn = sin_.data() + pos * half;
        cpu::head_norm_rope(row, H, hd, L.q_norm.data(), eps, cs, sn, q + r * qd, DType::kF32);
        cpu::head_norm_rope(row + qd, KV, hd, L.k_norm.data(), eps, cs, sn,
                            static_cast<uint8_t*>(kv->k(l)) + pos * kvd * ksz, kv_);
        cpu::convert_f32(row + qd + kvd, kvd, static_cast<uint8_t*>(kv->v(l)) + pos * kvd * ksz,
                         kv_);
      }
    });
    clock.mark(kRopeKv);
    // Causal GQA attention per segment; in the last layer only for the wanted rows.
    std::vector<cpu::AttentionArgs> args;
    for (int64_t r = 0, si = 0, out_row = 0; si < static_cast<int64_t>(segs.size()); ++si) {
      const auto& s = segs[static_cast<size_t>(si)];
      cpu::AttentionArgs a;
      a.ldq = qd;
      a.k = s.kv->k(l);
      a.v = s.kv->v(l);
      a.ldkv = kvd;
      a.kv_dtype = kv_;
      a.ldo = qd;
      a.out_dtype = act_;
      int64_t first = 0, count = s.n;
      if (last) {
        if (s.want == CpuSegment::Want::kNone) count = 0;
        if (s.want == CpuSegment::Want::kLast) first = s.n - 1, count = 1;
      }
      a.q = q + (r + first) * qd;
      a.n_q = count;
      a.q_pos0 = s.pos0 + first;
      a.out = attn + (last ? out_row : r) * qd * static_cast<int64_t>(asz);
      if (count > 0) args.push_back(a);
      out_row += count;
      r += s.n;
    }
    cpu::attention_causal(args, H, KV, hd, T);
    for (const auto& s : segs) s.kv->set_len(s.pos0 + s.n);
    clock.mark(kAttention);
    if (last) {
      // Only the wanted rows continue: gather their residual stream.
      float* xs = scratch(xs_, static_cast<size_t>(std::max<int64_t>(S, 1) * D));
      for (int64_t i = 0; i < S; ++i) std::memcpy(xs + i * D, x + sel[i] * D, D * sizeof(float));
      x = xs;
      M = S;
      if (M == 0) break;
    }
    TRINITY_RETURN_IF_ERROR(layer_gemm(l, *L.o, &SvfState::o, attn, M, o, D));  // o_proj
    clock.mark(kGemmO);
    residual_add(x, o, M, D, T);  // residual
    clock.mark(kResidual);
    // --- MLP block ---
    cpu::rms_norm_rows(x, M, D, D, L.post_norm.data(), eps, h, D, act_, T);  // post_attention_ln
    clock.mark(kNorm);
    TRINITY_RETURN_IF_ERROR(
        layer_gemm(l, *L.gate_up, &SvfState::gate_up, h, M, gu, 2 * I));  // gate, up
    clock.mark(kGemmMlp);
    cpu::silu_mul_rows(gu, M, I, act, act_, T);  // act_fn(gate) * up
    clock.mark(kSiluMul);
    TRINITY_RETURN_IF_ERROR(layer_gemm(l, *L.down, &SvfState::down, act, M, o, D));  // down_proj
    clock.mark(kGemmMlp);
    residual_add(x, o, M, D, T);  // residual
    clock.mark(kResidual);
  }
  // model.norm on the wanted rows, written to each segment's out.
  for (int64_t si = 0, i = 0; si < static_cast<int64_t>(segs.size()); ++si) {
    const auto& s = segs[static_cast<size_t>(si)];
    const int64_t rows = s.want == CpuSegment::Want::kAll    ? s.n
                         : s.want == CpuSegment::Want::kLast ? 1
                                                             : 0;
    if (rows > 0)
      cpu::rms_norm_rows(x + i * D, rows, D, D, final_norm_.data(), eps, s.out, D, DType::kF32, T);
    i += rows;
  }
  clock.mark(kNorm);
  return ok_status();
}

}  // namespace trinity
