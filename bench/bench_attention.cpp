// bench_attention: the cpu profiles' causal GQA attention kernels alone, as JSON.
//   bench_attention [--threads 2] [--repeat 7] [--heads 16] [--kv-heads 8] [--head-dim 128]
//                   [--q-scale 1]
// Cases: prefills of n = 128, 512, 2048 rows (q_pos0 = 0), an incremental step (64 new rows
// after 1024 cached keys) and, for reference, a single decode row after 1024 keys; each with f32
// K/V and f32 output (the exact profile) and with bf16 K/V and bf16 output (the fast profile).
// q, K and V are N(0, 1), q times --q-scale (the scores' standard deviation: > 1 gives peakier
// softmax rows). Each case times
//   "loops": the plain-loop kernel (AVX-512 build of kernels_impl.inc, 16 query rows a task:
//            the kernel before attention_avx512.cpp), and
//   "new":   cpu::attention_causal as the runtime dispatches it (query_block rows a task), and
//            "new_split16": the same kernel on the old 16-row split;
// with bf16 K/V on an AVX512_BF16 CPU "new" is the vdpbf16ps kernel (attention_bf16_avx512.cpp),
// and the case also times "f32dot": the f32 kernel (attention_avx512.cpp, the runtime's choice
// for bf16 K/V before it) on the same split. Reported: the median of --repeat runs after one
// warm-up, GFLOP/s = 4 * hd * H * (visible keys summed over rows) / time, the largest
// |new - loops| output difference and, for the bf16 kernel, its difference from the f32 kernel
// with f32 outputs (no output rounding): the largest |diff| and the worst row's relative L2.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "ops/cpu/kernels.h"
#include "ops/cpu/kernels_isa.h"

namespace trinity {
namespace {

struct Case {
  const char* name;
  int64_t n_q, q_pos0;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <typename Fn>
double median_ms(int repeat, const Fn& fn) {
  fn();  // warm-up: thread team, scratch buffers, caches
  std::vector<double> ms;
  for (int i = 0; i < repeat; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return median(ms);
}

float element(const std::vector<uint8_t>& buf, DType dt, size_t i) {
  if (dt == DType::kF32) return reinterpret_cast<const float*>(buf.data())[i];
  return bf16_to_f32(reinterpret_cast<const uint16_t*>(buf.data())[i]);
}

int main_impl(int argc, char** argv) {
  int threads = 2, repeat = 7;
  int64_t H = 16, KV = 8, hd = 128;
  float q_scale = 1.0f;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "bench_attention: %s needs a value\n", a.c_str());
      return 2;
    }
    const char* v = argv[++i];
    if (a == "--threads")
      threads = std::atoi(v);
    else if (a == "--repeat")
      repeat = std::max(1, std::atoi(v));
    else if (a == "--heads")
      H = std::atoll(v);
    else if (a == "--kv-heads")
      KV = std::atoll(v);
    else if (a == "--head-dim")
      hd = std::atoll(v);
    else if (a == "--q-scale")
      q_scale = static_cast<float>(std::atof(v));
    else {
      std::fprintf(stderr, "bench_attention: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  if (KV <= 0 || H % KV != 0 || hd <= 0 || hd % 2 != 0 || hd > cpu::kMaxHeadDim) {
    std::fprintf(stderr, "bench_attention: need H %% KV == 0 and an even hd <= %lld\n",
                 static_cast<long long>(cpu::kMaxHeadDim));
    return 2;
  }
  const Case cases[] = {{"prefill_128", 128, 0},
                        {"prefill_512", 512, 0},
                        {"prefill_2048", 2048, 0},
                        {"incremental_64_after_1024", 64, 1024},
                        {"decode_1_after_1024", 1, 1024}};
  std::printf(
      "{\"isa\": \"%s\", \"avx512_bf16\": %s, \"threads\": %d, \"repeat\": %d, \"H\": %lld, "
      "\"KV\": %lld, \"hd\": %lld, \"q_scale\": %g, \"cases\": [",
      cpu::kernel_isa(), cpu::cpu_has_avx512_bf16() ? "true" : "false", threads, repeat,
      static_cast<long long>(H), static_cast<long long>(KV), static_cast<long long>(hd),
      static_cast<double>(q_scale));
  // Without AVX-512 both are the generic build of the plain loops (what the runtime uses there).
  const bool avx512 = std::string(cpu::kernel_isa()) == "avx512";
  const cpu::AttentionTaskFn loops_fn =
      avx512 ? cpu::avx512::attention_task_loops : cpu::generic::attention_task_loops;
  const cpu::AttentionTaskFn f32_fn =
      avx512 ? cpu::avx512::attention_task : cpu::generic::attention_task_loops;
  bool first = true;
  for (const Case& c : cases)
    for (DType dt : {DType::kF32, DType::kBF16}) {
      // The kernel attention_causal runs for this K/V dtype.
      const bool bf16dot = avx512 && dt == DType::kBF16 && cpu::cpu_has_avx512_bf16();
      const cpu::AttentionTaskFn new_fn = bf16dot ? cpu::avx512::attention_task_bf16 : f32_fn;
      const int64_t n_kv = c.q_pos0 + c.n_q;
      const size_t esz = dtype_size(dt);
      std::mt19937 rng(7);
      std::normal_distribution<float> nd(0.0f, 1.0f);
      std::vector<float> q(static_cast<size_t>(c.n_q * H * hd));
      for (auto& x : q) x = nd(rng) * q_scale;
      std::vector<uint8_t> k(static_cast<size_t>(n_kv * KV * hd) * esz), v(k.size());
      std::vector<float> f32(k.size() / esz);
      for (auto* buf : {&k, &v}) {
        for (auto& x : f32) x = nd(rng);
        cpu::convert_f32(f32.data(), static_cast<int64_t>(f32.size()), buf->data(), dt);
      }
      std::vector<uint8_t> out_loops(q.size() * esz), out_new(q.size() * esz);
      cpu::AttentionArgs a;
      a.q = q.data();
      a.ldq = H * hd;
      a.k = k.data();
      a.v = v.data();
      a.ldkv = KV * hd;
      a.kv_dtype = dt;
      a.n_q = c.n_q;
      a.q_pos0 = c.q_pos0;
      a.ldo = H * hd;
      a.out_dtype = dt;
      std::vector<cpu::AttentionArgs> segs{a};
      segs[0].out = out_loops.data();
      const double ms_loops = median_ms(
          repeat, [&] { cpu::attention_causal_with(segs, H, KV, hd, threads, 16, loops_fn); });
      segs[0].out = out_new.data();
      const double ms_new =
          median_ms(repeat, [&] { cpu::attention_causal(segs, H, KV, hd, threads); });
      // The new kernel on the old split (16 query rows a task): what the bigger tasks add.
      const double ms_new16 = median_ms(
          repeat, [&] { cpu::attention_causal_with(segs, H, KV, hd, threads, 16, new_fn); });
      // The f32 kernel next to the bf16 one: timed on the runtime's split, compared with f32
      // outputs.
      const int64_t qb = cpu::attention_query_block(segs, H, KV, hd, threads);
      double ms_f32 = ms_new, dot_abs = 0.0, dot_rel = 0.0;
      if (bf16dot) {
        std::vector<uint8_t> out_f32dot(out_new.size());
        segs[0].out = out_f32dot.data();
        ms_f32 = median_ms(
            repeat, [&] { cpu::attention_causal_with(segs, H, KV, hd, threads, qb, f32_fn); });
        std::vector<float> o_bf(q.size()), o_f32(q.size());
        auto seg32 = segs;
        seg32[0].out_dtype = DType::kF32;
        seg32[0].out = o_bf.data();
        cpu::attention_causal_with(seg32, H, KV, hd, threads, qb, new_fn);
        seg32[0].out = o_f32.data();
        cpu::attention_causal_with(seg32, H, KV, hd, threads, qb, f32_fn);
        for (size_t r = 0; r < q.size() / static_cast<size_t>(hd); ++r) {
          double num = 0.0, den = 0.0;
          for (size_t i = r * hd; i < (r + 1) * hd; ++i) {
            const double d = static_cast<double>(o_bf[i]) - o_f32[i];
            dot_abs = std::max(dot_abs, std::fabs(d));
            num += d * d;
            den += static_cast<double>(o_f32[i]) * o_f32[i];
          }
          dot_rel = std::max(dot_rel, std::sqrt(num / std::max(den, 1e-300)));
        }
      }
      double max_diff = 0.0;
      for (size_t i = 0; i < out_new.size() / esz; ++i)
        max_diff = std::max(max_diff, std::fabs(static_cast<double>(element(out_new, dt, i)) -
                                                element(out_loops, dt, i)));
      // Causal FLOPs: per row and query head, hd multiply-adds for each visible key's score and
      // hd for its share of the output (2 FLOPs each).
      double keys = 0.0;
      for (int64_t t = 0; t < c.n_q; ++t) keys += static_cast<double>(c.q_pos0 + t + 1);
      const double gflop = 4.0 * static_cast<double>(hd * H) * keys * 1e-9;
      std::printf(
          "%s\n  {\"case\": \"%s\", \"n_q\": %lld, \"q_pos0\": %lld, \"kv\": \"%s\", "
          "\"out\": \"%s\", \"loops_ms\": %.3f, \"loops_gflops\": %.1f, \"new_ms\": %.3f, "
          "\"new_gflops\": %.1f, \"new_split16_gflops\": %.1f, \"query_block\": %lld, "
          "\"speedup\": %.2f, \"max_abs_diff\": %.3g",
          first ? "" : ",", c.name, static_cast<long long>(c.n_q), static_cast<long long>(c.q_pos0),
          dtype_name(dt), dtype_name(dt), ms_loops, gflop / (ms_loops * 1e-3), ms_new,
          gflop / (ms_new * 1e-3), gflop / (ms_new16 * 1e-3), static_cast<long long>(qb),
          ms_loops / ms_new, max_diff);
      if (bf16dot)
        std::printf(
            ", \"kernel\": \"bf16dot\", \"f32dot_ms\": %.3f, \"f32dot_gflops\": %.1f, "
            "\"bf16dot_over_f32dot\": %.2f, \"vs_f32dot_max_abs_diff\": %.3g, "
            "\"vs_f32dot_max_row_rel_l2\": %.3g",
            ms_f32, gflop / (ms_f32 * 1e-3), ms_f32 / ms_new, dot_abs, dot_rel);
      std::printf("}");
      std::fflush(stdout);
      first = false;
    }
  std::printf("\n]}\n");
  return 0;
}

}  // namespace
}  // namespace trinity

int main(int argc, char** argv) {
  return trinity::main_impl(argc, argv);
}
