// The f64 Gram matrix G = X^T X of an f32/bf16/f16/f64 matrix, for the SVF export's eigen route
// (adapt/svf.h). Every product of two f32 values is exact in f64; only the sums round, at f64.
//
// AVX-512 (gram_avx512.cpp, picked by cpuid): row blocks of X are widened to f64 into column
// panels, and 8 x 24 register tiles of the upper triangle accumulate them (zmm FMAs). Without
// AVX-512: the same row blocks through OpenBLAS dsyrk. The scalar twin is ref::gram_f64.
//
// Determinism: each G element is accumulated by one thread in row order within fixed row
// blocks, so the result does not depend on the thread count.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace trinity::cpu {

// A matrix view X [rows, cols] of f32/bf16/f16/f64 elements (f64 products round once more): element
// (r, c) is at data + (r * row_stride + c * col_stride) elements. col_stride 1 is the row-major
// matrix, row_stride 1 its transpose (the Gram of the other side).
struct StridedMatrix {
  DType dtype = DType::kF32;
  const void* data = nullptr;
  int64_t rows = 0, cols = 0;
  int64_t row_stride = 0, col_stride = 1;
};

// Sets the upper triangle (i <= j) of G [cols, cols] (row-major, leading dimension ldg >= cols):
// G[i * ldg + j] = sum_r X(r, i) X(r, j) in f64. The strict lower triangle is not written.
void gram_f64_upper(const StridedMatrix& x, double* g, int64_t ldg, int threads);

// "avx512" or "openblas-dsyrk": the implementation gram_f64_upper uses on this CPU.
const char* gram_f64_impl();

namespace avx512 {
// The AVX-512 implementation (call only where the CPU has AVX-512 F/BW/VL/DQ).
void gram_f64_upper(const StridedMatrix& x, double* g, int64_t ldg, int threads);
}  // namespace avx512

namespace generic {
// The portable implementation (f64 row blocks through OpenBLAS dsyrk).
void gram_f64_upper(const StridedMatrix& x, double* g, int64_t ldg, int threads);
}  // namespace generic

// X(r, c) as a double (exact for every supported dtype).
double strided_at(const StridedMatrix& x, int64_t r, int64_t c);

}  // namespace trinity::cpu
