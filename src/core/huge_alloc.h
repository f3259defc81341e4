// Large buffers on transparent huge pages where the kernel offers them (THP "madvise" mode, the
// Debian default). A first touch of a 4 KiB page costs a fault each, and on virtualized hosts a
// TLB miss walks two page tables; a 2 MiB page does it once for 512 of them. Small requests go
// to the ordinary heap.
#pragma once

#include <cstddef>
#include <new>

namespace trinity {

// Requests at or above this many bytes are mapped separately and advised MADV_HUGEPAGE.
constexpr size_t kHugeAllocMin = size_t{1} << 20;

// Memory for `bytes` bytes (aligned to 64 bytes at least); never null (throws std::bad_alloc).
void* huge_alloc(size_t bytes);
// Frees what huge_alloc(bytes) returned; `bytes` must be the same value.
void huge_free(void* p, size_t bytes) noexcept;

// std::allocator-compatible: std::vector<float, HugePageAllocator<float>>.
template <typename T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT: rebinding is implicit
  T* allocate(size_t n) { return static_cast<T*>(huge_alloc(n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept { huge_free(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
};

}  // namespace trinity
