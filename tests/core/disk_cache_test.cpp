// DiskCache: entries round-trip, every kind of damage is detected (and the entry deleted),
// eviction keeps the most recently used, and the sha256 memo follows the file's identity.
#include "core/disk_cache.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "core/file_util.h"
#include "core/sha256.h"

namespace trinity {
namespace {

namespace fs = std::filesystem;

class DiskCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("trinity_cache_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  DiskCache cache(uint64_t max_bytes = uint64_t{1} << 30) const {
    return DiskCache(CacheConfig{dir_.string(), true, max_bytes});
  }
  static std::vector<uint8_t> bytes(size_t n, uint8_t seed) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 131);
    return v;
  }
  fs::path dir_;
};

TEST_F(DiskCacheTest, RoundTripAcrossPartsAndChunks) {
  const DiskCache c = cache();
  const auto a = bytes(5000, 1), b = bytes((size_t{32} << 20) + 17, 2);  // crosses a chunk
  ASSERT_TRUE(c.put("weights", "k1", 3, {a, b}, 2).ok());
  auto e = c.get("weights", "k1", 3, nullptr, 2);
  ASSERT_TRUE(e);
  ASSERT_EQ(e->size, a.size() + b.size());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(e->payload) % 4096, 0u);
  EXPECT_EQ(std::memcmp(e->payload, a.data(), a.size()), 0);
  EXPECT_EQ(std::memcmp(e->payload + a.size(), b.data(), b.size()), 0);
  EXPECT_FALSE(c.get("weights", "other", 3));
}

TEST_F(DiskCacheTest, DamageIsDetectedAndTheEntryDeleted) {
  const DiskCache c = cache();
  const auto payload = bytes(100000, 7);
  const std::string path = c.path("tok", "k");
  struct Case {
    const char* what;
    std::function<void()> damage;
    const char* why;
  };
  const std::vector<Case> cases = {
      {"flipped payload byte",
       [&] {
         std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
         f.seekp(4096 + 777);
         f.put('\x01');
       },
       "checksum"},
      {"flipped header byte",
       [&] {
         std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
         f.seekp(60);
         f.put('\x7f');
       },
       ""},
      {"truncated", [&] { fs::resize_file(path, fs::file_size(path) - 1); }, "truncated"},
      {"extended", [&] { std::ofstream(path, std::ios::app) << "x"; }, "truncated"},
      {"empty", [&] { fs::resize_file(path, 0); }, "shorter"},
  };
  for (const Case& k : cases) {
    ASSERT_TRUE(c.put("tok", "k", 1, {payload}).ok());
    ASSERT_TRUE(c.get("tok", "k", 1)) << k.what;
    k.damage();
    std::string why;
    EXPECT_FALSE(c.get("tok", "k", 1, &why)) << k.what;
    EXPECT_NE(why.find(k.why), std::string::npos) << k.what << ": " << why;
    EXPECT_FALSE(fs::exists(path)) << k.what << ": a damaged entry must be deleted";
  }
  ASSERT_TRUE(c.put("tok", "k", 1, {payload}).ok());
  std::string why;
  EXPECT_FALSE(c.get("tok", "k", 2, &why));  // another format version: stale
  EXPECT_NE(why.find("version"), std::string::npos) << why;
}

TEST_F(DiskCacheTest, EvictsLeastRecentlyUsedBeyondTheBound) {
  const DiskCache c = cache(3 * 70000);
  const auto p = bytes(60000, 3);
  for (const char* k : {"a", "b", "c"}) {
    ASSERT_TRUE(c.put("w", k, 1, {p}).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(c.get("w", "a", 1));  // a is now the most recent
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(c.put("w", "d", 1, {p}).ok());  // over the bound: b goes
  EXPECT_TRUE(c.get("w", "a", 1));
  EXPECT_FALSE(c.get("w", "b", 1));
  EXPECT_TRUE(c.get("w", "c", 1));
  EXPECT_TRUE(c.get("w", "d", 1));
  auto freed = c.clear("w");
  ASSERT_TRUE(freed.ok());
  EXPECT_GT(*freed, 0u);
  EXPECT_TRUE(c.list().empty());
}

TEST_F(DiskCacheTest, DisabledCacheNeitherReadsNorWrites) {
  const DiskCache off(CacheConfig{dir_.string(), false});
  ASSERT_TRUE(off.put("w", "k", 1, {bytes(10, 1)}).ok());
  EXPECT_FALSE(fs::exists(dir_));
  EXPECT_FALSE(off.get("w", "k", 1));
}

TEST_F(DiskCacheTest, Sha256MemoFollowsTheFileIdentity) {
  const DiskCache c = cache();
  fs::create_directories(dir_);
  const std::string file = (dir_ / "data.bin").string();
  ASSERT_TRUE(write_file_atomic(file, "first content").ok());
  auto h1 = sha256_file_memoized(file, &c);
  ASSERT_TRUE(h1.ok());
  EXPECT_EQ(*h1, sha256_hex("first content"));
  EXPECT_EQ(c.list().size(), 1u);
  EXPECT_EQ(*sha256_file_memoized(file, &c), *h1);             // remembered
  ASSERT_TRUE(write_file_atomic(file, "other content").ok());  // new inode, mtime, ctime
  EXPECT_EQ(*sha256_file_memoized(file, &c), sha256_hex("other content"));
  {  // same size, rewritten in place: mtime/ctime move on
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f << "OTHER";
  }
  EXPECT_EQ(*sha256_file_memoized(file, &c), sha256_hex("OTHER content"));
  EXPECT_FALSE(sha256_file_memoized((dir_ / "missing").string(), &c).ok());
}

}  // namespace
}  // namespace trinity
