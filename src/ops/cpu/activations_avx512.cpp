// AVX-512 intrinsic builds of the element-wise kernels the compiler does not vectorize well on
// its own (the exp inside SiLU). Same contract and scalar twin as kernels_impl.inc's loops; the
// arithmetic per element is fixed (no cross-lane reductions), so results do not depend on how
// rows are split over threads.
#include <algorithm>
#include <cstdint>

#include "ops/cpu/kernels_isa.h"

#include "ops/cpu/avx512_target_begin.inc"

namespace trinity::cpu::avx512 {

namespace {

#include "ops/cpu/simd_avx512.inc"  // kVec, lanes, exp_ps, load16, store16

template <typename Y>
void silu_mul_impl(const float* gu, int64_t r0, int64_t r1, int64_t inter, Y* out) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (int64_t r = r0; r < r1; ++r) {
    const float* g = gu + r * 2 * inter;
    const float* u = g + inter;
    Y* o = out + r * inter;
    for (int64_t i = 0; i < inter; i += kVec) {
      const __mmask16 m = lanes(inter - i);
      const __m512 gv = _mm512_maskz_loadu_ps(m, g + i);
      const __m512 uv = _mm512_maskz_loadu_ps(m, u + i);
      // silu(g) * u = g / (1 + exp(-g)) * u, in the scalar twin's order.
      const __m512 e = exp_ps(_mm512_sub_ps(_mm512_setzero_ps(), gv));
      const __m512 s = _mm512_div_ps(gv, _mm512_add_ps(one, e));
      store16(o + i, _mm512_mul_ps(s, uv), m);
    }
  }
}

}  // namespace

void silu_mul_rows_simd(const float* gu, int64_t r0, int64_t r1, int64_t inter, void* out,
                        DType odtype) {
  if (odtype == DType::kBF16)
    silu_mul_impl(gu, r0, r1, inter, static_cast<uint16_t*>(out));
  else
    silu_mul_impl(gu, r0, r1, inter, static_cast<float*>(out));
}

}  // namespace trinity::cpu::avx512

#include "ops/cpu/avx512_target_end.inc"
