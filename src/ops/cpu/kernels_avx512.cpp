// The kernels compiled for AVX-512 (F/BW/VL/DQ + FMA). The target pragma comes after every
// include, so only the kernels below get AVX-512 code: inline library templates instantiated
// here keep the baseline ISA and the linker can never hand an AVX-512 copy to generic code.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "ops/cpu/kernels_isa.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,fma")
#define TRINITY_KERNEL_NS avx512
#include "ops/cpu/kernels_impl.inc"
#pragma GCC pop_options
