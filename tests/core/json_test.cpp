// parse_json's errors: the position and what was found, never nlohmann's "[json.exception...]"
// text; short and printable whatever the input (they are sent in HTTP error bodies).
#include "core/json.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace trinity
