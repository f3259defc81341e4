// Property test over random Unicode strings with the real tokenizer: never crashes, every id
// is in range, decode(encode(x)) == NFC(x), and encoding is deterministic across calls.
#include <random>

#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer_test_util.h"

namespace trinity::tok {
namespace {

std::string random_unicode(std::mt19937& rng) {
  static const char32_t pool[] = {
      'a',    'Z',     'e',     ' ',      ' ',    ' ',    '\n',    '\r',   '\t',   '\'',
      's',    '1',     '9',     '.',      ',',    '<',    '|',     '>',    '_',    0x85,
      0xA0,   0x180E,  0x2003,  0x200B,   0x3000, 0xFEFF, 0x301,   0x308,  0x17F,  0x212A,
      0xE9,   0x4E2D,  0x6587,  0x3042,   0xAC00, 0x1100, 0x1161,  0x660,  0x966,  0xFF10,
      0x2160, 0x1F600, 0x1F44D, 0x1F3FB,  0x200D, 0xFE0F, 0x1F1FA, 0x0627, 0x05D0, 0x0E01,
      0x0E31, 0x212B,  0xF900,  0x10FFFF, 0xFFFD, 0x0};
  static const char* fragments[] = {"<|im_start|>", "<|im_end|>",    "<think>",
                                    "</think>",     "<|endoftext|>", "<tool_call>",
                                    "<|im_",        "'re",           "'LL"};
  std::string s;
  size_t n = rng() % 48;
  for (size_t k = 0; k < n; ++k) {
    uint32_t r = rng() % 20;
    if (r == 0) {
      s += fragments[rng() % std::size(fragments)];
    } else if (r == 1) {
      char32_t cp = rng() % 0x110000;
      if (cp >= 0xD800 && cp <= 0xDFFF) cp = 'x';
      append_utf8(s, cp);
    } else {
      append_utf8(s, pool[rng() % std::size(pool)]);
    }
  }
  return s;
}

TEST(TokenizerProperty, RandomUnicodeRoundTrips) {
  auto tok = testing::qwen3();
  ASSERT_TRUE(tok);
  std::mt19937 rng(12345);
  int failures = 0;
  for (int i = 0; i < 20000 && failures < 10; ++i) {
    std::string s = random_unicode(rng);
    auto ids = tok->encode(s);
    ASSERT_TRUE(ids.ok()) << ids.status().message();
    for (int32_t id : *ids) ASSERT_TRUE(id >= 0 && static_cast<size_t>(id) < tok->vocab_size());
    std::string want = testing::nfc_reference(s);
    if (tok->decode(*ids) != want) {
      ++failures;
      ADD_FAILURE() << "round trip: " << Json(s).dump();
    }
    EXPECT_EQ(*tok->encode(s), *ids);  // second call (cache warm) agrees
    if (s.empty()) {
      EXPECT_TRUE(ids->empty());
    }
  }
}

TEST(TokenizerProperty, RandomBytesNeverCrash) {
  auto tok = testing::qwen3();
  ASSERT_TRUE(tok);
  std::mt19937 rng(99);
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    size_t n = rng() % 40;
    for (size_t k = 0; k < n; ++k) s.push_back(static_cast<char>(rng() % 256));
    auto ids = tok->encode(s);
    std::optional<size_t> bad = find_invalid_utf8(s);
    ASSERT_EQ(ids.ok(), !bad.has_value());
    if (!ids.ok()) {
      EXPECT_EQ(ids.status().message(), "invalid UTF-8 at byte " + std::to_string(*bad));
    } else {
      EXPECT_EQ(tok->decode(*ids), testing::nfc_reference(s));
    }
  }
}

TEST(TokenizerProperty, LongInputs) {
  auto tok = testing::qwen3();
  ASSERT_TRUE(tok);
  // Very long single pre-tokens (whitespace run, letter run, emoji run) take the heap path.
  for (std::string unit : {" ", "a", "\u4e2d", "\U0001F600", "!", "\r\n", "1"}) {
    std::string s;
    for (int i = 0; i < 20000; ++i) s += unit;
    auto ids = tok->encode(s);
    ASSERT_TRUE(ids.ok());
    EXPECT_EQ(tok->decode(*ids), s);
  }
}

}  // namespace
}  // namespace trinity::tok

namespace trinity::tok {
namespace {

// The quadratic short-word merge loop and the heap loop of `tokenizers` give the same ids.
TEST(TokenizerProperty, ShortAndHeapMergeLoopsAgree) {
  auto tok = testing::qwen3();
  ASSERT_TRUE(tok);
  std::mt19937 rng(2024);
  const SplitPreTokenizer split(SplitPattern::kQwen2);
  size_t words = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string s = random_unicode(rng);
    for (int k = 0; k < 3; ++k) s += "internationalization ";
    split.for_each(s, [&](std::string_view piece) {
      if (piece.size() > BpeModel::kShortWord) return;
      std::vector<int32_t> a, b;
      tok->model().encode_word(piece, &a, false);
      tok->model().encode_word(piece, &b, true);
      ASSERT_EQ(a, b)
          << Json(std::string(piece)).dump(-1, ' ', false, Json::error_handler_t::replace);
      ++words;
    });
  }
  EXPECT_GT(words, 10000u);
}

}  // namespace
}  // namespace trinity::tok
