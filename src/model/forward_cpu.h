// The `cpu` profile's Qwen3 forward: weights packed once for oneDNN (stored dtype: bf16 stays
// bf16, no f32 copy), fused kernels from ops/cpu, KV kept per sequence in a KvState so a pass can
// start after a cached prefix. Internal to the model layer; the public seam is engine.h.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "core/disk_cache.h"
#include "core/huge_alloc.h"
#include "core/status.h"
#include "model/kv_cache.h"
#include "model/svf_overlay.h"
#include "model/weights.h"
#include "ops/cpu/matmul.h"

namespace trinity {

// One sequence's share of a pass: its n new tokens at positions pos0 .. pos0 + n - 1, appended
// to kv (whose positions [0, pos0) are valid).
struct CpuSegment {
  enum class Want { kNone, kLast, kAll };
  KvState* kv = nullptr;
  const int32_t* ids = nullptr;
  int64_t pos0 = 0, n = 0;
  Want want = Want::kNone;  // which final hidden rows to write to out
  float* out = nullptr;     // [1 or n, hidden]
};

// How a bf16 checkpoint is computed (f32 checkpoints are f32 throughout either way).
enum class CpuPrecision {
  // GEMM inputs split into bf16 hi + lo (f32-level precision on the bf16 units), f32 K/V:
  // ~1e-5 relative to float64, at about twice the GEMM arithmetic.
  kSplitBf16,
  // GEMM inputs and K/V rounded to bf16: fastest, ~4e-3 relative to float64.
  kBf16,
};

class CpuModel {
 public:
  // With a cache and key, the packed weights are mapped from the cache when a valid entry
  // exists and stored there after packing otherwise (`cache_note` says which, or why not).
  static Result<std::unique_ptr<CpuModel>> create(std::shared_ptr<const Qwen3Weights> w,
                                                  int threads, CpuPrecision precision,
                                                  const DiskCache* cache = nullptr,
                                                  const std::string& cache_key = "",
                                                  std::string* cache_note = nullptr);

  // Runs every layer for all segments at once (the weights stream once for the whole batch).
  // In the last layer only the wanted rows get attention output, MLP and the final norm.
  Status run(const std::vector<CpuSegment>& segs);

  std::unique_ptr<KvState> new_kv() const;

  // Router-vector switching (svf_overlay.h): packs the overlay's factors (f32 for the `cpu`
  // profile and f32 models, bf16 for `cpu-bf16`; the embedding's always f32) and starts with
  // unit scales, which compute the base weights through the factors. Null removes it.
  Status set_svf(std::shared_ptr<const SvfOverlay> overlay);
  // The scales of the next passes (the overlay's shapes).
  Status set_svf_scales(const SvfScales& scales);
  const SvfOverlay* svf_overlay() const { return svf_overlay_.get(); }

  // Where run()'s wall time went, accumulated since the last reset (see ForwardEngine).
  enum Stage {
    kEmbed,
    kNorm,
    kGemmQkv,
    kRopeKv,
    kAttention,
    kGemmO,
    kGemmMlp,
    kSiluMul,
    kResidual,
    kNumStages
  };
  static const char* stage_name(int stage);
  double stage_ms(int stage) const { return stage_ms_[static_cast<size_t>(stage)]; }
  void reset_stage_ms() { stage_ms_.fill(0.0); }
  DType weight_dtype() const { return wdt_; }
  DType kv_dtype() const { return kv_; }
  CpuPrecision precision() const { return precision_; }
  const std::string& gemm_impl() const { return gemm_impl_; }
  const Qwen3Config& config() const { return w_->config; }
  int threads() const { return threads_; }

 private:
  struct Layer {
    std::unique_ptr<cpu::PackedMatmul> qkv, o, gate_up, down;
    std::vector<float> input_norm, post_norm, q_norm, k_norm;
  };

 public:
  // Matrices that share an input under an overlay: y_i = ((x P_i) * s_i) Q_i^T, with one GEMM
  // for every P_i^T stacked and one per Q_i.
  struct SvfGroup {
    std::unique_ptr<cpu::PackedMatmul> in;                // [sum k_i, K]
    std::vector<std::unique_ptr<cpu::PackedMatmul>> out;  // Q_i [rows_i, k_i]
    std::vector<int64_t> k, rows;
    std::vector<float> s;  // the parts' scales, concatenated
    DType act = DType::kF32;
    int64_t k_total() const;
  };
  struct SvfState {
    int64_t layer = 0;
    SvfGroup embed, qkv, o, gate_up, down;
  };

 private:
  CpuModel() = default;
  Status svf_gemm(SvfGroup& g, const void* src, int64_t m, float* dst, int64_t ldd);
  Status run_mm(cpu::PackedMatmul& mm, DType src_dtype, const void* src, int64_t m, float* dst,
                int64_t ldd);
  // The layer's GEMM for the overlay layer (factored) or any other (packed W).
  Status layer_gemm(int64_t l, cpu::PackedMatmul& mm, SvfGroup SvfState::*group, const void* src,
                    int64_t m, float* dst, int64_t ldd);
  void ensure_rope(int64_t n_pos);
  // Activation scratch: grown on demand, kept across calls, on huge pages once large.
  template <typename T>
  using Scratch = std::vector<T, HugePageAllocator<T>>;
  template <typename T>
  T* scratch(Scratch<T>& v, size_t n) {
    if (v.size() < n) v.resize(n);
    return v.data();
  }

  std::shared_ptr<const Qwen3Weights> w_;
  int threads_ = 1;
  Status gemm(cpu::PackedMatmul& mm, const void* src, int64_t m, float* dst, int64_t ldd);
  CpuPrecision precision_ = CpuPrecision::kSplitBf16;
  DType wdt_ = DType::kF32;  // packed weight dtype
  DType act_ = DType::kF32;  // dtype of the GEMM input buffers
  DType kv_ = DType::kF32;   // dtype of the K/V states
  std::string gemm_impl_;
  std::vector<Layer> layers_;
  std::unique_ptr<SvfState> svf_;
  std::shared_ptr<const SvfOverlay> svf_overlay_;
  std::vector<float> final_norm_;
  std::vector<float> cos_, sin_;  // rope tables [n_rope_, head_dim / 2]
  int64_t n_rope_ = 0;
  // Scratch reused across calls.
  Scratch<float> x_, qkv_, q_, o_, gu_, xs_;
  Scratch<uint8_t> h_, attn_, act_buf_, svf_ts_;
  Scratch<float> svf_t_, svf_x_;
  std::vector<int64_t> row_seg_, row_pos_;
  cpu::PackedMatmul::SplitScratch split_;
  std::array<double, kNumStages> stage_ms_{};
};

}  // namespace trinity
