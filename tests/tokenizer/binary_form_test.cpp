// The tokenizer's binary form (the cache's copy of tokenizer.json) against the JSON path: the
// same ids, tokens and decodes on every golden case, cache misses and hits alike, and a corrupt
// or malformed binary form is rejected or rebuilt, never trusted into a crash.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

#include "core/disk_cache.h"
#include "tokenizer/binary_form.h"
#include "tokenizer_test_util.h"

namespace trinity::tok {
namespace {

using testing::load_golden;
using testing::qwen3;

// Every golden text, plus a few the goldens do not cover.
std::vector<std::string> texts() {
  std::vector<std::string> out;
  for (const Json& c : load_golden("tokenizer_cases.json")) out.push_back(c["text"]);
  out.push_back("user: hello\nassistant: <|im_end|> 'll 123456 \u4e2d\u6587 \U0001F600");
  out.push_back(std::string(300, 'x') + " long words use the heap merge loop");
  return out;
}

void expect_same(const Tokenizer& a, const Tokenizer& b) {
  ASSERT_EQ(a.vocab_size(), b.vocab_size());
  EXPECT_EQ(a.split_pattern(), b.split_pattern());
  EXPECT_EQ(a.uses_nfc(), b.uses_nfc());
  for (const std::string& t : texts()) {
    auto ia = a.encode(t), ib = b.encode(t);
    ASSERT_TRUE(ia.ok() && ib.ok()) << t;
    ASSERT_EQ(*ia, *ib) << t;
    EXPECT_EQ(a.decode(*ia), b.decode(*ib)) << t;
  }
  for (int32_t id = -2; id < static_cast<int32_t>(a.vocab_size()) + 2; id += 7) {
    ASSERT_EQ(a.id_to_token(id), b.id_to_token(id)) << id;
    ASSERT_EQ(a.token_to_id(a.id_to_token(id)), b.token_to_id(a.id_to_token(id))) << id;
    ASSERT_EQ(a.is_special(id), b.is_special(id)) << id;
  }
  EXPECT_FALSE(b.token_to_id("no such token here"));
}

TEST(TokenizerBinary, RoundTripIsBitIdentical) {
  auto json = qwen3();
  ASSERT_TRUE(json);
  const std::string bin = tokenizer_to_binary(*json);
  auto copied = tokenizer_from_binary({reinterpret_cast<const uint8_t*>(bin.data()), bin.size()});
  ASSERT_TRUE(copied.ok()) << copied.status().message();
  expect_same(*json, **copied);
  // In place (the cache's path): an aligned buffer that the tokenizer keeps alive.
  auto buf = std::make_shared<std::vector<uint64_t>>((bin.size() + 7) / 8);
  std::memcpy(buf->data(), bin.data(), bin.size());
  auto in_place =
      tokenizer_from_binary({reinterpret_cast<const uint8_t*>(buf->data()), bin.size()}, buf);
  ASSERT_TRUE(in_place.ok()) << in_place.status().message();
  buf.reset();
  expect_same(*json, **in_place);
  EXPECT_EQ(tokenizer_to_binary(**in_place), bin);  // stable: a rebuilt entry is the same bytes
}

TEST(TokenizerBinary, MalformedInputIsAnErrorNotACrash) {
  auto json = qwen3();
  ASSERT_TRUE(json);
  const std::string bin = tokenizer_to_binary(*json);
  const auto as_span = [](const std::string& s) {
    return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  for (size_t cut : {size_t{0}, size_t{3}, size_t{13}, bin.size() / 2, bin.size() - 1})
    EXPECT_FALSE(tokenizer_from_binary(as_span(bin.substr(0, cut))).ok()) << cut;
  EXPECT_FALSE(tokenizer_from_binary(as_span(bin + "x")).ok());
  std::mt19937 rng(11);
  int rejected = 0;
  for (int i = 0; i < 40; ++i) {  // flipped bytes in the header and table sizes
    std::string bad = bin;
    bad[rng() % 1200] ^= static_cast<char>(1 + rng() % 255);
    auto t = tokenizer_from_binary(as_span(bad));
    if (!t.ok()) {
      ++rejected;
      continue;
    }
    (void)(*t)->encode("Hello, world! 123 \u4e2d\u6587");  // must not crash either way
  }
  EXPECT_GT(rejected, 0);
}

class TokenizerDiskCache : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("trinity_tok_cache_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(TokenizerDiskCache, MissThenHitThenRebuildAfterCorruption) {
  const DiskCache cache(CacheConfig{dir_.string(), true});
  auto json = qwen3();
  ASSERT_TRUE(json);
  auto miss = load_tokenizer_cached(TRINITY_TOKENIZER_DIR, &cache);
  ASSERT_TRUE(miss.ok()) << miss.status().message();
  std::vector<CacheEntryInfo> entries;
  for (const CacheEntryInfo& e : cache.list())
    if (e.kind == "tokenizer") entries.push_back(e);
  ASSERT_EQ(entries.size(), 1u);
  auto hit = load_tokenizer_cached(TRINITY_TOKENIZER_DIR, &cache);
  ASSERT_TRUE(hit.ok()) << hit.status().message();
  expect_same(*json, **hit);

  {  // flip one byte of the payload: detected, rebuilt, the result unchanged
    std::fstream f(entries[0].path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(entries[0].bytes - 100));
    f.put('\x5a');
  }
  std::string why;
  EXPECT_FALSE(cache.get("tokenizer", entries[0].key, kTokenizerBinaryVersion, &why));
  EXPECT_NE(why.find("checksum"), std::string::npos) << why;
  auto rebuilt = load_tokenizer_cached(TRINITY_TOKENIZER_DIR, &cache);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().message();
  expect_same(*json, **rebuilt);
  EXPECT_TRUE(cache.get("tokenizer", entries[0].key, kTokenizerBinaryVersion));

  // --no-cache: nothing is read or written.
  const DiskCache off(CacheConfig{(dir_ / "off").string(), false});
  auto plain = load_tokenizer_cached(TRINITY_TOKENIZER_DIR, &off);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(std::filesystem::exists(dir_ / "off"));
}

}  // namespace
}  // namespace trinity::tok
