// Exactness against the golden data (Oniguruma-based reference) and fixed facts.
#include <thread>

#include "tokenizer_test_util.h"

namespace trinity::tok {
namespace {

using testing::ids_str;
using testing::load_golden;
using testing::qwen3;

std::vector<int32_t> json_ids(const Json& j) {
  std::vector<int32_t> v;
  for (const Json& x : j) v.push_back(x.get<int32_t>());
  return v;
}

TEST(TokenizerGolden, LoadsQwen3) {
  auto tok = qwen3();
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->vocab_size(), 151669u);
  EXPECT_EQ(tok->split_pattern(), SplitPattern::kQwen2);
  EXPECT_TRUE(tok->uses_nfc());
  EXPECT_EQ(tok->added_tokens().size(), 26u);
  EXPECT_EQ(tok->token_to_id("<|im_start|>"), 151644);
  EXPECT_EQ(tok->token_to_id("<|endoftext|>"), 151643);
  EXPECT_EQ(tok->token_to_id("</think>"), 151668);
  EXPECT_EQ(tok->token_to_id("Hello"), 9707);
  EXPECT_EQ(tok->token_to_id("ĠĠ"), 256);
  EXPECT_FALSE(tok->token_to_id("no such token here"));
  EXPECT_EQ(tok->id_to_token(1879), "Ġworld");
  EXPECT_EQ(tok->id_to_token(151645), "<|im_end|>");
  EXPECT_EQ(tok->id_to_token(151669), "");
  EXPECT_EQ(tok->id_to_token(-1), "");
  EXPECT_TRUE(tok->is_special(151645));
  EXPECT_FALSE(tok->is_special(*tok->token_to_id("<think>")));
  EXPECT_FALSE(tok->is_special(9707));
}

TEST(TokenizerGolden, LoadsFromFilePath) {
  auto r = Tokenizer::load(std::string(TRINITY_TOKENIZER_DIR) + "/tokenizer.json");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)->vocab_size(), 151669u);
}

TEST(TokenizerGolden, MissingFileIsAnError) {
  auto r = Tokenizer::load("/nonexistent/dir/tokenizer.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(r.status().message().find("/nonexistent/dir/tokenizer.json"), std::string::npos);
}

TEST(TokenizerGolden, AllHardCasesExact) {
  auto tok = qwen3();
  ASSERT_TRUE(tok);
  Json cases = load_golden("tokenizer_cases.json");
  ASSERT_EQ(cases.size(), 115u);
  int exact = 0;
  for (const Json& c : cases) {
    std::string text = c["text"].get<std::string>();
    std::vector<int32_t> want = json_ids(c["ids"]);
    auto got = tok->encode(text);
    ASSERT_TRUE(got.ok()) << got.status().message();
    EXPECT_EQ(ids_str(*got), ids_str(want)) << "text: " << Json(text).dump();
    if (*got == want) ++exact;
    // Token strings.
    std::vector<std::string> toks;
    for (int32_t id : *got) toks.push_back(tok->id_to_token(id));
    EXPECT_EQ(Json(toks), c["tokens"]) << "text: " << Json(text).dump();
    // Round trip: decode(encode(x)) == NFC(x).
    EXPECT_EQ(tok->decode(*got), testing::nfc_reference(text)) << "text: " << Json(text).dump();
  }
  EXPECT_EQ(exact, 115);
}

TEST(TokenizerGolden, TranscriptsExact) {
  auto tok = qwen3();
  ASSERT_TRUE(tok);
  Json transcripts = load_golden("transcripts.json");
  ASSERT_EQ(transcripts.size(), 6u);
  for (const Json& t : transcripts) {
    std::string text = t["transcript"].get<std::string>();
    auto got = tok->encode(text);
    ASSERT_TRUE(got.ok()) << got.status().message();
    EXPECT_EQ(ids_str(*got), ids_str(json_ids(t["ids"]))) << t["id"];
    EXPECT_EQ(got->size(), t["token_count"].get<size_t>()) << t["id"];
    EXPECT_EQ(tok->decode(*got), testing::nfc_reference(text));
  }
  Json vectors = load_golden("hash_vectors.json");
  ASSERT_EQ(vectors.size(), 3u);
  for (const Json& v : vectors) {
    auto got = tok->encode(v["transcript"].get<std::string>());
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->size(), v["token_count"].get<size_t>()) << v["id"];
  }
}

TEST(TokenizerGolden, FixedTokenCounts) {
  auto tok = qwen3();
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->encode("user: What is 17 + 25? Answer briefly.")->size(), 15u);
  EXPECT_EQ(tok->encode("user: .")->size(), 3u);
  EXPECT_TRUE(tok->encode("")->empty());
}

// Ids from the reference tokenizer (notes/tokenizer-facts.md): \s is White_Space.
TEST(TokenizerGolden, WhiteSpaceFacts) {
  auto tok = qwen3();
  ASSERT_TRUE(tok);
  EXPECT_EQ(ids_str(*tok->encode("a \u180e"
                                 "b")),
            "[64, 86089, 254, 236, 65]");
  EXPECT_EQ(ids_str(*tok->encode("x \u0085y")), "[87, 220, 126, 227, 88]");
  EXPECT_EQ(ids_str(*tok->encode("x \ufeffy")), "[87, 75780, 88]");
}

TEST(TokenizerGolden, SpecialTokensInText) {
  auto tok = qwen3();
  ASSERT_TRUE(tok);
  auto ids = *tok->encode("<|im_start|>user\nhi<|im_end|>");
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids.front(), 151644);
  EXPECT_EQ(ids.back(), 151645);
  EXPECT_EQ(tok->decode(ids), "<|im_start|>user\nhi<|im_end|>");
  // A broken special token is plain text.
  auto plain = *tok->encode("<|im_start|");
  for (int32_t id : plain) EXPECT_LT(id, 151643);
}

TEST(TokenizerGolden, InvalidUtf8IsAnErrorWithOffset) {
  auto tok = qwen3();
  ASSERT_TRUE(tok);
  struct Case {
    std::string text;
    size_t offset;
  } cases[] = {
      {std::string("ab\xff"
                   "cd"),
       2},
      {std::string("\xc3"), 0},              // truncated
      {std::string("ok \xc0\xaf"), 3},       // overlong '/'
      {std::string("x\xed\xa0\x80"), 1},     // surrogate U+D800
      {std::string("\xf4\x90\x80\x80"), 0},  // > U+10FFFF
      {std::string("\xe2\x82\xac\x80"), 3},  // stray continuation after '€'
      {std::string("<|im_end|>\xfe"), 10},
  };
  for (const Case& c : cases) {
    auto r = tok->encode(c.text);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), "invalid UTF-8 at byte " + std::to_string(c.offset));
  }
  // NUL is valid UTF-8.
  EXPECT_TRUE(tok->encode(std::string("a\0b", 3)).ok());
}

TEST(TokenizerGolden, DecodeHandlesPartialBytesLikeHf) {
  auto tok = qwen3();
  ASSERT_TRUE(tok);
  // "€" is E2 82 AC: byte tokens for E2 and 82 alone are an incomplete sequence -> one U+FFFD.
  auto e2 = tok->token_to_id("â");   // byte 0xE2
  auto x82 = tok->token_to_id("Ĥ");  // byte 0x82
  ASSERT_TRUE(e2 && x82);
  EXPECT_EQ(tok->decode({*e2, *x82}), "\xEF\xBF\xBD");
  EXPECT_EQ(tok->decode({*x82, *x82}), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(tok->decode({9707, -5, 1 << 30, 1879}), "Hello world");  // unknown ids skipped
  EXPECT_EQ(tok->decode({}), "");
}

TEST(TokenizerGolden, ConcurrentEncodeIsConsistent) {
  auto tok = qwen3();
  ASSERT_TRUE(tok);
  Json cases = load_golden("tokenizer_cases.json");
  std::vector<std::string> texts;
  std::vector<std::vector<int32_t>> want;
  for (const Json& c : cases) {
    texts.push_back(c["text"].get<std::string>());
    want.push_back(json_ids(c["ids"]));
  }
  std::vector<int> failures(8, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        for (size_t i = 0; i < texts.size(); ++i) {
          size_t k =
              (i * 7 + static_cast<size_t>(t) * 13 + static_cast<size_t>(round)) % texts.size();
          auto r = tok->encode(texts[k]);
          if (!r.ok() || *r != want[k]) ++failures[static_cast<size_t>(t)];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

}  // namespace
}  // namespace trinity::tok
