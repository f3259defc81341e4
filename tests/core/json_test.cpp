// core/json.h: parse errors, and the nesting limit that keeps recursive walks off the stack's end.
#include "core/json.h"

#include <gtest/gtest.h>

#include <string>

namespace trinity {
namespace {

std::string nested(size_t depth, char open = '[', char close = ']') {
  std::string s;
  for (size_t i = 0; i < depth; ++i) s += open == '{' ? R"({"k":)" : std::string(1, open);
  s += "1";
  s += std::string(depth, close);
  return s;
}

TEST(Json, SyntaxErrorsNameWhatAndTheByte) {
  auto r = parse_json("{\"a\": }", "x.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kParse);
  EXPECT_EQ(r.status().message().rfind("x.json: invalid JSON at byte 7", 0), 0u)
      << r.status().message();
  auto big = parse_json("1e400", "n.json");
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), ErrorCode::kParse);
}

TEST(Json, NestingDeeperThanTheLimitIsAParseError) {
  EXPECT_TRUE(parse_json(nested(kMaxJsonDepth), "a.json").ok());
  EXPECT_TRUE(parse_ordered_json(nested(kMaxJsonDepth, '{', '}'), "o.json").ok());
  for (const std::string& text :
       {nested(kMaxJsonDepth + 1), nested(kMaxJsonDepth + 1, '{', '}'), nested(300000)}) {
    auto r = parse_json(text, "deep.json");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kParse);
    EXPECT_EQ(r.status().message(),
              "deep.json: invalid JSON: arrays and objects nested deeper than 512 levels");
    EXPECT_FALSE(parse_ordered_json(text, "deep.json").ok());
  }
}

TEST(Json, BracketsInsideStringsDoNotCount) {
  const std::string brackets(3 * kMaxJsonDepth, '[');
  auto r = parse_json(R"({"s":")" + brackets + R"(\"[{","t":"\\"})", "s.json");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)["s"].get<std::string>(), brackets + "\"[{");
  EXPECT_EQ((*r)["t"].get<std::string>(), "\\");
}

}  // namespace
}  // namespace trinity
