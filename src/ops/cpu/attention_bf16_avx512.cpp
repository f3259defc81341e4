// The AVX512_BF16 attention task: attention_avx512.cpp's flash-style causal GQA kernel with both
// products (S = Q.K^T and O += P.V) as vdpbf16ps, for bf16 K/V (the `cpu-bf16` profile: bf16
// operands, f32 accumulation). One vdpbf16ps does 32 bf16 multiply-adds into 16 f32 lanes, twice
// the work of an f32 FMA. Same task shape as the f32 kernel: query rows t0..t1-1 of one segment
// for the `group` query heads of one kv head, rows numbered r = (t - t0) * group + g. Per task:
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
// The target pragma comes after every include (see attention_avx512.cpp). kernels.cpp calls this
// file only where cpuid reports AVX512_BF16.
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's own _mm512_undefined_*() trips -W(maybe-)uninitialized once inlined (GCC bug 105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "ops/cpu/kernels_isa.h"

#if defined(__clang__)
#pragma clang attribute push(                                                     \
    __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma"))), \
    apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma")
#endif

namespace trinity::cpu::avx512 {

namespace {

#include "ops/cpu/simd_avx512.inc"  // kVec, lanes, exp_ps, load16, store16

// Keys per block (blocks at absolute multiples: a row meets the same blocks in the same order in
// any query block, batch or cached prefix) and key pairs per block.
constexpr int64_t kKeyBlock = 64;
constexpr int64_t kKeyPairs = kKeyBlock / 2;
constexpr int kScoreRows = 4;           // rows per score tile: 4 x 4 zmm = 16 accumulators
constexpr int kMaxPvVecs = 4;           // zmm of the head dim per P.V tile (64 floats)
constexpr int64_t kFloatsPerLine = 16;  // scratch regions start on 64-byte lines

inline int64_t round_up(int64_t n, int64_t m) {
  return (n + m - 1) / m * m;
}

// bf16 lanes 0..n-1 of a zmm (n clamped to 0..32).
inline __mmask32 lanes32(int64_t n) {
  n = std::min<int64_t>(std::max<int64_t>(n, 0), 2 * kVec);
  return static_cast<__mmask32>((uint64_t{1} << n) - 1u);
}

inline __m512bh as_bh(__m512i x) {
  return (__m512bh)x;
}

// In-register transpose of a 16x16 tile of dwords (r[i] = row i in, column i out); the same
// shuffles as attention_avx512.cpp's, here moving bf16 pairs as opaque 32-bit values.
inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
    r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
  for (int k = 0; k < 4; ++k) {
    t[k] = _mm512_shuffle_f32x4(r[k], r[4 + k], 0x88);
    t[k + 4] = _mm512_shuffle_f32x4(r[k], r[4 + k], 0xDD);
    t[k + 8] = _mm512_shuffle_f32x4(r[8 + k], r[12 + k], 0x88);
    t[k + 12] = _mm512_shuffle_f32x4(r[8 + k], r[12 + k], 0xDD);
  }
  for (int k = 0; k < 4; ++k) {
    r[k] = _mm512_shuffle_f32x4(t[k], t[k + 8], 0x88);
    r[k + 4] = _mm512_shuffle_f32x4(t[k + 4], t[k + 12], 0x88);
    r[k + 8] = _mm512_shuffle_f32x4(t[k], t[k + 8], 0xDD);
    r[k + 12] = _mm512_shuffle_f32x4(t[k + 4], t[k + 12], 0xDD);
  }
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

// Software prefetch of the next key block's K and V rows, a few lines per tile (the rows are a
// cache row stride apart, which the hardware prefetchers miss); as in attention_avx512.cpp.
struct NextBlockPrefetch {
  const char* k = nullptr;  // K and V of the task's kv head, row 0
  const char* v = nullptr;
  int64_t row0 = 0, lines_per_row = 0, stride = 0;  // first row to fetch; stride in bytes
  int64_t next = 0, total = 0, per_step = 0;        // lines: issued, to issue, per step

  NextBlockPrefetch(const uint16_t* kbase, const uint16_t* vbase, int64_t ld, int64_t first,
                    int64_t rows, int64_t hd, int64_t steps)
      : k(reinterpret_cast<const char*>(kbase)),
        v(reinterpret_cast<const char*>(vbase)),
        row0(first),
        lines_per_row((hd * 2 + 63) / 64),
        stride(ld * 2),
        total(std::max<int64_t>(rows, 0) * lines_per_row),
        per_step((total + steps - 1) / std::max<int64_t>(steps, 1)) {}

  void step() {
    for (const int64_t end = std::min(total, next + per_step); next < end; ++next) {
      const int64_t off = (row0 + next / lines_per_row) * stride + next % lines_per_row * 64;
      _mm_prefetch(k + off, _MM_HINT_T0);
      _mm_prefetch(v + off, _MM_HINT_T0);
    }
  }
};

// One task's state for the current key block.
struct Block {
  const uint32_t* qp;  // [rows][npp] scaled bf16 query pairs
  const uint32_t* kp;  // [npp][64] key pairs
  uint32_t* pp;        // [rows][32] bf16 probability pairs
  float* o;            // [rows][hdp] unnormalized outputs
  float* m;            // [rows] running max
  float* l;            // [rows] running sum
  float* corr;         // [rows] rescale factor of the row's earlier output
  int64_t np, npp, hdp;
  int64_t group, pos0, kb;  // row r is at absolute position pos0 + r / group
  // Keys of the block that row r sees (>= 1 for the rows a block processes).
  int64_t visible(int64_t r) const { return std::min(kKeyBlock, pos0 + r / group - kb + 1); }
};

// Online-softmax step of one row: x (64 scores) over its vis visible keys; writes the
// probabilities rounded to bf16 (exactly 0 past vis) as key pairs to pp, updates the running max
// m and sum l and returns the factor that rescales the row's earlier output. The max, exp and
// rescale are the f32 kernel's, operation for operation.
//
// l sums the bf16-rounded p, the very weights that multiply V, so the applied weights sum to 1 up
// to the f32 sums: the output stays a convex combination of the visible values (a constant V
// comes back unchanged) and each p's rounding (<= 2^-8 relative) only shifts weight between keys.
// Summing the unrounded p would track the f32 kernel's l more closely but scale the whole output
// by sum p_bf16 / sum p, a bias of up to 2^-8 (e.g. a few dominant keys all rounded the same way).
// The price is a few integer operations per block.
float softmax_update(const __m512 x[4], int64_t vis, float& m, float& l, uint32_t* pp) {
  __mmask16 mk[4];
  __m512 mx = _mm512_set1_ps(-INFINITY);
  for (int c = 0; c < 4; ++c) {
    mk[c] = lanes(vis - c * kVec);
    mx = _mm512_mask_max_ps(mx, mk[c], mx, x[c]);
  }
  const float m_new = std::max(m, _mm512_reduce_max_ps(mx));
  // The first block has no earlier output (exp(-inf) would clamp to ~1e-38, not 0). An unchanged
  // max (most blocks after the first few) skips the exp: exp_ps(0) is exactly 1, so no bit changes.
  const float corr = m == -INFINITY ? 0.0f
                     : m == m_new   ? 1.0f
                                    : _mm512_cvtss_f32(exp_ps(_mm512_set1_ps(m - m_new)));
  const __m512 mv = _mm512_set1_ps(m_new);
  __m512 e[4];
  for (int c = 0; c < 4; ++c)
    e[c] =
        mk[c] ? _mm512_maskz_mov_ps(mk[c], exp_ps(_mm512_sub_ps(x[c], mv))) : _mm512_setzero_ps();
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
  const float sum = _mm512_reduce_add_ps(_mm512_add_ps(even, odd));
  m = m_new;
  l = l * corr + sum;
  return corr;
}

// Scores of rows r..r+3 (those < rows) against the block's 64 keys, s[i][j] = sum over dim pairs
// of q pair . k pair (one vdpbf16ps per 16 keys), then each row's softmax step. A partial tile
// computes its missing rows as copies of row r and drops them.
void score_softmax_tile(const Block& b, int64_t r, int64_t rows) {
  const int valid = static_cast<int>(std::min<int64_t>(kScoreRows, rows - r));
  const uint32_t* q[kScoreRows];
  for (int i = 0; i < kScoreRows; ++i) q[i] = b.qp + (i < valid ? r + i : r) * b.npp;
  __m512 acc[kScoreRows][4];
  for (int i = 0; i < kScoreRows; ++i)
    for (int c = 0; c < 4; ++c) acc[i][c] = _mm512_setzero_ps();
  for (int64_t d = 0; d < b.np; ++d) {
    const uint32_t* kd = b.kp + d * kKeyBlock;
    const __m512bh k0 = as_bh(_mm512_loadu_si512(kd)), k1 = as_bh(_mm512_loadu_si512(kd + 16)),
                   k2 = as_bh(_mm512_loadu_si512(kd + 32)), k3 = as_bh(_mm512_loadu_si512(kd + 48));
    for (int i = 0; i < kScoreRows; ++i) {
      const __m512bh bq = as_bh(_mm512_set1_epi32(static_cast<int>(q[i][d])));
      acc[i][0] = _mm512_dpbf16_ps(acc[i][0], k0, bq);
      acc[i][1] = _mm512_dpbf16_ps(acc[i][1], k1, bq);
      acc[i][2] = _mm512_dpbf16_ps(acc[i][2], k2, bq);
      acc[i][3] = _mm512_dpbf16_ps(acc[i][3], k3, bq);
    }
  }
  for (int i = 0; i < valid; ++i)
    b.corr[r + i] = softmax_update(acc[i], b.visible(r + i), b.m[r + i], b.l[r + i],
                                   b.pp + (r + i) * kKeyPairs);
}

// Rows per P.V tile for NC zmm of the head dim: R*NC accumulators + NC value registers + 1
// broadcast fit the 32 zmm.
constexpr int pv_rows(int nc) {
  return nc >= 4 ? 6 : nc == 3 ? 8 : 12;
}

// o[r][c0 .. c0 + 16 NC) = o[r][..] * corr[r] + sum over r's visible keys of p[r][j] * v[j][..]
// for rows r0..r1-1, in tiles of R rows, one vdpbf16ps per key pair (each value vector is loaded
// once per key pair for all rows of a tile).
template <int NC>
void pv_columns(const Block& blk, int64_t r0, int64_t r1, const uint32_t* vp, int64_t c0,
                NextBlockPrefetch& prefetch) {
  constexpr int R = pv_rows(NC);
  for (int64_t rt = r0; rt < r1; rt += R) {
    prefetch.step();
    int64_t row[R], full[R], pairs[R];
    for (int i = 0; i < R; ++i) {
      row[i] = std::min<int64_t>(rt + i, r1 - 1);  // a partial tile repeats its last row
      const int64_t vis = blk.visible(row[i]);
      full[i] = vis / 2;         // pairs of two visible keys
      pairs[i] = (vis + 1) / 2;  // and the last key's pair for an odd vis
    }
    __m512 acc[R][NC];
    for (int i = 0; i < R; ++i) {
      const __m512 corr = _mm512_set1_ps(blk.corr[row[i]]);
      const float* o = blk.o + row[i] * blk.hdp + c0;
      for (int c = 0; c < NC; ++c) acc[i][c] = _mm512_mul_ps(_mm512_loadu_ps(o + c * kVec), corr);
    }
    // Full pairs every row of the tile has, then the rest (only near the diagonal).
    int64_t common = full[0], most = pairs[0];
    for (int i = 1; i < R; ++i) common = std::min(common, full[i]), most = std::max(most, pairs[i]);
    const uint32_t* p[R];
    for (int i = 0; i < R; ++i) p[i] = blk.pp + row[i] * kKeyPairs;
    const uint32_t* vcol = vp + c0;  // value pair vector c of key pair j at vcol + j * hdp + 16 c
    const int64_t hdp = blk.hdp;
    for (int64_t j = 0; j < common; ++j) {
      __m512bh v[NC];
      for (int c = 0; c < NC; ++c) v[c] = as_bh(_mm512_loadu_si512(vcol + j * hdp + c * kVec));
      for (int i = 0; i < R; ++i) {
        const __m512bh b = as_bh(_mm512_set1_epi32(static_cast<int>(p[i][j])));
        for (int c = 0; c < NC; ++c) acc[i][c] = _mm512_dpbf16_ps(acc[i][c], v[c], b);
      }
    }
    // Near the diagonal, per row: its remaining full pairs; its last key's pair with the partner
    // value zeroed (keep the even, low bf16 of each dword), so that 0 * partner is +0 whatever
    // the partner key holds; nothing (accumulators left bit for bit) past its own keys. The
    // masking is a blend after an unmasked vdpbf16ps: GCC 12 moves the __mmask16 of
    // _mm512_mask_dpbf16_ps into k with kmovb (its pattern takes an 8-bit mask), which drops
    // lanes 8-15.
    for (int64_t j = common; j < most; ++j) {
      __m512i v[NC];
      for (int c = 0; c < NC; ++c) v[c] = _mm512_loadu_si512(vcol + j * hdp + c * kVec);
      for (int i = 0; i < R; ++i) {
        const __mmask16 k = j < pairs[i] ? 0xffff : 0;
        const __mmask32 keep = j < full[i] ? 0xffffffffu : 0x55555555u;
        const __m512bh b = as_bh(_mm512_set1_epi32(static_cast<int>(p[i][j])));
        for (int c = 0; c < NC; ++c) {
          const __m512 sum =
              _mm512_dpbf16_ps(acc[i][c], as_bh(_mm512_maskz_mov_epi16(keep, v[c])), b);
          acc[i][c] = _mm512_mask_mov_ps(acc[i][c], k, sum);
        }
      }
    }
    for (int i = 0; i < R && rt + i < r1; ++i) {
      float* o = blk.o + row[i] * blk.hdp + c0;
      for (int c = 0; c < NC; ++c) _mm512_storeu_ps(o + c * kVec, acc[i][c]);
    }
  }
}

// Number of P.V tiles of pv_all for n rows.
int64_t pv_tiles(int64_t hdp, int64_t n) {
  int64_t tiles = 0;
  for (int64_t c0 = 0; c0 < hdp; c0 += kMaxPvVecs * kVec) {
    const int nc = static_cast<int>(std::min<int64_t>(kMaxPvVecs, (hdp - c0) / kVec));
    tiles += (n + pv_rows(nc) - 1) / pv_rows(nc);
  }
  return tiles;
}

void pv_all(const Block& blk, int64_t r0, int64_t r1, const uint32_t* vp,
            NextBlockPrefetch& prefetch) {
  for (int64_t c0 = 0; c0 < blk.hdp; c0 += kMaxPvVecs * kVec) {
    switch (std::min<int64_t>(kMaxPvVecs, (blk.hdp - c0) / kVec)) {
      case 1:
        pv_columns<1>(blk, r0, r1, vp, c0, prefetch);
        break;
      case 2:
        pv_columns<2>(blk, r0, r1, vp, c0, prefetch);
        break;
      case 3:
        pv_columns<3>(blk, r0, r1, vp, c0, prefetch);
        break;
      default:
        pv_columns<4>(blk, r0, r1, vp, c0, prefetch);
        break;
    }
  }
}

template <typename O>
void attention_impl(const AttentionArgs& a, int64_t H, int64_t KVH, int64_t hd, int64_t kvh,
                    int64_t t0, int64_t t1) {
  const int64_t group = H / KVH;
  const int64_t rows = (t1 - t0) * group;
  const int64_t hdp = round_up(hd, kVec);
  const int64_t np = (hd + 1) / 2, npp = round_up(np, kVec);  // dim pairs, padded
  const int64_t rows_l = round_up(rows, kFloatsPerLine);
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));
  const uint16_t* kbase = static_cast<const uint16_t*>(a.k) + kvh * hd;
  const uint16_t* vbase = static_cast<const uint16_t*>(a.v) + kvh * hd;

  // Scratch in 4-byte words, every region on its own 64-byte lines (rows * 32 is a whole number
  // of lines, npp and hdp are multiples of 16).
  const int64_t n_words = rows * npp + rows * hdp + rows * kKeyPairs + 3 * rows_l +
                          npp * kKeyBlock + kKeyPairs * hdp + kFloatsPerLine;
  float* base = thread_scratch(static_cast<size_t>(n_words));
  base +=
      (kFloatsPerLine - reinterpret_cast<uintptr_t>(base) / 4 % kFloatsPerLine) % kFloatsPerLine;
  uint32_t* qp = reinterpret_cast<uint32_t*>(base);            // [rows][npp] query pairs
  float* o = base + rows * npp;                                // [rows][hdp] outputs
  uint32_t* pp = reinterpret_cast<uint32_t*>(o + rows * hdp);  // [rows][32] p pairs
  float* m = reinterpret_cast<float*>(pp + rows * kKeyPairs);  // [rows] running max
  float* l = m + rows_l;                                       // [rows] running sum
  float* corr = l + rows_l;                                    // [rows] rescale factor
  uint32_t* kp = reinterpret_cast<uint32_t*>(corr + rows_l);   // [npp][64] key pairs
  uint32_t* vp = kp + npp * kKeyBlock;                         // [32][hdp] value pairs

  // q * scale in f32 (the f32 kernel's product), then bf16; 0 past hd.
  const __m512 vscale = _mm512_set1_ps(scale);
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t t = t0 + r / group, g = r % group;
    const float* q = a.q + t * a.ldq + (kvh * group + g) * hd;
    for (int64_t i0 = 0; i0 < npp; i0 += kVec) {
      const int64_t d0 = 2 * i0;
      const __m512 x0 = _mm512_maskz_loadu_ps(lanes(hd - d0), q + d0);
      const __m512 x1 = _mm512_maskz_loadu_ps(lanes(hd - d0 - kVec), q + d0 + kVec);
      _mm512_storeu_si512(
          qp + r * npp + i0,
          (__m512i)_mm512_cvtne2ps_pbh(_mm512_mul_ps(x1, vscale), _mm512_mul_ps(x0, vscale)));
    }
    for (int64_t d0 = 0; d0 < hdp; d0 += kVec)
      _mm512_storeu_ps(o + r * hdp + d0, _mm512_setzero_ps());
    m[r] = -INFINITY;
    l[r] = 0.0f;
  }

  const int64_t pos0 = a.q_pos0 + t0;  // row r is at position pos0 + r / group
  const int64_t last_key = a.q_pos0 + t1 - 1;
  for (int64_t kb = 0; kb <= last_key; kb += kKeyBlock) {
    const int64_t len = std::min(kKeyBlock, last_key + 1 - kb);
    // Rows before r_begin have the whole block in their future.
    const int64_t r_begin = std::max<int64_t>(0, kb - pos0) * group;
    load_keys_paired(kbase + kb * a.ldkv, a.ldkv, len, hd, npp, kp);
    load_values_paired(vbase + kb * a.ldkv, a.ldkv, len, hd, hdp, vp);
    const int64_t active = rows - r_begin;
    NextBlockPrefetch prefetch(kbase, vbase, a.ldkv, kb + kKeyBlock,
                               std::min(kKeyBlock, last_key + 1 - (kb + kKeyBlock)), hd,
                               (active + kScoreRows - 1) / kScoreRows + pv_tiles(hdp, active));
    const Block blk{qp, kp, pp, o, m, l, corr, np, npp, hdp, group, pos0, kb};
    for (int64_t r = r_begin; r < rows; r += kScoreRows) {
      prefetch.step();
      score_softmax_tile(blk, r, rows);
    }
    pv_all(blk, r_begin, rows, vp, prefetch);
  }

  O* out = static_cast<O*>(a.out);
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t t = t0 + r / group, g = r % group;
    const __m512 inv = _mm512_set1_ps(1.0f / l[r]);
    O* dst = out + t * a.ldo + (kvh * group + g) * hd;
    for (int64_t d0 = 0; d0 < hdp; d0 += kVec)
      store16(dst + d0, _mm512_mul_ps(_mm512_loadu_ps(o + r * hdp + d0), inv), lanes(hd - d0));
  }
}

}  // namespace

void attention_task_bf16(const AttentionArgs& a, int64_t H, int64_t KV, int64_t hd, int64_t kvh,
                         int64_t t0, int64_t t1) {
  if (a.kv_dtype != DType::kBF16)  // f32 K/V: the f32 kernel, bit for bit
    attention_task(a, H, KV, hd, kvh, t0, t1);
  else if (a.out_dtype == DType::kBF16)
    attention_impl<uint16_t>(a, H, KV, hd, kvh, t0, t1);
  else
    attention_impl<float>(a, H, KV, hd, kvh, t0, t1);
}

}  // namespace trinity::cpu::avx512

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
