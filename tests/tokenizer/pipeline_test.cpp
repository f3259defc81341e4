// Stage-level tests on small synthetic tokenizer.json files: loader errors, merge formats,
// added-token flags, the decoder, UTF-8 helpers and the NFC quick check.
#include <random>

#include "tokenizer/decoder.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/pretoken_cache.h"
#include "tokenizer/unicode.h"
#include "tokenizer_test_util.h"

namespace trinity::tok {
namespace {

// A byte-level vocabulary (all 256 byte characters) plus the merges given, GPT-2 style ids.
Json tiny_tokenizer(const std::vector<std::pair<std::string, std::string>>& merges,
                    bool merges_as_strings, Json added = Json::array()) {
  const ByteLevelAlphabet& a = ByteLevelAlphabet::get();
  Json vocab = Json::object();
  int32_t next = 0;
  for (int b = 0; b < 256; ++b) vocab[a.encode(std::string(1, static_cast<char>(b)))] = next++;
  Json m = Json::array();
  for (const auto& [l, r] : merges) {
    if (!vocab.contains(l + r)) vocab[l + r] = next++;
    if (merges_as_strings) {
      m.push_back(l + " " + r);
    } else {
      m.push_back(Json::array({l, r}));
    }
  }
  Json bl = {{"type", "ByteLevel"},
             {"add_prefix_space", false},
             {"trim_offsets", false},
             {"use_regex", false}};
  return Json{
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added},
      {"normalizer", {{"type", "NFC"}}},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         Json::array({Json{{"type", "Split"},
                           {"pattern", {{"Regex", split_pattern_regex(SplitPattern::kQwen2)}}},
                           {"behavior", "Isolated"},
                           {"invert", false}},
                      bl})}}},
      {"post_processor", bl},
      {"decoder", bl},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", nullptr},
        {"continuing_subword_prefix", ""},
        {"end_of_word_suffix", ""},
        {"fuse_unk", false},
        {"byte_fallback", false},
        {"ignore_merges", false},
        {"vocab", vocab},
        {"merges", m}}}};
}

std::shared_ptr<const Tokenizer> build(const Json& j) {
  auto r = Tokenizer::load_from_json_text(j.dump(), "tiny.json");
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : nullptr;
}

std::vector<std::string> tokens_of(const Tokenizer& t, const std::string& text) {
  std::vector<std::string> out;
  auto ids = t.encode(text);
  EXPECT_TRUE(ids.ok()) << ids.status().message();
  if (ids.ok()) {
    for (int32_t id : *ids) out.push_back(t.id_to_token(id));
  }
  return out;
}

const std::vector<std::pair<std::string, std::string>> kMerges = {
    {"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {"Ġ", "w"}, {"o", "r"}, {"Ġw", "or"}};

TEST(TokenizerPipeline, MergesAsStringsOrPairsAgree) {
  auto a = build(tiny_tokenizer(kMerges, true));
  auto b = build(tiny_tokenizer(kMerges, false));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(tokens_of(*a, "hello world"), (std::vector<std::string>{"hello", "Ġwor", "l", "d"}));
  EXPECT_EQ(*a->encode("hello world"), *b->encode("hello world"));
  EXPECT_EQ(a->vocab_size(), 256u + kMerges.size());
}

TEST(TokenizerPipeline, MergeRankOrderMatters) {
  // "abc": (b,c) ranks before (a,b) -> "a" "bc"; the reverse order gives "ab" "c".
  auto t1 = build(tiny_tokenizer({{"b", "c"}, {"a", "b"}}, true));
  auto t2 = build(tiny_tokenizer({{"a", "b"}, {"b", "c"}}, true));
  ASSERT_TRUE(t1 && t2);
  EXPECT_EQ(tokens_of(*t1, "abc"), (std::vector<std::string>{"a", "bc"}));
  EXPECT_EQ(tokens_of(*t2, "abc"), (std::vector<std::string>{"ab", "c"}));
  // Equal pairs merge left to right: "aaa" -> "aa" "a".
  auto t3 = build(tiny_tokenizer({{"a", "a"}}, true));
  ASSERT_TRUE(t3);
  EXPECT_EQ(tokens_of(*t3, "aaa"), (std::vector<std::string>{"aa", "a"}));
  // Long words take the heap path; both paths must agree with the merge order.
  std::string long_word(301, 'a');
  auto ids = *t3->encode(long_word);
  ASSERT_EQ(ids.size(), 151u);
  EXPECT_EQ(t3->id_to_token(ids.back()), "a");
}

Json added_token(int id, const std::string& content, bool single_word, bool lstrip, bool rstrip,
                 bool normalized, bool special) {
  return Json{{"id", id},          {"content", content}, {"single_word", single_word},
              {"lstrip", lstrip},  {"rstrip", rstrip},   {"normalized", normalized},
              {"special", special}};
}

TEST(TokenizerPipeline, AddedTokenFlags) {
  Json added = Json::array({added_token(300, "<mask>", true, true, true, false, true),
                            added_token(301, "[X]", false, false, false, false, true),
                            added_token(302, "[X]Y", false, false, false, false, false),
                            added_token(303, "caf\u00e9", false, false, false, true, false)});
  auto t = build(tiny_tokenizer(kMerges, true, added));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->vocab_size(), 304u);
  // lstrip/rstrip swallow the surrounding whitespace.
  auto ids = *t->encode("a <mask>\tb");
  EXPECT_EQ(testing::ids_str(ids), "[97, 300, 98]");  // byte ids = byte values here
  // single_word: not matched inside a word.
  ids = *t->encode("a<mask> b");
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 300), 0);
  // Leftmost-longest: "[X]Y" wins over "[X]".
  ids = *t->encode("[X]Y[X]");
  EXPECT_EQ(testing::ids_str(ids), "[302, 301]");
  // normalized=true tokens match the NFC form of the text (e + U+0301 -> é).
  ids = *t->encode("cafe\u0301!");
  EXPECT_EQ(testing::ids_str(ids), "[303, 33]");
  // normalized=false tokens match the raw text only.
  EXPECT_EQ(t->decode(*t->encode("x[X]y")), "x[X]y");
}

TEST(TokenizerPipeline, UnsupportedConfigurationsAreNamed) {
  struct Case {
    std::string pointer;
    Json value;
    std::string expect;
  } cases[] = {
      {"/model/type", "WordPiece", "model.type"},
      {"/normalizer", Json{{"type", "NFKC"}}, "normalizer.type \"NFKC\""},
      {"/pre_tokenizer", Json{{"type", "Whitespace"}}, "pre_tokenizer.type \"Whitespace\""},
      {"/pre_tokenizer/pretokenizers/0/pattern/Regex", "\\s+", "pattern.Regex"},
      {"/pre_tokenizer/pretokenizers/0/behavior", "Removed", "behavior"},
      {"/pre_tokenizer/pretokenizers/1/add_prefix_space", true, "add_prefix_space"},
      {"/decoder", Json{{"type", "WordPiece"}}, "decoder.type \"WordPiece\""},
      {"/model/byte_fallback", true, "byte_fallback"},
      {"/model/continuing_subword_prefix", "##", "continuing_subword_prefix"},
      {"/truncation", Json{{"max_length", 8}}, "truncation"},
  };
  for (const Case& c : cases) {
    Json j = tiny_tokenizer(kMerges, true);
    j[Json::json_pointer(c.pointer)] = c.value;
    auto r = Tokenizer::load_from_json_text(j.dump(), "tiny.json");
    ASSERT_FALSE(r.ok()) << c.pointer;
    EXPECT_EQ(r.status().code(), ErrorCode::kUnsupported) << r.status().message();
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << r.status().message();
    EXPECT_EQ(r.status().message().rfind("tiny.json", 0), 0u) << r.status().message();
  }
}

TEST(TokenizerPipeline, MalformedFilesAreParseErrors) {
  for (std::string text : {"", "{", "[]", "{\"model\": 3}", "null", "{\"pre_tokenizer\": null}"}) {
    auto r = Tokenizer::load_from_json_text(text, "bad.json");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.status().message().find("bad.json"), std::string::npos);
  }
  Json j = tiny_tokenizer(kMerges, true);
  j["model"]["merges"].push_back("nospace");
  auto r = Tokenizer::load_from_json_text(j.dump(), "m.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("model.merges[7]"), std::string::npos)
      << r.status().message();
  j = tiny_tokenizer(kMerges, true);
  j["model"]["merges"].push_back("q zz");
  r = Tokenizer::load_from_json_text(j.dump(), "m.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("\"zz\" not in vocab"), std::string::npos);
}

TEST(TokenizerPipeline, Gpt2StyleByteLevelPreTokenizerLoads) {
  Json j = tiny_tokenizer(kMerges, true);
  j["pre_tokenizer"] = Json{{"type", "ByteLevel"},
                            {"add_prefix_space", false},
                            {"trim_offsets", true},
                            {"use_regex", true}};
  j["normalizer"] = nullptr;
  auto t = build(j);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->split_pattern(), SplitPattern::kGpt2);
  EXPECT_FALSE(t->uses_nfc());
  EXPECT_EQ(tokens_of(*t, "hello world"), (std::vector<std::string>{"hello", "Ġwor", "l", "d"}));
}

TEST(TokenizerDecoder, LossyUtf8LikeRust) {
  // Expected values from Rust String::from_utf8_lossy (maximal subparts -> one U+FFFD each).
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(utf8_lossy("abc"), "abc");
  EXPECT_EQ(utf8_lossy("\xF0\x9F\x98"), r);  // truncated 4-byte sequence
  EXPECT_EQ(utf8_lossy("\xF0\x9F\x98"
                       "a"),
            r + "a");
  EXPECT_EQ(utf8_lossy("\xC0\xAF"), r + r);          // overlong: each byte
  EXPECT_EQ(utf8_lossy("\xED\xA0\x80"), r + r + r);  // surrogate
  EXPECT_EQ(utf8_lossy("\xE0\x80"), r + r);
  EXPECT_EQ(utf8_lossy("\xE2\x82"), r);
  EXPECT_EQ(utf8_lossy("\xF4\x90\x80\x80"), r + r + r + r);  // > U+10FFFF
  EXPECT_EQ(utf8_lossy("\xFF\xFE"), r + r);
  // Tokens with characters outside the byte alphabet contribute their own UTF-8.
  EXPECT_EQ(ByteLevelDecoder::token_bytes("<|im_end|>"), "<|im_end|>");
  EXPECT_EQ(ByteLevelDecoder::token_bytes("Ġhi"), " hi");
  EXPECT_EQ(ByteLevelDecoder::token_bytes("\u4e2d"), "\u4e2d");
  EXPECT_EQ(ByteLevelDecoder::decode({"Ġ", "Ã©"}), " \u00e9");
}

TEST(TokenizerUnicode, ValidatorAgreesWithLossyDecoder) {
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    size_t n = rng() % 12;
    for (size_t k = 0; k < n; ++k) {
      static const unsigned char bytes[] = {0x41, 0x80, 0xBF, 0xC2, 0xC0, 0xDF, 0xE0, 0xA0,
                                            0xED, 0x9F, 0xF0, 0x90, 0xF4, 0x8F, 0xF5, 0xFF};
      s.push_back(static_cast<char>(rng() % 3 ? bytes[rng() % 16] : rng() % 256));
    }
    bool valid = !find_invalid_utf8(s).has_value();
    EXPECT_EQ(valid, utf8_lossy(s) == s);
    if (valid) {
      EXPECT_EQ(utf8_lossy(s), s);
    }
  }
}

TEST(TokenizerUnicode, NfcQuickCheckNeverMissesAChange) {
  const char32_t pool[] = {'a',    'e',    'A',    ' ',     0x301,  0x308,  0x327,  0xE9,   0x1E14,
                           0x212B, 0x2126, 0xF900, 0x2F800, 0x1100, 0x1161, 0x11A8, 0xAC00, 0x0958,
                           0x09C7, 0x09BE, 0x0CD5, 0x0B47,  0x0B3E, 0x1B05, 0x1B35, 0x3099, 0x304B,
                           0x0344, 0x0F73, 0x4E2D, 0x1F600, 0xFE0F, 0x200D, 0x0627};
  std::mt19937 rng(11);
  for (int i = 0; i < 50000; ++i) {
    std::string s;
    size_t n = rng() % 8;
    for (size_t k = 0; k < n; ++k) append_utf8(s, pool[rng() % std::size(pool)]);
    std::string want = testing::nfc_reference(s);
    if (NfcNormalizer::quick_check(s)) {
      EXPECT_EQ(want, s) << Json(s).dump();
    }
    std::string got;
    ASSERT_TRUE(NfcNormalizer::normalize(s, &got).ok());
    EXPECT_EQ(got, want);
  }
  EXPECT_FALSE(NfcNormalizer::quick_check("e\u0301"));
  EXPECT_FALSE(NfcNormalizer::quick_check("\u212b"));        // singleton (Angstrom sign)
  EXPECT_FALSE(NfcNormalizer::quick_check("\u1100\u1161"));  // Hangul L + V
  EXPECT_TRUE(NfcNormalizer::quick_check("caf\u00e9 \u4e2d"));
}

TEST(TokenizerCache, BoundedAndCorrect) {
  PretokenCache cache(1024);
  std::vector<int32_t> out;
  for (int i = 0; i < 100000; ++i) {
    std::string key = std::to_string(i);
    key.push_back('k');
    int32_t ids[2] = {i, -i};
    cache.insert(key, PretokenCache::hash(key), ids, 2);
  }
  EXPECT_LE(cache.size(), 1024u);
  EXPECT_GT(cache.size(), 0u);
  size_t hits = 0;
  for (int i = 0; i < 100000; ++i) {
    std::string key = std::to_string(i);
    key.push_back('k');
    out.clear();
    if (cache.lookup(key, PretokenCache::hash(key), &out)) {
      ++hits;
      ASSERT_EQ(out, (std::vector<int32_t>{i, -i}));
    }
  }
  EXPECT_EQ(hits, cache.size());
  std::string too_long(PretokenCache::kMaxKeyBytes + 1, 'x');
  int32_t one = 1;
  cache.insert(too_long, PretokenCache::hash(too_long), &one, 1);
  EXPECT_FALSE(cache.lookup(too_long, PretokenCache::hash(too_long), &out));
}

}  // namespace
}  // namespace trinity::tok
