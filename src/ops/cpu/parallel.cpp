#include "ops/cpu/parallel.h"

#include <omp.h>

#include <algorithm>
#include <thread>

namespace trinity::cpu {

int hardware_threads() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

void parallel_for(int threads, int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  const int t = static_cast<int>(std::min<int64_t>(std::max(1, threads), n));
  if (t == 1) {
    fn(0, n);
    return;
  }
#pragma omp parallel num_threads(t)
  {
    const int64_t i = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t begin = n * i / nt, end = n * (i + 1) / nt;
    if (begin < end) fn(begin, end);
  }
}

}  // namespace trinity::cpu
