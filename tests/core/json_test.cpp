// core/json.h: parse_json's errors (the position and what was found, never nlohmann's
// "[json.exception...]" text; short and printable whatever the input, since they are sent in
// HTTP error bodies), and the nesting limit that keeps recursive walks off the stack's end.
#include "core/json.h"

#include <gtest/gtest.h>

#include <string>

namespace trinity {
namespace {

std::string error_of(const std::string& text, const std::string& what = "request body") {
  auto r = parse_json(text, what);
  EXPECT_FALSE(r.ok()) << text;
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), ErrorCode::kParse);
  const std::string m = r.status().message();
  EXPECT_EQ(m.find("json.exception"), std::string::npos) << m;
  EXPECT_EQ(m.find("parse error at"), std::string::npos) << m;
  for (unsigned char c : m) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << m;
  // The ordered variant says the same.
  auto o = parse_ordered_json(text, what);
  EXPECT_FALSE(o.ok());
  if (!o.ok()) {
    EXPECT_EQ(o.status().message(), m);
  }
  return m;
}

TEST(ParseJson, SyntaxErrorsNamePositionAndFinding) {
  EXPECT_EQ(error_of(R"({"a":1,})"),
            "request body: invalid JSON at byte 8: unexpected '}'; expected string literal");
  EXPECT_EQ(error_of(R"({"model": "trinity", "messages": [)"),
            "request body: invalid JSON at byte 35: unexpected end of input; expected '[', '{', "
            "or a literal");
  EXPECT_EQ(error_of(""),
            "request body: invalid JSON at byte 1: unexpected end of input; expected '[', '{', or "
            "a literal");
  EXPECT_EQ(error_of(R"({"a" 1})"),
            "request body: invalid JSON at byte 6: unexpected number literal; expected ':'");
  EXPECT_EQ(error_of("tru"),
            "request body: invalid JSON at byte 4: invalid literal; last read: 'tru'");
  EXPECT_EQ(error_of("[1] [2]"),
            "request body: invalid JSON at byte 5: unexpected '['; expected end of input");
}

TEST(ParseJson, LaterLinesGiveLineAndColumn) {
  EXPECT_EQ(error_of("{\n  \"a\": 1,\n  }", "f.json"),
            "f.json: invalid JSON at line 3, column 3 (byte 15): unexpected '}'; expected string "
            "literal");
  // The end of the input after a newline is on the next line; an offending newline is on its own.
  EXPECT_EQ(error_of("{\"a\":\n", "f.json"),
            "f.json: invalid JSON at line 2, column 1 (byte 7): unexpected end of input; expected "
            "'[', '{', or a literal");
  EXPECT_EQ(error_of("[\"a\nb\"]", "f.json"),
            "f.json: invalid JSON at byte 4: invalid string: control character U+000A (LF) must be "
            "escaped to \\u000A or \\n; last read: '\"a<U+000A>'");
}

TEST(ParseJson, NumberOverflowAndEscapes) {
  EXPECT_EQ(error_of(R"({"x": -1.07e47393659})", "f.json"),
            "f.json: invalid JSON: number overflow parsing '-1.07e47393659'");
  EXPECT_EQ(error_of(R"("\u12")"),
            "request body: invalid JSON at byte 6: invalid string: '\\u' must be followed by 4 hex "
            "digits; last read: '\"\\u12\"'");
}

TEST(ParseJson, QuotedInputIsShortAndAscii) {
  // Invalid UTF-8 and control bytes are shown as \xNN (the message stays valid UTF-8).
  EXPECT_EQ(error_of("\"\xff\""),
            "request body: invalid JSON at byte 2: invalid string: ill-formed UTF-8 byte; last "
            "read: '\"\\xff'");
  // An unterminated megabyte string is not echoed back: its last 32 bytes are.
  const std::string big = "{\"content\": \"" + std::string(1 << 20, 'a') + "b";
  const std::string m = error_of(big);
  EXPECT_LT(m.size(), 200u) << m;
  EXPECT_EQ(m, "request body: invalid JSON at byte " + std::to_string(big.size() + 1) +
                   ": invalid string: missing closing quote; last read: '..." +
                   std::string(31, 'a') + "b'");
}

TEST(ParseJson, ValidTextStillParses) {
  auto j = parse_json(R"({"a": [1, 2, {"b": "c"}]})", "x");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["a"][2]["b"], "c");
}

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
