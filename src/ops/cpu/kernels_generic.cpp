// The kernels compiled for baseline x86-64 (any CPU).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "ops/cpu/kernels_isa.h"

#define TRINITY_KERNEL_NS generic
#include "ops/cpu/kernels_impl.inc"
