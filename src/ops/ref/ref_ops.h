// Scalar twins of the fast kernels in ops/cpu: obvious loops, f64 accumulation, f32 results.
// They mirror forward_ref.cpp's math and exist so tests can check each fast kernel in isolation.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace trinity::ref {

// y[r] = w * (x[r] / sqrt(mean(x[r]^2) + eps)), rows of dim.
void rms_norm(const float* x, int64_t rows, int64_t dim, const float* w, double eps, float* y);

// Rotate-half RoPE of heads x hd values in place with cos/sin [hd/2].
void rope(float* x, int64_t heads, int64_t hd, const float* cos, const float* sin);

// out[r, i] = silu(gate[r, i]) * up[r, i] with gate/up stacked per row as [gate(I) | up(I)].
void silu_mul(const float* gu, int64_t rows, int64_t inter, float* out);

// y[m, N] = x[m, K] · W^T with W [N, K] in its stored dtype (bf16/f16/f32), f64 accumulation.
void matmul(const float* x, int64_t m, int64_t k, const void* w, DType wdtype, int64_t n, float* y);

// dst[i] = src[i] as f32 (a copy) or bf16 (round to nearest even, NaN kept): the twin of
// cpu::convert_f32.
void convert_f32(const float* src, int64_t n, void* dst, DType dtype);

// hi[i] = bf16(x[i]); lo[i] = bf16(x[i] - hi[i]) (the difference is exact in f32): the twin of
// cpu::split_bf16.
void split_bf16(const float* x, int64_t n, uint16_t* hi, uint16_t* lo);

// out[i] = a[i] + b[i] (out may alias a or b): the twin of cpu::add_rows.
void add(const float* a, const float* b, int64_t n, float* out);

// g[i * cols + j] = sum_r x[r, i] x[r, j] in f64 (full matrix), x row-major [rows, cols]: the
// twin of cpu::gram_f64_upper.
void gram_f64(const float* x, int64_t rows, int64_t cols, double* g);

// Causal GQA attention of q rows at positions q_pos0.. against k/v at positions 0..:
// q [n_q, H, hd], k/v [q_pos0 + n_q, KV, hd] (f32), out [n_q, H, hd].
void attention(const float* q, const float* k, const float* v, int64_t n_q, int64_t q_pos0,
               int64_t H, int64_t KV, int64_t hd, float* out);

}  // namespace trinity::ref
