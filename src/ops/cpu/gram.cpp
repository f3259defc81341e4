#include "ops/cpu/gram.h"

#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <vector>

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

constexpr int64_t kGenericRowBlock = 2048;

}  // namespace

double strided_at(const StridedMatrix& x, int64_t r, int64_t c) {
  const int64_t i = r * x.row_stride + c * x.col_stride;
  switch (x.dtype) {
    case DType::kF32:
      return static_cast<const float*>(x.data)[i];
    case DType::kF64:
      return static_cast<const double*>(x.data)[i];
    case DType::kBF16:
      return bf16_to_f32(static_cast<const uint16_t*>(x.data)[i]);
    default:
      return f16_to_f32(static_cast<const uint16_t*>(x.data)[i]);
  }
}

namespace generic {

void gram_f64_upper(const StridedMatrix& x, double* g, int64_t ldg, int threads) {
  const int64_t n = x.cols, rb = std::min(kGenericRowBlock, std::max<int64_t>(x.rows, 1));
  for (int64_t i = 0; i < n; ++i) std::fill(g + i * ldg + i, g + i * ldg + n, 0.0);
  std::vector<double> blk(static_cast<size_t>(rb * n));
  for (int64_t r0 = 0; r0 < x.rows; r0 += rb) {
    const int64_t r1 = std::min(x.rows, r0 + rb);
    parallel_for(threads, r1 - r0, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r)
        for (int64_t c = 0; c < n; ++c)
          blk[static_cast<size_t>(r * n + c)] = strided_at(x, r0 + r, c);
    });
    // Row-major block A [rows, n]: G += A^T A (upper).
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, static_cast<int>(n),
                static_cast<int>(r1 - r0), 1.0, blk.data(), static_cast<int>(n), 1.0, g,
                static_cast<int>(ldg));
  }
}

}  // namespace generic

void gram_f64_upper(const StridedMatrix& x, double* g, int64_t ldg, int threads) {
  if (use_avx512())
    avx512::gram_f64_upper(x, g, ldg, threads);
  else
    generic::gram_f64_upper(x, g, ldg, threads);
}

const char* gram_f64_impl() {
  return use_avx512() ? "avx512" : "openblas-dsyrk";
}

}  // namespace trinity::cpu
