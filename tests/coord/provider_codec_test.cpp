// The provider response codecs on hostile bodies: crashes reproduced with the libFuzzer targets
// fuzz_coord_openai_response and fuzz_coord_anthropic_response (see scripts/fuzz.sh).
#include <gtest/gtest.h>

#include <string>

#include "coord/provider.h"

namespace trinity::coord {
namespace {

// {"error": [[[...]]]} nested `depth` deep: error_text() dumps such an error.
std::string deep_error_body(size_t depth) {
  return R"({"error":)" + std::string(depth, '[') + std::string(depth, ']') + "}";
}

TEST(ProviderCodec, AnthropicBlockTypeThatIsNotAStringIsSkipped) {
  // block.value("type", "") threw nlohmann's type_error.302 here: an uncaught exception that
  // ended the process on a hostile (or buggy) upstream reply.
  auto r = parse_anthropic_response(
      R"({"content":[{"type":5,"text":"no"},{"type":["text"],"text":"no"},{"type":null},)"
      R"({"type":"text","text":"42"}],"usage":{"input_tokens":3,"output_tokens":1}})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->text, "42");
  EXPECT_EQ(r->input_tokens, 3);
  auto only_bad = parse_anthropic_response(R"({"content":[{"type":5}]})");
  ASSERT_FALSE(only_bad.ok());
  EXPECT_EQ(only_bad.status().code(), ErrorCode::kParse);
  EXPECT_NE(only_bad.status().message().find("empty content"), std::string::npos);
}

TEST(ProviderCodec, DeeplyNestedErrorBodyIsMalformedNotAStackOverflow) {
  // 200,000 levels: error_text()'s recursive dump() overflowed the stack (reproduced by running
  // the fuzz targets on a large input; libFuzzer's default max_len is too small to reach it).
  for (auto parse : {parse_openai_response, parse_anthropic_response}) {
    auto r = parse(deep_error_body(200000));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kParse);
    EXPECT_NE(r.status().message().find("malformed response: invalid JSON"), std::string::npos)
        << r.status().message();
  }
  // Shallow error values are still reported with their text.
  auto shallow = parse_openai_response(deep_error_body(3));
  ASSERT_FALSE(shallow.ok());
  EXPECT_NE(shallow.status().message().find("error in response: [[[]]]"), std::string::npos)
      << shallow.status().message();
}

TEST(ProviderCodec, ErrorBodiesAndOddUsage) {
  auto e = parse_openai_response(R"({"error":{"message":"Incorrect API key","code":"k"}})");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("error in response: Incorrect API key"), std::string::npos);
  auto s = parse_anthropic_response(R"({"type":"error","error":{"type":"overloaded_error",)"
                                    R"("message":"Overloaded"}})");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("Overloaded"), std::string::npos);
  // Usage that is negative, fractional or beyond int64 counts as 0.
  auto u = parse_openai_response(
      R"({"choices":[{"message":{"content":"ok"}}],)"
      R"("usage":{"prompt_tokens":18446744073709551615,"completion_tokens":-3}})");
  ASSERT_TRUE(u.ok()) << u.status().message();
  EXPECT_EQ(u->input_tokens, 0);
  EXPECT_EQ(u->output_tokens, 0);
}

}  // namespace
}  // namespace trinity::coord
