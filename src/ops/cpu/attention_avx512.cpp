// The AVX-512 causal GQA attention task (flash-style, register-blocked intrinsics) with f32 dot
// products: the task of attention_avx512.inc (key-block loop, online softmax, score and P.V
// tiles) with the policy F32Dot below. For each key block of kKeyBlock keys it
//   1. converts the block to f32 once: K transposed to kt [hd][64], V to vb [64][hdp];
//   2. S = Q.K^T in tiles of kScoreRows rows x 64 keys (4 zmm per row) accumulated over d, one
//      FMA per dim;
//   3. updates each row's online softmax (max over visible keys only, vectorized exp);
//   4. O += P.V in tiles of R rows x NC zmm of the head dim, one FMA per key, O rescaled once per
//      block.
//
// Determinism (kernels.h): every lane of every accumulator is one output element's own chain of
// operations in a fixed order (d ascending for scores, keys ascending for P.V), and SIMD lanes
// never mix rows, so a row's result depends only on its q, its position and K/V: not on the
// other rows of its tile or task, the tile size, the thread count. Partial tiles repeat a valid
// row and drop the copy's results; the key loop of a P.V tile covers each row's own visible keys
// exactly (no p = 0 terms that a row computed alone would not have). The file is compiled with
// -ffp-contract=off (src/ops/CMakeLists.txt): the FMAs are the explicit intrinsics, so the
// compiler cannot fuse a multiply-add in one inlined copy and not in another.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "ops/cpu/kernels_isa.h"

#include "ops/cpu/avx512_target_begin.inc"

namespace trinity::cpu::avx512 {

namespace {

#include "ops/cpu/simd_avx512.inc"  // kVec, lanes, exp_ps, load16, store16

#include "ops/cpu/attention_avx512.inc"  // attention_out<Dot, KV> and its parts

// kt[d][j] = k[kb + j][d] as f32 for d < hdp (0 past hd) and j < 64 (0 past len).
template <typename KV>
void load_keys_transposed(const KV* k, int64_t ldkv, int64_t len, int64_t hd, int64_t hdp,
                          float* kt) {
  for (int64_t d0 = 0; d0 < hdp; d0 += kVec) {
    const __mmask16 m = lanes(hd - d0);
    for (int64_t j0 = 0; j0 < kKeyBlock; j0 += kVec) {
      __m512 r[16];
      for (int64_t i = 0; i < kVec; ++i)
        r[i] = j0 + i < len ? load16(k + (j0 + i) * ldkv + d0, m) : _mm512_setzero_ps();
      transpose16(r);
      for (int64_t i = 0; i < kVec; ++i) _mm512_storeu_ps(kt + (d0 + i) * kKeyBlock + j0, r[i]);
    }
  }
}

// vb[j][d] = v[kb + j][d] as f32 for j < len, d < hdp (0 past hd). A contiguous copy also keeps
// the P.V loop off the KV cache's 4 KiB row stride (which maps all rows to the same L1 sets).
template <typename KV>
void load_values(const KV* v, int64_t ldkv, int64_t len, int64_t hd, int64_t hdp, float* vb) {
  for (int64_t j = 0; j < len; ++j)
    for (int64_t d0 = 0; d0 < hdp; d0 += kVec)
      _mm512_storeu_ps(vb + j * hdp + d0, load16(v + j * ldkv + d0, lanes(hd - d0)));
}

// f32 queries, keys, probabilities and values; one FMA per dim (scores) and per key (P.V).
struct F32Dot {
  using Word = float;
  using Reg = __m512;
  static constexpr int64_t kKeysPerWord = 1;
  static constexpr int64_t kStagingRows = kKeyBlock;  // an f32 key block before its transposition

  static int64_t dot_steps(int64_t hd) { return hd; }

  static void load_query(const float* q, __m512 scale, int64_t hd, int64_t hdp, float* qs) {
    for (int64_t d0 = 0; d0 < hdp; d0 += kVec)
      _mm512_storeu_ps(qs + d0,
                       _mm512_mul_ps(_mm512_maskz_loadu_ps(lanes(hd - d0), q + d0), scale));
  }

  template <typename KV>
  static void load_block(const KV* k, const KV* v, int64_t ldkv, int64_t len, int64_t hd,
                         int64_t hdp, int64_t /*ldq = hdp*/, float* kt, float* vb, float* kc) {
    if constexpr (sizeof(KV) == 4) {
      // A 16x16 transposition tile reads 16 key rows at the cache's row stride; at 4 KiB (f32,
      // 8 kv heads x 128) all 16 lines map to one 8-way L1 set and the transposition runs ~4x
      // slower than from a contiguous copy. bf16 rows are half as far apart: read directly.
      load_values(k, ldkv, len, hd, hdp, kc);
      load_keys_transposed(kc, hdp, len, hd, hdp, kt);
    } else {
      load_keys_transposed(k, ldkv, len, hd, hdp, kt);
    }
    load_values(v, ldkv, len, hd, hdp, vb);
  }

  static __m512 load(const float* x) { return _mm512_loadu_ps(x); }
  static __m512 broadcast(float x) { return _mm512_set1_ps(x); }
  static __m512 madd(__m512 acc, __m512 x, __m512 b) { return _mm512_fmadd_ps(b, x, acc); }

  static float store_probabilities(const __m512 e[4], float* p) {
    for (int c = 0; c < 4; ++c) _mm512_storeu_ps(p + c * kVec, e[c]);
    return _mm512_reduce_add_ps(
        _mm512_add_ps(_mm512_add_ps(e[0], e[1]), _mm512_add_ps(e[2], e[3])));
  }

  // Key j of a row's P.V chain if the row sees it (any), as a masked FMA that leaves the
  // accumulators untouched (bit for bit) otherwise.
  template <int NC>
  static void pv_edge(__m512 (&acc)[NC], const __m512 (&v)[NC], float p, bool /*whole = any*/,
                      bool any) {
    const __mmask16 k = any ? 0xffff : 0;
    const __m512 b = _mm512_set1_ps(p);
    for (int c = 0; c < NC; ++c) acc[c] = _mm512_mask3_fmadd_ps(b, v[c], acc[c], k);
  }
};

}  // namespace

void attention_task(const AttentionArgs& a, int64_t H, int64_t KV, int64_t hd, int64_t kvh,
                    int64_t t0, int64_t t1) {
  if (a.kv_dtype == DType::kBF16)
    attention_out<F32Dot, uint16_t>(a, H, KV, hd, kvh, t0, t1);
  else
    attention_out<F32Dot, float>(a, H, KV, hd, kvh, t0, t1);
}

}  // namespace trinity::cpu::avx512

#include "ops/cpu/avx512_target_end.inc"
