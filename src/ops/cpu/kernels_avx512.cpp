// The kernels compiled for AVX-512 (F/BW/VL/DQ + FMA). The target pragma comes after every
// include, so only the kernels below get AVX-512 code: inline library templates instantiated
// here keep the baseline ISA and the linker can never hand an AVX-512 copy to generic code.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "ops/cpu/kernels_isa.h"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma"))), \
                             apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,fma")
#endif
#define TRINITY_KERNEL_NS avx512
#include "ops/cpu/kernels_impl.inc"
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
