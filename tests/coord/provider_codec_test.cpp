// The provider response codecs on hostile bodies: crashes reproduced with the libFuzzer targets
// fuzz_coord_openai_response and fuzz_coord_anthropic_response (see scripts/fuzz.sh).
#include <gtest/gtest.h>

#include <string>

#include "coord/provider.h"

namespace trinity::coord {
namespace {

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
