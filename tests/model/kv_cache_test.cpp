// KvState growth: capacity in granules, headroom for the next turn, positions kept across a
// reallocation, and growth by at least a quarter when a state must copy.
#include "model/kv_cache.h"

#include <gtest/gtest.h>

#include <cstring>

namespace trinity {
namespace {

void fill(KvState& s, int64_t from, int64_t to) {
  for (int64_t l = 0; l < 2; ++l)
    for (int64_t p = from; p < to; ++p)
      for (int64_t i = 0; i < s.kv_dim(); ++i) {
        static_cast<float*>(s.k(l))[p * s.kv_dim() + i] = static_cast<float>(l * 1e6 + p * 100 + i);
        static_cast<float*>(s.v(l))[p * s.kv_dim() + i] =
            -static_cast<float>(l * 1e6 + p * 100 + i);
      }
}

bool intact(const KvState& s, int64_t n) {
  for (int64_t l = 0; l < 2; ++l)
    for (int64_t p = 0; p < n; ++p)
      for (int64_t i = 0; i < s.kv_dim(); ++i)
        if (static_cast<const float*>(s.k(l))[p * s.kv_dim() + i] !=
                static_cast<float>(l * 1e6 + p * 100 + i) ||
            static_cast<const float*>(s.v(l))[p * s.kv_dim() + i] !=
                -static_cast<float>(l * 1e6 + p * 100 + i))
          return false;
  return true;
}

TEST(KvState, FreshStateGetsWhatItAsksForInGranules) {
  KvState s(2, 8, DType::kF32);
  s.reserve(28);
  EXPECT_EQ(s.capacity(), 64);
  EXPECT_EQ(s.bytes(), 2u * 2 * 64 * 8 * 4);
  KvState t(2, 8, DType::kBF16);
  t.reserve(100, 256);  // a conversation turn: room for the next one
  EXPECT_EQ(t.capacity(), 384);
  EXPECT_EQ(t.bytes(), 2u * 2 * 384 * 8 * 2);
}

TEST(KvState, GrowthKeepsPositionsAndGrowsByAQuarter) {
  KvState s(2, 8, DType::kF32);
  s.reserve(1024);
  fill(s, 0, 1024);
  s.set_len(1024);
  s.reserve(1024);  // fits: nothing moves
  EXPECT_EQ(s.capacity(), 1024);
  s.reserve(1030);  // must copy: at least capacity * 5/4
  EXPECT_EQ(s.capacity(), 1280);
  EXPECT_TRUE(intact(s, 1024));
  s.reserve(1100, 1000);  // already fits 1100: headroom alone never reallocates
  EXPECT_EQ(s.capacity(), 1280);
  s.reserve(1300, 700);
  EXPECT_EQ(s.capacity(), 2048);
  EXPECT_TRUE(intact(s, 1024));
}

TEST(KvState, CopyPrefixCopiesOnlyThePrefix) {
  KvState s(2, 8, DType::kF32);
  s.reserve(200);
  fill(s, 0, 200);
  s.set_len(200);
  auto c = s.copy_prefix(77);
  EXPECT_EQ(c->len(), 77);
  EXPECT_GE(c->capacity(), 77);
  EXPECT_TRUE(intact(*c, 77));
}

}  // namespace
}  // namespace trinity
