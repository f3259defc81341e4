// Differential tests of the hand-written split scanner against Oniguruma itself (the regex
// engine Hugging Face `tokenizers` runs the Split pattern on): every code point's class, and
// the pre-token boundaries of many random strings drawn from tricky code points.
#include <random>

#include "onig_oracle.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer_test_util.h"

namespace trinity::tok {
namespace {

using testing::OnigOracle;

std::string utf8(char32_t cp) {
  std::string s;
  append_utf8(s, cp);
  return s;
}

TEST(OnigurumaDiff, EveryCodePointClassMatchesOniguruma) {
  OnigOracle letter(R"(\p{L})"), number(R"(\p{N})"), space(R"(\s)");
  ASSERT_TRUE(letter.ok() && number.ok() && space.ok());
  size_t mismatches = 0;
  for (char32_t cp = 0; cp < 0x110000; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    std::string s = utf8(cp);
    CharClass want = CharClass::kOther;
    if (letter.full_match(s)) want = CharClass::kLetter;
    if (number.full_match(s)) want = CharClass::kNumber;
    if (space.full_match(s))
      want = (cp == '\r' || cp == '\n') ? CharClass::kNewline : CharClass::kSpace;
    if (char_class(cp) != want && ++mismatches < 20) {
      ADD_FAILURE() << "U+" << std::hex << static_cast<uint32_t>(cp) << " class "
                    << static_cast<int>(char_class(cp)) << " vs onig " << static_cast<int>(want);
    }
  }
  EXPECT_EQ(mismatches, 0u);
  // Spot checks of the documented facts.
  EXPECT_TRUE(is_white_space(0x85));
  EXPECT_FALSE(is_white_space(0x180E));
  EXPECT_FALSE(is_white_space(0xFEFF));
  EXPECT_FALSE(is_white_space(0x200B));
  EXPECT_TRUE(is_white_space(0x3000));
}

// Code points chosen to stress every branch of the pattern.
const std::vector<char32_t>& tricky_pool() {
  static const std::vector<char32_t> pool = [] {
    std::vector<char32_t> p;
    for (char c :
         std::string("aAzZsStTrReEvVmMlLdDkK09 '\t\n\r\v\f.,!?-_()[]{}\"#$%&*+/:;<=>@\\^`|~")) {
      p.push_back(static_cast<unsigned char>(c));
    }
    for (int i = 0; i < 6; ++i) p.push_back(' ');  // make space runs likely
    for (int i = 0; i < 3; ++i) p.push_back('\'');
    for (int i = 0; i < 3; ++i) p.push_back('\n');
    const char32_t extra[] = {
        0x0,     0x7F,    0x80,     0x85,    0xA0,    0xAD,    0x1680, 0x180E,  0x2000,
        0x2005,  0x200A,  0x200B,   0x200C,  0x200D,  0x2028,  0x2029, 0x202F,  0x205F,
        0x3000,  0xFEFF,  // spaces
        0x17F,   0x212A,  0xDF,     0x130,   0x131,   0x1E9E,  0xFB05, 0x2019,  0x2BC,
        0x60,  // folding
        0x301,   0x308,   0x20DD,   0x0E31,  0x093F,  0x0915,  0x0E01, 0x05D0,
        0x0627,  // marks, scripts
        0x660,   0x966,   0xFF10,   0x2460,  0x2160,  0xB2,    0xBD,   0x1D7CE,
        0x10107,  // numbers
        0x2B0,   0x3005,  0x4E2D,   0x6587,  0x3042,  0x30A2,  0xAC00, 0x1100,
        0x1161,                                                               // letters, CJK
        0x1F600, 0x1F44D, 0x1F3FB,  0xFE0F,  0x1F1FA, 0x1F1F8, 0x2764, 0xA9,  // emoji
        0xE000,  0x378,   0x10FFFF, 0x1F9FF, 0xFFFD,  0x3002,  0xFF0C, 0x2014,  0x2026,
    };
    p.insert(p.end(), std::begin(extra), std::end(extra));
    return p;
  }();
  return pool;
}

std::string random_string(std::mt19937& rng, size_t max_chars) {
  const auto& pool = tricky_pool();
  std::uniform_int_distribution<size_t> len_dist(0, max_chars);
  std::uniform_int_distribution<size_t> pick(0, pool.size() - 1);
  std::uniform_int_distribution<uint32_t> any(0, 0x10FFFF);
  std::uniform_int_distribution<int> coin(0, 15);
  size_t n = len_dist(rng);
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    char32_t cp = pool[pick(rng)];
    if (coin(rng) == 0) {  // occasionally any scalar value
      cp = any(rng);
      if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
    }
    append_utf8(s, cp);
  }
  return s;
}

void diff_pattern(SplitPattern pattern, int iterations, uint32_t seed) {
  OnigOracle onig(split_pattern_regex(pattern));
  ASSERT_TRUE(onig.ok());
  SplitPreTokenizer split(pattern);
  std::mt19937 rng(seed);
  int failures = 0;
  for (int it = 0; it < iterations && failures < 10; ++it) {
    std::string s = random_string(rng, 40);
    std::vector<std::string> ours;
    split.for_each(s, [&](std::string_view piece) { ours.emplace_back(piece); });
    std::vector<std::string> want = onig.isolated_pieces(s);
    if (ours != want) {
      ++failures;
      ADD_FAILURE() << "pattern " << static_cast<int>(pattern) << " text " << Json(s).dump()
                    << "\n ours: " << Json(ours).dump() << "\n onig: " << Json(want).dump();
    }
  }
}

TEST(OnigurumaDiff, QwenSplitMatchesOniguruma) {
  diff_pattern(SplitPattern::kQwen2, 60000, 1);
}
TEST(OnigurumaDiff, Llama3SplitMatchesOniguruma) {
  diff_pattern(SplitPattern::kLlama3, 20000, 2);
}
TEST(OnigurumaDiff, Gpt2SplitMatchesOniguruma) {
  diff_pattern(SplitPattern::kGpt2, 20000, 3);
}

TEST(OnigurumaDiff, ContractionsFoldCase) {
  SplitPreTokenizer split(SplitPattern::kQwen2);
  OnigOracle onig(split_pattern_regex(SplitPattern::kQwen2));
  for (std::string s :
       {"it'Sx", "it'\u017fx", "I'LLx", "we'Rex", "x'\u212ax", "'ve'VE'vEx", "'lL'Llx"}) {
    std::vector<std::string> ours;
    split.for_each(s, [&](std::string_view p) { ours.emplace_back(p); });
    EXPECT_EQ(ours, onig.isolated_pieces(s)) << s;
  }
  std::vector<std::string> ours;
  // U+017F folds to 's': the contraction ends the pre-token ("'ſx" is not one piece).
  split.for_each("it'\u017fx", [&](std::string_view p) { ours.emplace_back(p); });
  EXPECT_EQ(ours, (std::vector<std::string>{"it", "'\u017f", "x"}));
}

}  // namespace
}  // namespace trinity::tok
