// huge_alloc: small and large requests are usable, aligned, zero-initialized where mapped, and
// a vector on HugePageAllocator behaves like any vector across growth.
#include "core/huge_alloc.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace trinity {
namespace {

TEST(HugeAlloc, SmallAndLargeBlocksAreUsableAndAligned) {
  for (size_t bytes : {size_t{1}, size_t{100}, kHugeAllocMin - 1, kHugeAllocMin,
                       (size_t{3} << 20) + 5, size_t{64} << 20}) {
    auto* p = static_cast<uint8_t*>(huge_alloc(bytes));
    ASSERT_NE(p, nullptr) << bytes;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u) << bytes;
    if (bytes >= kHugeAllocMin) {
      EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % (size_t{2} << 20), 0u) << bytes;
      EXPECT_EQ(p[0], 0);  // fresh anonymous pages
      EXPECT_EQ(p[bytes - 1], 0);
    }
    std::memset(p, 0xab, bytes);  // every byte is writable
    EXPECT_EQ(p[bytes - 1], 0xab);
    huge_free(p, bytes);
  }
  huge_free(nullptr, 123);
}

TEST(HugeAlloc, VectorGrowsAndKeepsItsValues) {
  std::vector<float, HugePageAllocator<float>> v;
  for (int i = 0; i < 3000000; ++i) v.push_back(static_cast<float>(i));  // crosses the threshold
  for (int i = 0; i < 3000000; i += 99991)
    ASSERT_EQ(v[static_cast<size_t>(i)], static_cast<float>(i));
  v.resize(10);
  v.shrink_to_fit();
  EXPECT_EQ(v.back(), 9.0f);
}

}  // namespace
}  // namespace trinity
