// A linear layer y = x · W^T through oneDNN matmul. W is packed ONCE (at load) into the blocked
// layout oneDNN's brgemm kernels want (AMX / AVX512-BF16 / AVX-512 picked at runtime by
// oneDNN's own cpuid dispatch); activations x are bf16 for a bf16 weight and f32 otherwise; the
// output is always f32 (f32 accumulation).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "core/huge_alloc.h"
#include "core/status.h"

namespace trinity::cpu {

// A row-major [rows, cols] matrix in its stored dtype (HF nn.Linear orientation [out, in]).
struct MatrixRef {
  DType dtype = DType::kF32;
  const void* data = nullptr;
  int64_t rows = 0, cols = 0;
};

class PackedMatmul {
 public:
  // Stacks parts along the output dim (all must share cols = K): N = sum of rows. bf16 parts
  // stay bf16; f32 and f16 parts are packed as f32. Mixed bf16/f32 parts are packed as f32.
  static Result<std::unique_ptr<PackedMatmul>> create(const std::vector<MatrixRef>& parts);
  ~PackedMatmul();

  // The packed weights as bytes, and the oneDNN memory descriptor that lays them out (opaque
  // bytes, valid for this oneDNN build and ISA only): what a packed-weights cache stores.
  std::span<const uint8_t> packed_data() const;
  std::string layout_bytes() const;
  // Uses weights packed earlier (by create() of the same shape in this oneDNN build) in place:
  // `data` must hold packed_bytes() bytes and stay alive with `owner`. Fails, so the caller
  // packs afresh, when the layout oneDNN picks now differs from `layout`.
  static Result<std::unique_ptr<PackedMatmul>> from_packed(int64_t k, int64_t n, DType act,
                                                           std::string_view layout,
                                                           std::span<const uint8_t> data,
                                                           std::shared_ptr<const void> owner);

  int64_t k() const { return k_; }
  int64_t n() const { return n_; }
  // Activation dtype expected by run(): kBF16 or kF32.
  DType act_dtype() const { return act_; }
  // Bytes of the packed weights.
  size_t packed_bytes() const;
  // oneDNN implementation name, e.g. "brg:avx512_core_amx_bf16".
  std::string impl_name() const { return impl_; }

  // dst[m, N] (row stride ldd >= N) = src[m, K] (act_dtype, row stride K) · W^T. oneDNN uses
  // `threads` OpenMP threads; its blocking depends on the shape only (see the determinism test).
  Status run(const void* src, int64_t m, float* dst, int64_t ldd, int threads);

  // The same from f32 activations. For a bf16 weight each row x is split into x_hi = bf16(x)
  // and x_lo = bf16(x - x_hi) (|x - x_hi - x_lo| <= 2^-16 |x|), both rows go through the bf16
  // GEMM in one call (M doubles, the weights stream once) and y = y_hi + y_lo: f32-level input
  // precision on the bf16 matrix units. For an f32 weight it is run() itself. The hi/lo rows
  // and the two partial outputs live in `scratch`, which the caller shares across all its
  // matrices (one buffer per model, not one per matrix).
  struct SplitScratch {
    std::vector<uint16_t, HugePageAllocator<uint16_t>> src;  // [2m, K]
    std::vector<float, HugePageAllocator<float>> dst;        // [2m, N]
  };
  Status run_split(const float* src, int64_t m, float* dst, int64_t ldd, int threads,
                   SplitScratch& scratch);

 private:
  PackedMatmul() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_ptr_;
  int64_t k_ = 0, n_ = 0;
  DType act_ = DType::kF32;
  std::string impl_;
};

}  // namespace trinity::cpu

namespace trinity::cpu {

// The implementation oneDNN dispatches a bf16 matmul to on this machine (e.g.
// "brg:avx512_core_amx_bf16"), from a small probe primitive; "unavailable: ..." if none.
std::string probe_bf16_matmul_impl();

// oneDNN's version and build hash, e.g. "2.6.3 (7f6f3d4...)".
std::string onednn_version();

// This machine's practical GEMM throughput in GFLOP/s: the best of `repeats` runs of a
// [1024, 1024] x [1024, 6144] matmul (the 0.6B model's gate/up shape, large M) through the same
// oneDNN path as the forward, with `dtype` (kBF16 or kF32) activations and weights. The bench
// quotes it as the roofline that its GEMM stages are measured against.
Result<double> measure_gemm_gflops(DType dtype, int threads, int repeats = 5);

}  // namespace trinity::cpu
