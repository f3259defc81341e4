// The AVX512_BF16 attention task: the flash-style causal GQA task of attention_avx512.inc (as in
// attention_avx512.cpp) with both products (S = Q.K^T and O += P.V) as vdpbf16ps, for bf16 K/V
// (the `cpu-bf16` profile: bf16 operands, f32 accumulation): the policy Bf16Dot below. One
// vdpbf16ps does 32 bf16 multiply-adds into 16 f32 lanes, twice the work of an f32 FMA. Per task:
//   0. q * 1/sqrt(hd) in f32 (the f32 kernel's scaled q), then rounded to bf16 (nearest even),
//      stored as dword pairs (q[2i], q[2i+1]); an odd hd pads the last pair with a zero;
// and for each key block of kKeyBlock keys (at absolute multiples of kKeyBlock):
//   1. K rearranged once into kp [hd/2 pairs][64 keys] dwords (k[2i], k[2i+1]), V into
//      vp [32 key pairs][hdp] dwords (v[2j][d], v[2j+1][d]); zeros past the block's keys and hd;
//   2. S in tiles of kScoreRows rows x 64 keys: per dim pair one broadcast q dword against 4 zmm
//      of 16 keys' k pairs;
//   3. the online softmax in f32 exactly as the f32 kernel (max over visible keys only, masked
//      keys exactly 0, vectorized exp), then P rounded to bf16 in key pairs;
//   4. O += P.V in tiles of R rows x NC zmm of the head dim: per key pair one broadcast p dword
//      against NC zmm of 16 dims' v pairs; O rescaled once per block, normalized by l at the end.
//
// Determinism (kernels.h), as in the f32 kernel: every lane of every accumulator is one output
// element's own chain (dim pairs ascending for scores, key pairs ascending for P.V), lanes never
// mix rows, partial tiles repeat a valid row and drop the copy. A row's P.V chain is its
// vis / 2 full key pairs, then (odd vis) one pair of its last key and p = 0 whose V partner is
// zeroed in register: the partner key is the next row's key in a batch but past the block (0) for
// the row alone, and 0 * v is -0 for v < 0 or NaN for v = inf; with the partner zeroed, the pair
// is bit for bit the same in both cases. vdpbf16ps flushes denormal inputs and results to zero
// (fixed by the instruction, not by MXCSR), which is deterministic too. -ffp-contract=off
// (src/ops/CMakeLists.txt) keeps the compiler from fusing the f32 multiply-adds differently in
// different inlined copies.
//
// kernels.cpp calls this file only where cpuid reports AVX512_BF16.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "ops/cpu/kernels_isa.h"

#define TRINITY_AVX512_BF16  // the target region adds avx512bf16
#include "ops/cpu/avx512_target_begin.inc"

namespace trinity::cpu::avx512 {

namespace {

#include "ops/cpu/simd_avx512.inc"  // kVec, lanes, exp_ps, load16, store16

#include "ops/cpu/attention_avx512.inc"  // attention_out<Dot, KV> and its parts

// bf16 lanes 0..n-1 of a zmm (n clamped to 0..32).
inline __mmask32 lanes32(int64_t n) {
  n = std::min<int64_t>(std::max<int64_t>(n, 0), 2 * kVec);
  return static_cast<__mmask32>((uint64_t{1} << n) - 1u);
}

inline __m512bh as_bh(__m512i x) {
  return (__m512bh)x;
}

// kp[i][j] = (k[j][2i], k[j][2i+1]) for pairs i < npp and keys j < 64: a dword transposition of
// the block, since a key row read as dwords already holds its dim pairs. 0 past hd and len.
void load_keys_paired(const uint16_t* k, int64_t ldkv, int64_t len, int64_t hd, int64_t npp,
                      uint32_t* kp) {
  for (int64_t i0 = 0; i0 < npp; i0 += kVec) {
    const __mmask32 m = lanes32(hd - 2 * i0);  // an odd hd's last pair gets a zero partner
    for (int64_t j0 = 0; j0 < kKeyBlock; j0 += kVec) {
      __m512 r[16];
      for (int64_t j = 0; j < kVec; ++j)
        r[j] = j0 + j < len
                   ? _mm512_castsi512_ps(_mm512_maskz_loadu_epi16(m, k + (j0 + j) * ldkv + 2 * i0))
                   : _mm512_setzero_ps();
      transpose16(r);
      for (int64_t i = 0; i < kVec; ++i)
        _mm512_storeu_ps(reinterpret_cast<float*>(kp + (i0 + i) * kKeyBlock + j0), r[i]);
    }
  }
}

// vp[j][d] = (v[2j][d], v[2j+1][d]) for the block's key pairs j < ceil(len / 2) and d < hdp;
// 0 past hd and len. The copy also keeps the P.V loop off the cache's row stride.
void load_values_paired(const uint16_t* v, int64_t ldkv, int64_t len, int64_t hd, int64_t hdp,
                        uint32_t* vp) {
  for (int64_t j = 0; 2 * j < len; ++j)
    for (int64_t d0 = 0; d0 < hdp; d0 += kVec) {
      const __mmask16 m = lanes(hd - d0);
      const __m512i lo = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, v + 2 * j * ldkv + d0));
      const __m512i hi =
          2 * j + 1 < len
              ? _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, v + (2 * j + 1) * ldkv + d0))
              : _mm512_setzero_si512();
      _mm512_storeu_si512(vp + j * hdp + d0, _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
    }
}

// bf16 pairs (dwords) of queries, keys, probabilities and values; one vdpbf16ps per dim pair
// (scores) and per key pair (P.V).
struct Bf16Dot {
  using Word = uint32_t;
  using Reg = __m512bh;
  static constexpr int64_t kKeysPerWord = 2;
  static constexpr int64_t kStagingRows = 0;

  static int64_t dot_steps(int64_t hd) { return (hd + 1) / 2; }

  // q * scale in f32 (the f32 kernel's product), then bf16 pairs; 0 past hd.
  static void load_query(const float* q, __m512 scale, int64_t hd, int64_t npp, uint32_t* qp) {
    for (int64_t i0 = 0; i0 < npp; i0 += kVec) {
      const int64_t d0 = 2 * i0;
      const __m512 x0 = _mm512_maskz_loadu_ps(lanes(hd - d0), q + d0);
      const __m512 x1 = _mm512_maskz_loadu_ps(lanes(hd - d0 - kVec), q + d0 + kVec);
      _mm512_storeu_si512(qp + i0, (__m512i)_mm512_cvtne2ps_pbh(_mm512_mul_ps(x1, scale),
                                                                _mm512_mul_ps(x0, scale)));
    }
  }

  static void load_block(const uint16_t* k, const uint16_t* v, int64_t ldkv, int64_t len,
                         int64_t hd, int64_t hdp, int64_t npp, uint32_t* kp, uint32_t* vp,
                         uint32_t* /*staging*/) {
    load_keys_paired(k, ldkv, len, hd, npp, kp);
    load_values_paired(v, ldkv, len, hd, hdp, vp);
  }

  static __m512bh load(const uint32_t* x) { return as_bh(_mm512_loadu_si512(x)); }
  static __m512bh broadcast(uint32_t x) { return as_bh(_mm512_set1_epi32(static_cast<int>(x))); }
  static __m512 madd(__m512 acc, __m512bh x, __m512bh b) { return _mm512_dpbf16_ps(acc, x, b); }

  // The probabilities rounded to bf16 as key pairs; returns their sum. l sums the bf16-rounded p,
  // the very weights that multiply V, so the applied weights sum to 1 up to the f32 sums: the
  // output stays a convex combination of the visible values (a constant V comes back unchanged)
  // and each p's rounding (<= 2^-8 relative) only shifts weight between keys. Summing the
  // unrounded p would track the f32 kernel's l more closely but scale the whole output by
  // sum p_bf16 / sum p, a bias of up to 2^-8 (e.g. a few dominant keys all rounded the same way).
  // The price is a few integer operations per block.
  static float store_probabilities(const __m512 e[4], uint32_t* pp) {
    // Keys 0..31 and 32..63 as bf16 (nearest even); dword j holds keys (2j, 2j+1).
    const __m512i p0 = (__m512i)_mm512_cvtne2ps_pbh(e[1], e[0]);
    const __m512i p1 = (__m512i)_mm512_cvtne2ps_pbh(e[3], e[2]);
    _mm512_storeu_si512(pp, p0);
    _mm512_storeu_si512(pp + kVec, p1);
    // The rounded p back in f32 (bf16 -> f32 is exact): even keys from the low halves, odd keys
    // from the high halves.
    const __m512i hi_mask = _mm512_set1_epi32(static_cast<int>(0xffff0000u));
    const __m512 even = _mm512_add_ps(_mm512_castsi512_ps(_mm512_slli_epi32(p0, 16)),
                                      _mm512_castsi512_ps(_mm512_slli_epi32(p1, 16)));
    const __m512 odd = _mm512_add_ps(_mm512_castsi512_ps(_mm512_and_si512(p0, hi_mask)),
                                     _mm512_castsi512_ps(_mm512_and_si512(p1, hi_mask)));
    return _mm512_reduce_add_ps(_mm512_add_ps(even, odd));
  }

  // Key pair j of a row's P.V chain near the diagonal: a pair of two visible keys (whole); the
  // pair of its last key (any, not whole) with the partner value zeroed (keep the even, low bf16
  // of each dword), so that 0 * partner is +0 whatever the partner key holds; nothing
  // (accumulators left bit for bit) past its own keys. The masking is a blend after an unmasked
  // vdpbf16ps: GCC 12 moves the __mmask16 of _mm512_mask_dpbf16_ps into k with kmovb (its
  // pattern takes an 8-bit mask), which drops lanes 8-15.
  template <int NC>
  static void pv_edge(__m512 (&acc)[NC], const __m512bh (&v)[NC], uint32_t p, bool whole,
                      bool any) {
    const __mmask16 k = any ? 0xffff : 0;
    const __mmask32 keep = whole ? 0xffffffffu : 0x55555555u;
    const __m512bh b = broadcast(p);
    for (int c = 0; c < NC; ++c) {
      const __m512 sum =
          _mm512_dpbf16_ps(acc[c], as_bh(_mm512_maskz_mov_epi16(keep, (__m512i)v[c])), b);
      acc[c] = _mm512_mask_mov_ps(acc[c], k, sum);
    }
  }
};

}  // namespace

void attention_task_bf16(const AttentionArgs& a, int64_t H, int64_t KV, int64_t hd, int64_t kvh,
                         int64_t t0, int64_t t1) {
  if (a.kv_dtype == DType::kBF16)
    attention_out<Bf16Dot, uint16_t>(a, H, KV, hd, kvh, t0, t1);
  else  // f32 K/V: the f32 kernel, bit for bit
    attention_task(a, H, KV, hd, kvh, t0, t1);
}

}  // namespace trinity::cpu::avx512

#include "ops/cpu/avx512_target_end.inc"
