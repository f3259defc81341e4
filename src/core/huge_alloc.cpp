#include "core/huge_alloc.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>

namespace trinity {

namespace {

constexpr size_t kHugePage = size_t{2} << 20;

size_t mapped_bytes(size_t bytes) {
  return (bytes + kHugePage - 1) / kHugePage * kHugePage;
}

}  // namespace

void* huge_alloc(size_t bytes) {
  if (bytes < kHugeAllocMin) {
    void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) throw std::bad_alloc();
    return p;
  }
  // Map one huge page more than needed so the block can start on a 2 MiB boundary (only
  // aligned 2 MiB ranges can become huge pages), then unmap the slack on both sides.
  const size_t len = mapped_bytes(bytes);
  void* raw = ::mmap(nullptr, len + kHugePage, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto base = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (base + kHugePage - 1) / kHugePage * kHugePage;
  if (aligned > base) ::munmap(raw, aligned - base);
  const uintptr_t end = base + len + kHugePage;
  if (end > aligned + len) ::munmap(reinterpret_cast<void*>(aligned + len), end - (aligned + len));
  ::madvise(reinterpret_cast<void*>(aligned), len, MADV_HUGEPAGE);  // a hint; fine if refused
  return reinterpret_cast<void*>(aligned);
}

void huge_free(void* p, size_t bytes) noexcept {
  if (!p) return;
  if (bytes < kHugeAllocMin) {
    std::free(p);
    return;
  }
  ::munmap(p, mapped_bytes(bytes));
}

}  // namespace trinity
