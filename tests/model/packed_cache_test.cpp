// The cpu engine's packed-weights cache: a hit gives bit-identical hidden states to packing
// afresh (and to no cache at all), a damaged entry is detected and rebuilt, and entries of
// other weights or profiles are never mixed up.
#include <fstream>

#include "cpu_test_util.h"
#include "model/packed_cache.h"

namespace trinity {
namespace {

using testing_cpu::make_model;
using testing_cpu::ModelShape;

class PackedCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("trinity_packed_cache_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The routed rows of two sequences through a fresh engine.
  std::vector<float> hidden(std::shared_ptr<Qwen3Weights> w, const std::string& profile,
                            const DiskCache* cache, const std::string& identity) {
    EngineOptions eo;
    eo.threads = 2;
    eo.cache = cache;
    eo.weights_identity = identity;
    auto e = make_engine(profile, w, eo);
    EXPECT_TRUE(e.ok()) << e.status().message();
    if (!e.ok()) return {};
    const std::vector<int32_t> a = {5, 17, 900, 3, 44, 12, 7}, b = {1, 2, 3};
    std::vector<float> out(2 * static_cast<size_t>(w->config.hidden_size));
    EXPECT_TRUE((*e)->forward_rows({a, b}, {6, 1}, out.data()).ok());
    return out;
  }
  std::vector<CacheEntryInfo> weights_entries(const DiskCache& c) const {
    std::vector<CacheEntryInfo> out;
    for (const CacheEntryInfo& e : c.list())
      if (e.kind == "weights") out.push_back(e);
    return out;
  }
  std::filesystem::path dir_;
};

TEST_F(PackedCacheTest, HitMissAndNoCacheAreBitIdentical) {
  const ModelShape shape{64, 160, 3, 4, 2, 24, DType::kBF16, true};
  auto w = make_model(shape, 3);
  const DiskCache cache(CacheConfig{dir_.string(), true});
  for (const char* profile : {"cpu", "cpu-bf16"}) {
    const std::vector<float> plain = hidden(w, profile, nullptr, "");
    const std::vector<float> miss = hidden(w, profile, &cache, "model-a");
    const std::vector<float> hit = hidden(w, profile, &cache, "model-a");
    ASSERT_FALSE(plain.empty());
    EXPECT_EQ(plain, miss) << profile;  // exact: the same packed bytes, the same kernels
    EXPECT_EQ(plain, hit) << profile;
  }
  EXPECT_EQ(weights_entries(cache).size(), 2u);  // one per profile
  // The entry holds every layer's four matrices in place: q|k|v, o, gate|up, down.
  std::vector<PackedSpec> specs;
  for (int layer = 0; layer < 3; ++layer)
    for (PackedSpec s :
         {PackedSpec{64, 96 + 2 * 48, DType::kBF16}, PackedSpec{96, 64, DType::kBF16},
          PackedSpec{64, 2 * 160, DType::kBF16}, PackedSpec{160, 64, DType::kBF16}})
      specs.push_back(s);
  std::string why;
  auto mats = load_packed(cache, packed_cache_key("model-a", "cpu"), specs, 2, &why);
  ASSERT_TRUE(mats) << why;
  EXPECT_EQ(mats->size(), 12u);
  specs.pop_back();
  EXPECT_FALSE(load_packed(cache, packed_cache_key("model-a", "cpu"), specs, 2, &why));
  EXPECT_NE(why.find("another model"), std::string::npos) << why;
  hidden(w, "cpu", &cache, "model-b");  // other weights: another entry
  EXPECT_EQ(weights_entries(cache).size(), 3u);
}

TEST_F(PackedCacheTest, DamagedEntryIsRebuiltNotUsed) {
  const ModelShape shape{64, 160, 2, 4, 2, 24, DType::kBF16, false};
  auto w = make_model(shape, 4);
  const DiskCache cache(CacheConfig{dir_.string(), true});
  const std::vector<float> want = hidden(w, "cpu", &cache, "model");
  auto entries = weights_entries(cache);
  ASSERT_EQ(entries.size(), 1u);
  for (int damage = 0; damage < 2; ++damage) {
    if (damage == 0) {  // a flipped byte inside a packed matrix
      std::fstream f(entries[0].path, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(static_cast<std::streamoff>(entries[0].bytes / 2));
      const int c = f.peek();
      f.put(static_cast<char>(c ^ 0x40));
    } else {  // truncated
      std::filesystem::resize_file(entries[0].path, entries[0].bytes - 4096);
    }
    const std::string key = packed_cache_key("model", "cpu");
    std::string why;
    std::vector<PackedSpec> specs;  // any: the entry must be rejected before its contents
    EXPECT_FALSE(load_packed(cache, key, specs, 2, &why)) << damage;
    EXPECT_FALSE(why.empty());
    EXPECT_EQ(hidden(w, "cpu", &cache, "model"), want) << damage;  // rebuilt on the way
    entries = weights_entries(cache);
    ASSERT_EQ(entries.size(), 1u);
  }
  EXPECT_EQ(hidden(w, "cpu", &cache, "model"), want);  // and the rebuilt entry is a hit
}

}  // namespace
}  // namespace trinity
