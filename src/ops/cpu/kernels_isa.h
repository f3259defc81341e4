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
  void attention_task_loops(const AttentionArgs& a, int64_t H, int64_t KV, int64_t hd,            \
                            int64_t kvh, int64_t t0, int64_t t1);                                 \
  }

TRINITY_DECLARE_KERNELS(avx512)
TRINITY_DECLARE_KERNELS(generic)
#undef TRINITY_DECLARE_KERNELS

// One attention task: query rows t0..t1-1 of segment `a` for the query heads of kv head kvh.
using AttentionTaskFn = void (*)(const AttentionArgs& a, int64_t H, int64_t KV, int64_t hd,
                                 int64_t kvh, int64_t t0, int64_t t1);

// The register-blocked AVX-512 attention (attention_avx512.cpp). attention_task_loops above is
// the plain-loop kernel: the fallback on CPUs without AVX-512, and (its AVX-512 build) the
// baseline that tests and bench/bench_attention.cpp compare against.
namespace avx512 {
void attention_task(const AttentionArgs& a, int64_t H, int64_t KV, int64_t hd, int64_t kvh,
                    int64_t t0, int64_t t1);
// The AVX512_BF16 variant (attention_bf16_avx512.cpp): bf16 K/V with q and p rounded to bf16 and
// both products as vdpbf16ps (f32 accumulation), the `cpu-bf16` profile's contract. Tasks with
// f32 K/V go to attention_task unchanged. Call it only where cpu_has_avx512_bf16().
void attention_task_bf16(const AttentionArgs& a, int64_t H, int64_t KV, int64_t hd, int64_t kvh,
                         int64_t t0, int64_t t1);
// SiLU * up with a vectorized exp (activations_avx512.cpp); silu_mul_rows is its loop twin.
void silu_mul_rows_simd(const float* gu, int64_t rows_begin, int64_t rows_end, int64_t inter,
                        void* out, DType odtype);
}  // namespace avx512

// Whether the CPU has the AVX-512 kernels' ISA and AVX512_BF16 (vdpbf16ps), i.e. whether
// avx512::attention_task_bf16 may run (one cpuid check).
bool cpu_has_avx512_bf16();

// A per-thread f32 scratch buffer of at least n floats (valid until the next call on the thread).
float* thread_scratch(size_t n);

// Query rows per attention task: a power of two in [kAttnQueryBlockMin, kAttnQueryBlockMax].
// Each task converts and transposes every key block it reads and streams it from the KV cache,
// so bigger blocks amortize that over more rows; attention_query_block halves the block while a
// task would hold more than kAttnTaskFloats query (or output) floats, or while there would be
// fewer than 4 tasks per thread.
constexpr int64_t kAttnQueryBlockMax = 128;
constexpr int64_t kAttnQueryBlockMin = 16;
constexpr int64_t kAttnTaskFloats = 256 * 128;
int64_t attention_query_block(const std::vector<AttentionArgs>& segs, int64_t H, int64_t KV,
                              int64_t hd, int threads);

// attention_causal with an explicit task kernel and query block (for tests and benchmarks; the
// results are identical for any query_block and threads, by the determinism rule of kernels.h).
void attention_causal_with(const std::vector<AttentionArgs>& segs, int64_t H, int64_t KV,
                           int64_t hd, int threads, int64_t query_block, AttentionTaskFn fn);

}  // namespace trinity::cpu
