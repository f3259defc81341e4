// The AVX-512 causal GQA attention task (flash-style, register-blocked intrinsics). One task is
// query rows t0..t1-1 of one segment for the `group` query heads of one kv head; its rows
// (t, g) are numbered r = (t - t0) * group + g. For each key block of kKeyBlock keys (starting at
// absolute multiples of kKeyBlock) it
//   1. converts the block to f32 once: K transposed to kt [hd][64], V to vb [64][hdp];
//   2. S = Q.K^T in tiles of kScoreRows rows x 64 keys (4 zmm per row) accumulated over d;
//   3. updates each row's online softmax (max over visible keys only, vectorized exp);
//   4. O += P.V in tiles of R rows x NC zmm of the head dim, O rescaled once per block.
//
// Determinism (kernels.h): every lane of every accumulator is one output element's own chain of
// operations in a fixed order (d ascending for scores, keys ascending for P.V), and SIMD lanes
// never mix rows, so a row's result depends only on its q, its position and K/V: not on the
// other rows of its tile or task, the tile size, the thread count. Partial tiles repeat a valid
// row and drop the copy's results; the key loop of a P.V tile covers each row's own visible keys
// exactly (no p = 0 terms that a row computed alone would not have). The file is compiled with
// -ffp-contract=off (src/ops/CMakeLists.txt): the FMAs are the explicit intrinsics, so the
// compiler cannot fuse a multiply-add in one inlined copy and not in another.
//
// The target pragma comes after every include, as in kernels_avx512.cpp: only the code below gets
// AVX-512 (immintrin.h's intrinsics carry their own target attributes).
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's own _mm512_undefined_*() (`__m512 __Y = __Y;`) trips -W(maybe-)uninitialized once
// inlined (GCC bug 105593); the warning is located in the header, so silence it there only.
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
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma"))), \
                             apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,fma")
#endif

namespace trinity::cpu::avx512 {

namespace {

#include "ops/cpu/simd_avx512.inc"  // kVec, lanes, exp_ps, load16, store16

// Keys per block; blocks start at absolute multiples of it, so a query row meets the same blocks
// in the same order whichever query block (or batch, or cached prefix) it is in.
constexpr int64_t kKeyBlock = 64;
constexpr int kScoreRows = 4;           // rows per score tile: 4 x 4 zmm = 16 accumulators
constexpr int kMaxPvVecs = 4;           // zmm of the head dim per P.V tile (64 floats)
constexpr int64_t kFloatsPerLine = 16;  // scratch regions start on 64-byte lines

inline int64_t round_up(int64_t n, int64_t m) {
  return (n + m - 1) / m * m;
}

// In-register transpose of a 16x16 f32 tile (r[i] = row i in, column i out).
inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {  // r[4i + k]: column k (+4, +8, +12 per 128-bit lane), rows 4i..
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

// Software prefetch of the next key block's K and V rows, a few lines per score and P.V tile of
// the current block. Those rows are a cache row stride apart (4 KiB for 8 kv heads x 128 f32), a
// pattern the hardware prefetchers miss; spreading the requests keeps the miss buffers from
// filling up (which would stall the tiles).
struct NextBlockPrefetch {
  const char* k = nullptr;  // K and V of the task's kv head, row 0
  const char* v = nullptr;
  int64_t row0 = 0, lines_per_row = 0, stride = 0;  // first row to fetch; stride in bytes
  int64_t next = 0, total = 0, per_step = 0;        // lines: issued, to issue, per step

  template <typename KV>
  NextBlockPrefetch(const KV* kbase, const KV* vbase, int64_t ld, int64_t first, int64_t rows,
                    int64_t hd, int64_t steps)
      : k(reinterpret_cast<const char*>(kbase)),
        v(reinterpret_cast<const char*>(vbase)),
        row0(first),
        lines_per_row((hd * static_cast<int64_t>(sizeof(KV)) + 63) / 64),
        stride(ld * static_cast<int64_t>(sizeof(KV))),
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
  const float* qs;  // [rows][hdp] scaled queries
  const float* kt;  // [hdp][64] transposed keys
  float* p;         // [rows][64] probabilities
  float* o;         // [rows][hdp] unnormalized outputs
  float* m;         // [rows] running max
  float* l;         // [rows] running sum
  float* corr;      // [rows] rescale factor of the row's earlier output
  int64_t hd, hdp;
  int64_t group, pos0, kb;  // row r is at absolute position pos0 + r / group
  // Keys of the block that row r sees (>= 1 for the rows a block processes).
  int64_t visible(int64_t r) const { return std::min(kKeyBlock, pos0 + r / group - kb + 1); }
};

// Online-softmax step of one row: x (64 scores) over its vis visible keys; writes the
// unnormalized probabilities (exactly 0 past vis) to p, updates the running max m and sum l and
// returns the factor that rescales the row's earlier output.
float softmax_update(const __m512 x[4], int64_t vis, float& m, float& l, float* p) {
  __mmask16 mk[4];
  __m512 mx = _mm512_set1_ps(-INFINITY);
  for (int c = 0; c < 4; ++c) {
    mk[c] = lanes(vis - c * kVec);
    mx = _mm512_mask_max_ps(mx, mk[c], mx, x[c]);
  }
  const float m_new = std::max(m, _mm512_reduce_max_ps(mx));
  // The first block has no earlier output (exp(-inf) would clamp to ~1e-38, not 0).
  const float corr = m == -INFINITY ? 0.0f : _mm512_cvtss_f32(exp_ps(_mm512_set1_ps(m - m_new)));
  const __m512 mv = _mm512_set1_ps(m_new);
  __m512 e[4];
  for (int c = 0; c < 4; ++c) {
    // All-masked vectors skip the exp (lanes are independent: the visible ones are the same).
    e[c] =
        mk[c] ? _mm512_maskz_mov_ps(mk[c], exp_ps(_mm512_sub_ps(x[c], mv))) : _mm512_setzero_ps();
    _mm512_storeu_ps(p + c * kVec, e[c]);
  }
  const float sum =
      _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(e[0], e[1]), _mm512_add_ps(e[2], e[3])));
  m = m_new;
  l = l * corr + sum;
  return corr;
}

// Scores of rows r..r+3 (those < rows) against the block's 64 keys, s[i][j] = sum_d q[i][d] *
// kt[d][j] accumulated in registers (4 rows x 4 zmm), then each row's softmax step. A partial
// tile computes its missing rows as copies of row r and drops them.
void score_softmax_tile(const Block& b, int64_t r, int64_t rows) {
  const int valid = static_cast<int>(std::min<int64_t>(kScoreRows, rows - r));
  const float* q[kScoreRows];
  for (int i = 0; i < kScoreRows; ++i) q[i] = b.qs + (i < valid ? r + i : r) * b.hdp;
  __m512 acc[kScoreRows][4];
  for (int i = 0; i < kScoreRows; ++i)
    for (int c = 0; c < 4; ++c) acc[i][c] = _mm512_setzero_ps();
  for (int64_t d = 0; d < b.hd; ++d) {
    const float* kd = b.kt + d * kKeyBlock;
    const __m512 k0 = _mm512_loadu_ps(kd), k1 = _mm512_loadu_ps(kd + 16),
                 k2 = _mm512_loadu_ps(kd + 32), k3 = _mm512_loadu_ps(kd + 48);
    for (int i = 0; i < kScoreRows; ++i) {
      const __m512 bq = _mm512_set1_ps(q[i][d]);
      acc[i][0] = _mm512_fmadd_ps(bq, k0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(bq, k1, acc[i][1]);
      acc[i][2] = _mm512_fmadd_ps(bq, k2, acc[i][2]);
      acc[i][3] = _mm512_fmadd_ps(bq, k3, acc[i][3]);
    }
  }
  for (int i = 0; i < valid; ++i)
    b.corr[r + i] =
        softmax_update(acc[i], b.visible(r + i), b.m[r + i], b.l[r + i], b.p + (r + i) * kKeyBlock);
}

// Rows per P.V tile for NC zmm of the head dim: R*NC accumulators + NC value registers + 1
// broadcast fit the 32 zmm.
constexpr int pv_rows(int nc) {
  return nc >= 4 ? 6 : nc == 3 ? 8 : 12;
}

// o[r][c0 .. c0 + 16 NC) = o[r][..] * corr[r] + sum_{j < vis(r)} p[r][j] * vb[j][..] for rows
// r0..r1-1, in tiles of R rows: each value vector is loaded once per key for all rows of a tile.
template <int NC>
void pv_columns(const Block& blk, int64_t r0, int64_t r1, const float* vb, int64_t c0,
                NextBlockPrefetch& prefetch) {
  constexpr int R = pv_rows(NC);
  for (int64_t rt = r0; rt < r1; rt += R) {
    prefetch.step();
    int64_t row[R], vis[R];
    for (int i = 0; i < R; ++i) {
      row[i] = std::min<int64_t>(rt + i, r1 - 1);  // a partial tile repeats its last row
      vis[i] = blk.visible(row[i]);
    }
    __m512 acc[R][NC];
    for (int i = 0; i < R; ++i) {
      const __m512 corr = _mm512_set1_ps(blk.corr[row[i]]);
      const float* o = blk.o + row[i] * blk.hdp + c0;
      for (int c = 0; c < NC; ++c) acc[i][c] = _mm512_mul_ps(_mm512_loadu_ps(o + c * kVec), corr);
    }
    // Keys every row of the tile sees, then each row's remaining ones (only near the diagonal).
    int64_t common = vis[0];
    for (int i = 1; i < R; ++i) common = std::min(common, vis[i]);
    const float* p[R];
    for (int i = 0; i < R; ++i) p[i] = blk.p + row[i] * kKeyBlock;
    const float* vcol = vb + c0;  // value vector c of key j at vcol + j * hdp + 16 c
    const int64_t hdp = blk.hdp;
    for (int64_t j = 0; j < common; ++j) {
      // Each value vector is loaded into a register once and used by all R rows.
      __m512 v[NC];
      for (int c = 0; c < NC; ++c) v[c] = _mm512_loadu_ps(vcol + j * hdp + c * kVec);
      for (int i = 0; i < R; ++i) {
        const __m512 b = _mm512_set1_ps(p[i][j]);
        for (int c = 0; c < NC; ++c) acc[i][c] = _mm512_fmadd_ps(b, v[c], acc[i][c]);
      }
    }
    // Near the diagonal: each row's remaining keys, as masked FMAs that leave a row's
    // accumulators untouched (bit for bit) past its own last visible key.
    int64_t most = vis[0];
    for (int i = 1; i < R; ++i) most = std::max(most, vis[i]);
    for (int64_t j = common; j < most; ++j) {
      __m512 v[NC];
      for (int c = 0; c < NC; ++c) v[c] = _mm512_loadu_ps(vcol + j * hdp + c * kVec);
      for (int i = 0; i < R; ++i) {
        const __mmask16 k = j < vis[i] ? 0xffff : 0;
        const __m512 b = _mm512_set1_ps(p[i][j]);
        for (int c = 0; c < NC; ++c) acc[i][c] = _mm512_mask3_fmadd_ps(b, v[c], acc[i][c], k);
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

void pv_all(const Block& blk, int64_t r0, int64_t r1, const float* vb,
            NextBlockPrefetch& prefetch) {
  for (int64_t c0 = 0; c0 < blk.hdp; c0 += kMaxPvVecs * kVec) {
    switch (std::min<int64_t>(kMaxPvVecs, (blk.hdp - c0) / kVec)) {
      case 1:
        pv_columns<1>(blk, r0, r1, vb, c0, prefetch);
        break;
      case 2:
        pv_columns<2>(blk, r0, r1, vb, c0, prefetch);
        break;
      case 3:
        pv_columns<3>(blk, r0, r1, vb, c0, prefetch);
        break;
      default:
        pv_columns<4>(blk, r0, r1, vb, c0, prefetch);
        break;
    }
  }
}

template <typename KV, typename O>
void attention_impl(const AttentionArgs& a, int64_t H, int64_t KVH, int64_t hd, int64_t kvh,
                    int64_t t0, int64_t t1) {
  const int64_t group = H / KVH;
  const int64_t rows = (t1 - t0) * group;
  const int64_t hdp = round_up(hd, kVec);
  const int64_t rows_l = round_up(rows, kFloatsPerLine);
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));
  const KV* kbase = static_cast<const KV*>(a.k) + kvh * hd;
  const KV* vbase = static_cast<const KV*>(a.v) + kvh * hd;

  // Scratch, every region on its own 64-byte lines.
  const int64_t n_floats =
      2 * rows * hdp + rows * kKeyBlock + 3 * rows_l + 3 * hdp * kKeyBlock + kFloatsPerLine;
  float* base = thread_scratch(static_cast<size_t>(n_floats));
  base +=
      (kFloatsPerLine - reinterpret_cast<uintptr_t>(base) / 4 % kFloatsPerLine) % kFloatsPerLine;
  float* qs = base;                  // [rows][hdp] scaled queries
  float* o = qs + rows * hdp;        // [rows][hdp] unnormalized outputs
  float* p = o + rows * hdp;         // [rows][64] probabilities
  float* m = p + rows * kKeyBlock;   // [rows] running max
  float* l = m + rows_l;             // [rows] running sum
  float* corr = l + rows_l;          // [rows] this block's rescale factor
  float* kt = corr + rows_l;         // [hdp][64] transposed key block
  float* vb = kt + hdp * kKeyBlock;  // [64][hdp] value block
  float* kc = vb + hdp * kKeyBlock;  // [64][hdp] f32 key block before its transposition

  const __m512 vscale = _mm512_set1_ps(scale);
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t t = t0 + r / group, g = r % group;
    const float* q = a.q + t * a.ldq + (kvh * group + g) * hd;
    for (int64_t d0 = 0; d0 < hdp; d0 += kVec) {
      const __m512 x = _mm512_maskz_loadu_ps(lanes(hd - d0), q + d0);
      _mm512_storeu_ps(qs + r * hdp + d0, _mm512_mul_ps(x, vscale));
      _mm512_storeu_ps(o + r * hdp + d0, _mm512_setzero_ps());
    }
    m[r] = -INFINITY;
    l[r] = 0.0f;
  }

  const int64_t pos0 = a.q_pos0 + t0;  // row r is at position pos0 + r / group
  const int64_t last_key = a.q_pos0 + t1 - 1;
  for (int64_t kb = 0; kb <= last_key; kb += kKeyBlock) {
    const int64_t len = std::min(kKeyBlock, last_key + 1 - kb);
    // Rows before r_begin have the whole block in their future.
    const int64_t r_begin = std::max<int64_t>(0, kb - pos0) * group;
    if constexpr (sizeof(KV) == 4) {
      // A 16x16 transposition tile reads 16 key rows at the cache's row stride; at 4 KiB (f32,
      // 8 kv heads x 128) all 16 lines map to one 8-way L1 set and the transposition runs ~4x
      // slower than from a contiguous copy. bf16 rows are half as far apart: read directly.
      load_values(kbase + kb * a.ldkv, a.ldkv, len, hd, hdp, kc);
      load_keys_transposed(kc, hdp, len, hd, hdp, kt);
    } else {
      load_keys_transposed(kbase + kb * a.ldkv, a.ldkv, len, hd, hdp, kt);
    }
    load_values(vbase + kb * a.ldkv, a.ldkv, len, hd, hdp, vb);
    const int64_t active = rows - r_begin;
    NextBlockPrefetch prefetch(kbase, vbase, a.ldkv, kb + kKeyBlock,
                               std::min(kKeyBlock, last_key + 1 - (kb + kKeyBlock)), hd,
                               (active + kScoreRows - 1) / kScoreRows + pv_tiles(hdp, active));
    const Block blk{qs, kt, p, o, m, l, corr, hd, hdp, group, pos0, kb};
    for (int64_t r = r_begin; r < rows; r += kScoreRows) {
      prefetch.step();
      score_softmax_tile(blk, r, rows);
    }
    pv_all(blk, r_begin, rows, vb, prefetch);
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

void attention_task(const AttentionArgs& a, int64_t H, int64_t KV, int64_t hd, int64_t kvh,
                    int64_t t0, int64_t t1) {
  const bool kv16 = a.kv_dtype == DType::kBF16, o16 = a.out_dtype == DType::kBF16;
  if (kv16 && o16)
    attention_impl<uint16_t, uint16_t>(a, H, KV, hd, kvh, t0, t1);
  else if (kv16)
    attention_impl<uint16_t, float>(a, H, KV, hd, kvh, t0, t1);
  else if (o16)
    attention_impl<float, uint16_t>(a, H, KV, hd, kvh, t0, t1);
  else
    attention_impl<float, float>(a, H, KV, hd, kvh, t0, t1);
}

}  // namespace trinity::cpu::avx512

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
