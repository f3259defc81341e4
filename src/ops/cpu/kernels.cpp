// Runtime dispatch between the AVX-512 and the baseline build of the kernels (one cpuid check).
#include <algorithm>
#include <vector>

#include "ops/cpu/kernels_isa.h"
#include "ops/cpu/parallel.h"

namespace trinity::cpu {

namespace {

bool use_avx512() {
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  }();
  return yes;
}

bool use_avx512_bf16() {
  static const bool yes = [] {
    __builtin_cpu_init();
    return use_avx512() && __builtin_cpu_supports("avx512bf16");
  }();
  return yes;
}

#define TRINITY_DISPATCH(fn, ...) \
  (use_avx512() ? avx512::fn(__VA_ARGS__) : generic::fn(__VA_ARGS__))

}  // namespace

float* thread_scratch(size_t n) {
  thread_local std::vector<float> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

bool cpu_has_avx512_bf16() {
  return use_avx512_bf16();
}

const char* kernel_isa() {
  return use_avx512() ? "avx512" : "generic";
}

void rms_norm_rows(const float* x, int64_t rows, int64_t dim, int64_t ldx, const float* w,
                   float eps, void* y, int64_t ldy, DType ydtype, int threads) {
  parallel_for(threads, rows, [&](int64_t b, int64_t e) {
    TRINITY_DISPATCH(rms_norm_rows, x, b, e, dim, ldx, w, eps, y, ldy, ydtype);
  });
}

void head_norm_rope(const float* in, int64_t heads, int64_t hd, const float* w, float eps,
                    const float* cos, const float* sin, void* out, DType odtype) {
  TRINITY_DISPATCH(head_norm_rope, in, heads, hd, w, eps, cos, sin, out, odtype);
}

void silu_mul_rows(const float* gu, int64_t rows, int64_t inter, void* out, DType odtype,
                   int threads) {
  parallel_for(threads, rows, [&](int64_t b, int64_t e) {
    if (use_avx512())
      avx512::silu_mul_rows_simd(gu, b, e, inter, out, odtype);
    else
      generic::silu_mul_rows(gu, b, e, inter, out, odtype);
  });
}

void convert_f32(const float* src, int64_t n, void* dst, DType dtype) {
  TRINITY_DISPATCH(convert_f32, src, n, dst, dtype);
}

void split_bf16(const float* x, int64_t n, uint16_t* hi, uint16_t* lo) {
  TRINITY_DISPATCH(split_bf16, x, n, hi, lo);
}

void add_rows(const float* a, const float* b, int64_t n, float* out) {
  TRINITY_DISPATCH(add_rows, a, b, n, out);
}

int64_t attention_query_block(const std::vector<AttentionArgs>& segs, int64_t H, int64_t KV,
                              int64_t hd, int threads) {
  // The split never changes results (kernels.h), only speed: long prefills get 128-row tasks, a
  // short batch or a model with few kv heads still spreads over every thread.
  int64_t qb = kAttnQueryBlockMax;
  for (; qb > kAttnQueryBlockMin; qb /= 2) {
    int64_t tasks = 0;
    for (const auto& s : segs) tasks += (s.n_q + qb - 1) / qb * KV;
    if (qb * (H / KV) * hd <= kAttnTaskFloats &&
        tasks >= 4 * static_cast<int64_t>(std::max(1, threads)))
      break;
  }
  return qb;
}

void attention_causal_with(const std::vector<AttentionArgs>& segs, int64_t H, int64_t KV,
                           int64_t hd, int threads, int64_t query_block, AttentionTaskFn fn) {
  struct Task {
    size_t seg;
    int64_t kvh, t0, t1;
  };
  std::vector<Task> tasks;
  for (size_t s = 0; s < segs.size(); ++s)
    for (int64_t t0 = 0; t0 < segs[s].n_q; t0 += query_block)
      for (int64_t kvh = 0; kvh < KV; ++kvh)
        tasks.push_back({s, kvh, t0, std::min(segs[s].n_q, t0 + query_block)});
  // Long query blocks see more keys: interleave heavy and light tasks for balance (a task's cost
  // is about rows x keys). The order of tasks changes nothing in the results (each task owns its
  // output rows).
  auto cost = [&](const Task& t) {
    return (t.t1 - t.t0) * (segs[t.seg].q_pos0 + (t.t0 + t.t1) / 2 + 1);
  };
  std::stable_sort(tasks.begin(), tasks.end(),
                   [&](const Task& a, const Task& b) { return cost(a) > cost(b); });
  std::vector<Task> order(tasks.size());
  for (size_t i = 0, lo = 0, hi = tasks.size(); i < tasks.size(); ++i)
    order[i] = (i % 2 == 0) ? tasks[lo++] : tasks[--hi];
  parallel_for(threads, static_cast<int64_t>(order.size()), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const Task& t = order[static_cast<size_t>(i)];
      fn(segs[t.seg], H, KV, hd, t.kvh, t.t0, t.t1);
    }
  });
}

void attention_causal(const std::vector<AttentionArgs>& segs, int64_t H, int64_t KV, int64_t hd,
                      int threads) {
  // bf16 K/V (the cpu-bf16 profile) on AVX512_BF16 CPUs: the vdpbf16ps kernel. It is chosen per
  // task by the task's own kv_dtype (attention_task_bf16 hands f32-K/V tasks to attention_task),
  // so a segment's results never depend on the other segments of the call.
  const AttentionTaskFn fn = !use_avx512()       ? generic::attention_task_loops
                             : use_avx512_bf16() ? avx512::attention_task_bf16
                                                 : avx512::attention_task;
  attention_causal_with(segs, H, KV, hd, threads, attention_query_block(segs, H, KV, hd, threads),
                        fn);
}

}  // namespace trinity::cpu
