// The kernels compiled for AVX-512 (F/BW/VL/DQ + FMA). The target region opens after every
// include (avx512_target_begin.inc), so only the kernels below get AVX-512 code: inline library
// templates instantiated here keep the baseline ISA and the linker can never hand an AVX-512 copy
// to generic code.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "ops/cpu/kernels_isa.h"

#include "ops/cpu/avx512_target_begin.inc"

#define TRINITY_KERNEL_NS avx512
#include "ops/cpu/kernels_impl.inc"

#include "ops/cpu/avx512_target_end.inc"
