// Parallel loops for the cpu kernels. Debian's oneDNN runs on OpenMP, so our kernels use the
// same OpenMP team: one set of worker threads (created once by the runtime) serves both the GEMMs
// and the fused kernels, and the two never compete for the cores.
#pragma once

#include <cstdint>
#include <functional>

namespace trinity::cpu {

// Number of hardware threads.
int hardware_threads();

// Splits [0, n) into `threads` contiguous chunks, fn(begin, end) once per non-empty chunk. The
// split depends only on n and threads; every kernel computes each index independently of the
// split, so results are bit-identical for any thread count.
void parallel_for(int threads, int64_t n, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace trinity::cpu
