// Fused CPU kernels of the Qwen3 forward (all f32 arithmetic). Each kernel is compiled twice —
// for AVX-512 and for baseline x86-64 — and dispatched once by cpuid (kernels.cpp). Their scalar
// twins live in ops/ref/ref_ops.h; tests/ops compares the two.
//
// Determinism: every output element is computed by one thread with a fixed operation order that
// depends only on its own inputs (never on the thread count or on how rows are batched), so
// results are bit-identical across runs, thread counts and batch compositions on one machine.
#pragma once

#include <cstdint>
#include <vector>

#include "core/dtype.h"

namespace trinity::cpu {

// Name of the kernel variant in use: "avx512" or "generic".
const char* kernel_isa();

// y[r] = w * (x[r] / sqrt(mean(x[r]^2) + eps)) for r < rows; y is f32 or bf16 (ydtype).
void rms_norm_rows(const float* x, int64_t rows, int64_t dim, int64_t ldx, const float* w,
                   float eps, void* y, int64_t ldy, DType ydtype, int threads);

// Per-head RMSNorm then rotate-half RoPE, for one row of `heads` heads of head_dim hd:
// out[h] = rope(norm(in[h]) * w, cos, sin) with cos/sin [hd/2] of the row's position.
// out is f32 or bf16 (odtype). hd must be even and <= kMaxHeadDim.
constexpr int64_t kMaxHeadDim = 1024;
void head_norm_rope(const float* in, int64_t heads, int64_t hd, const float* w, float eps,
                    const float* cos, const float* sin, void* out, DType odtype);

// out[r, i] = silu(gu[r, i]) * gu[r, I + i] (gate and up stacked in one row of 2I), out f32/bf16.
void silu_mul_rows(const float* gu, int64_t rows, int64_t inter, void* out, DType odtype,
                   int threads);

// Converts n f32 values to dst (f32 or bf16).
void convert_f32(const float* src, int64_t n, void* dst, DType dtype);

// hi[i] = bf16(x[i]), lo[i] = bf16(x[i] - hi[i]): x ~= hi + lo within 2^-16 |x|.
void split_bf16(const float* x, int64_t n, uint16_t* hi, uint16_t* lo);

// out[i] = a[i] + b[i].
void add_rows(const float* a, const float* b, int64_t n, float* out);

// One sequence's causal grouped-query attention for query rows at absolute positions
// q_pos0 .. q_pos0 + n_q - 1 against keys/values at positions 0 .. q_pos0 + n_q - 1.
struct AttentionArgs {
  const float* q = nullptr;  // row t at q + t * ldq: [H, hd] f32 (already normed and rotated)
  int64_t ldq = 0;
  const void* k = nullptr;  // position p at k + p * ldkv (elements of kv_dtype): [KV, hd]
  const void* v = nullptr;
  int64_t ldkv = 0;
  DType kv_dtype = DType::kF32;  // f32 or bf16
  int64_t n_q = 0, q_pos0 = 0;
  void* out = nullptr;  // row t at out + t * ldo (elements of out_dtype): [H, hd]
  int64_t ldo = 0;
  DType out_dtype = DType::kF32;
};
// Flash-style: key blocks at fixed absolute positions, online softmax in f32, no N x N buffer.
// All segments are one parallel loop over (segment, kv head, query block) tasks.
void attention_causal(const std::vector<AttentionArgs>& segs, int64_t H, int64_t KV, int64_t hd,
                      int threads);

}  // namespace trinity::cpu
