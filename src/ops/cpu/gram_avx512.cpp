// gram_f64_upper for AVX-512 (gram.h). Per block of kKc rows: the rows are widened to f64 into
// column panels of 8 (one zmm per row of a panel, zero past the last column), then every 8 x 24
// tile of the upper triangle accumulates the block in 24 zmm registers: per row, 3 panel loads,
// 8 broadcasts and 24 FMAs. Threads share the packing and own fixed, balanced sets of tile
// columns, so each element's sum order is fixed (gram.h: determinism).
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/huge_alloc.h"
#include "ops/cpu/gram.h"

#include "ops/cpu/avx512_target_begin.inc"

namespace trinity::cpu::avx512 {

namespace {

constexpr int64_t kPanel = 8;   // columns per packed panel (one zmm of f64)
constexpr int64_t kTileM = 8;   // tile rows: one panel, broadcast per element
constexpr int64_t kTileN = 24;  // tile columns: three panels
constexpr int64_t kKc = 256;    // rows per packed block
constexpr int64_t kPanelStride = kKc * kPanel;

// Rows [r0, r0 + kc) of columns [8p, 8p + 8) of x, widened to f64: dst[k * 8 + t].
void pack_panel(const StridedMatrix& x, int64_t r0, int64_t kc, int64_t p, double* dst) {
  const int64_t c0 = p * kPanel, nc = std::min<int64_t>(kPanel, x.cols - c0);
  if (x.col_stride == 1 && nc == kPanel && x.dtype == DType::kBF16) {
    const uint16_t* s = static_cast<const uint16_t*>(x.data) + r0 * x.row_stride + c0;
    for (int64_t k = 0; k < kc; ++k, s += x.row_stride) {
      const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s)));
      _mm512_storeu_pd(dst + k * kPanel,
                       _mm512_cvtps_pd(_mm256_castsi256_ps(_mm256_slli_epi32(w, 16))));
    }
    return;
  }
  if (x.col_stride == 1 && nc == kPanel && x.dtype == DType::kF32) {
    const float* s = static_cast<const float*>(x.data) + r0 * x.row_stride + c0;
    for (int64_t k = 0; k < kc; ++k, s += x.row_stride)
      _mm512_storeu_pd(dst + k * kPanel, _mm512_cvtps_pd(_mm256_loadu_ps(s)));
    return;
  }
  for (int64_t t = 0; t < kPanel; ++t)
    for (int64_t k = 0; k < kc; ++k)
      dst[k * kPanel + t] = t < nc ? strided_at(x, r0 + k, c0 + t) : 0.0;
}

// c[8, 24] (leading dimension ldc) += a^T b over kc rows: a one panel, b three consecutive ones.
void tile_8x24(const double* a, const double* b, int64_t kc, double* c, int64_t ldc) {
  __m512d acc[kTileM][3];
#pragma GCC unroll 8
  for (int i = 0; i < kTileM; ++i)
#pragma GCC unroll 3
    for (int j = 0; j < 3; ++j) acc[i][j] = _mm512_setzero_pd();
  for (int64_t k = 0; k < kc; ++k) {
    const __m512d x0 = _mm512_loadu_pd(b + k * kPanel);
    const __m512d x1 = _mm512_loadu_pd(b + kPanelStride + k * kPanel);
    const __m512d x2 = _mm512_loadu_pd(b + 2 * kPanelStride + k * kPanel);
    const double* ak = a + k * kPanel;
#pragma GCC unroll 8
    for (int i = 0; i < kTileM; ++i) {
      const __m512d av = _mm512_set1_pd(ak[i]);
      acc[i][0] = _mm512_fmadd_pd(av, x0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_pd(av, x1, acc[i][1]);
      acc[i][2] = _mm512_fmadd_pd(av, x2, acc[i][2]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < kTileM; ++i)
#pragma GCC unroll 3
    for (int j = 0; j < 3; ++j) {
      double* p = c + i * ldc + j * kPanel;
      _mm512_storeu_pd(p, _mm512_add_pd(_mm512_loadu_pd(p), acc[i][j]));
    }
}

// Tile columns [bounds[t], bounds[t + 1]) for thread t: column jt holds 3 (jt + 1) tiles of the
// upper triangle, so the split balances the sum of (jt + 1).
std::vector<int64_t> column_split(int64_t tile_cols, int threads) {
  std::vector<int64_t> bounds(static_cast<size_t>(threads) + 1, tile_cols);
  bounds[0] = 0;
  const double total = 0.5 * static_cast<double>(tile_cols * (tile_cols + 1));
  int64_t jt = 0;
  double acc = 0;
  for (int t = 1; t < threads; ++t) {
    while (jt < tile_cols && acc < total * t / threads) acc += static_cast<double>(++jt);
    bounds[static_cast<size_t>(t)] = jt;
  }
  return bounds;
}

}  // namespace

void gram_f64_upper(const StridedMatrix& x, double* g, int64_t ldg, int threads) {
  const int64_t n = x.cols, np = (n + kTileN - 1) / kTileN * kTileN;
  const int64_t panels = np / kPanel, tile_cols = np / kTileN;
  const int nt = static_cast<int>(std::clamp<int64_t>(threads, 1, tile_cols));
  std::vector<double, HugePageAllocator<double>> c(static_cast<size_t>(np * np), 0.0);
  std::vector<double, HugePageAllocator<double>> pack_buf(
      static_cast<size_t>(panels * kPanelStride + kPanel));
  double* pk = pack_buf.data();
  pk += (kPanel - (reinterpret_cast<uintptr_t>(pk) / sizeof(double)) % kPanel) % kPanel;
  const std::vector<int64_t> bounds = column_split(tile_cols, nt);
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    for (int64_t r0 = 0; r0 < x.rows; r0 += kKc) {
      const int64_t kc = std::min(kKc, x.rows - r0);
#pragma omp for schedule(static)
      for (int64_t p = 0; p < panels; ++p) pack_panel(x, r0, kc, p, pk + p * kPanelStride);
      for (int64_t jt = bounds[static_cast<size_t>(t)]; jt < bounds[static_cast<size_t>(t) + 1];
           ++jt) {
        const double* b = pk + 3 * jt * kPanelStride;
        for (int64_t it = 0; it < 3 * (jt + 1); ++it)
          tile_8x24(pk + it * kPanelStride, b, kc, c.data() + it * kTileM * np + jt * kTileN, np);
      }
#pragma omp barrier
    }
  }
  for (int64_t i = 0; i < n; ++i)
    std::memcpy(g + i * ldg + i, c.data() + i * np + i,
                static_cast<size_t>(n - i) * sizeof(double));
}

}  // namespace trinity::cpu::avx512

#include "ops/cpu/avx512_target_end.inc"
