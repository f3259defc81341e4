// Internal: the per-ISA kernel entry points (kernels_impl.inc compiled into two namespaces).
#pragma once

#include "ops/cpu/kernels.h"

namespace trinity::cpu {

#define TRINITY_DECLARE_KERNELS(NS)                                                               \
  namespace NS {                                                                                  \
  void rms_norm_rows(const float* x, int64_t rows_begin, int64_t rows_end, int64_t dim,           \
                     int64_t ldx, const float* w, float eps, void* y, int64_t ldy, DType ydtype); \
  void head_norm_rope(const float* in, int64_t heads, int64_t hd, const float* w, float eps,      \
                      const float* cos, const float* sin, void* out, DType odtype);               \
  void silu_mul_rows(const float* gu, int64_t rows_begin, int64_t rows_end, int64_t inter,        \
                     void* out, DType odtype);                                                    \
  void convert_f32(const float* src, int64_t n, void* dst, DType dtype);                          \
  void split_bf16(const float* x, int64_t n, uint16_t* hi, uint16_t* lo);                         \
  void add_rows(const float* a, const float* b, int64_t n, float* out);                           \
  void attention_task(const AttentionArgs& a, int64_t H, int64_t KV, int64_t hd, int64_t kvh,     \
                      int64_t t0, int64_t t1);                                                    \
  }

TRINITY_DECLARE_KERNELS(avx512)
TRINITY_DECLARE_KERNELS(generic)
#undef TRINITY_DECLARE_KERNELS

// A per-thread f32 scratch buffer of at least n floats (valid until the next call on the thread).
float* thread_scratch(size_t n);

// Query rows per attention task.
constexpr int64_t kAttnQueryBlock = 16;

}  // namespace trinity::cpu
