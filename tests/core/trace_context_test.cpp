#include "core/trace_context.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace trinity {
namespace {

constexpr const char* kTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr const char* kSpan = "00f067aa0ba902b7";
const std::string kValid = std::string("00-") + kTrace + "-" + kSpan + "-01";

TEST(TraceParent, ParsesTheSpecExample) {
  auto c = parse_traceparent(kValid);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->trace_id, kTrace);
  EXPECT_EQ(c->span_id, kSpan);
  EXPECT_EQ(c->flags, 0x01);
  EXPECT_TRUE(c->sampled());
  EXPECT_EQ(format_traceparent(*c), kValid);

  auto unsampled = parse_traceparent(std::string("00-") + kTrace + "-" + kSpan + "-00");
  ASSERT_TRUE(unsampled.has_value());
  EXPECT_FALSE(unsampled->sampled());
  auto other_flags = parse_traceparent(std::string("00-") + kTrace + "-" + kSpan + "-a3");
  ASSERT_TRUE(other_flags.has_value());
  EXPECT_EQ(other_flags->flags, 0xa3);
  // Optional whitespace around a header value is not part of it.
  EXPECT_TRUE(parse_traceparent(" \t" + kValid + " ").has_value());
}

TEST(TraceParent, RejectsMalformedHeaders) {
  const std::string zeros32(32, '0'), zeros16(16, '0');
  const std::string bad[] = {
      "",
      "00",
      kValid.substr(0, 54),                                       // short
      kValid + "-",                                               // version 00 has no extra fields
      kValid + "0",                                               // one digit too many
      "ff" + kValid.substr(2),                                    // version ff is invalid
      "0g" + kValid.substr(2),                                    // version not hex
      "00-" + zeros32 + "-" + kSpan + "-01",                      // all-zero trace id
      std::string("00-") + kTrace + "-" + zeros16 + "-01",        // all-zero parent id
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // uppercase trace id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",  // uppercase parent id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",  // uppercase flags
      "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",  // misplaced dash
      "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",  // wrong separators
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-701",  // short parent id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",   // short flags
      "00-4bf92f3577b34da6a3ce929d0e0e47zz-00f067aa0ba902b7-01",  // not hex
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n",
  };
  for (const auto& h : bad) EXPECT_FALSE(parse_traceparent(h).has_value()) << "'" << h << "'";
}

TEST(TraceParent, FutureVersionsMayAppendFields) {
  // A higher version is read as version 00 (its first 55 characters), extra fields ignored.
  auto v1 = parse_traceparent("01" + kValid.substr(2));
  ASSERT_TRUE(v1.has_value());
  EXPECT_EQ(v1->trace_id, kTrace);
  auto extra = parse_traceparent("cc" + kValid.substr(2) + "-what-the-future-holds");
  ASSERT_TRUE(extra.has_value());
  EXPECT_EQ(extra->span_id, kSpan);
  EXPECT_EQ(format_traceparent(*extra), kValid);  // propagated as version 00
  // ... but a longer header must continue with '-' after the flags.
  EXPECT_FALSE(parse_traceparent("cc" + kValid.substr(2) + "x").has_value());
  EXPECT_FALSE(parse_traceparent("cc" + kValid.substr(2, 50)).has_value());
}

TEST(TraceParent, TracestateIsPassedAlongOnlyWhenSafe) {
  EXPECT_EQ(sanitize_tracestate(" rojo=00f067aa0ba902b7,congo=t61rcWkgMzE "),
            "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
  EXPECT_EQ(sanitize_tracestate(std::string(513, 'a')), "");
  EXPECT_EQ(sanitize_tracestate(std::string(512, 'a')), std::string(512, 'a'));
  EXPECT_EQ(sanitize_tracestate("a=b\r\nX-Injected: 1"), "");
  EXPECT_EQ(sanitize_tracestate("a=\x80"), "");
}

TEST(TraceIds, RandomIdsAreValidAndDistinct) {
  std::set<std::string> traces, spans;
  for (int i = 0; i < 1000; ++i) {
    const std::string t = random_trace_id(), s = random_span_id();
    ASSERT_TRUE(is_valid_trace_id(t)) << t;
    ASSERT_TRUE(is_valid_span_id(s)) << s;
    traces.insert(t);
    spans.insert(s);
  }
  EXPECT_EQ(traces.size(), 1000u);
  EXPECT_EQ(spans.size(), 1000u);
  EXPECT_FALSE(is_valid_span_id(std::string(16, '0')));
  EXPECT_FALSE(is_valid_trace_id(std::string(32, 'A')));
}

TEST(TraceIds, DerivedSpanIdsAreStableAndDistinct) {
  EXPECT_EQ(derive_span_id(kSpan, "turn", 3), derive_span_id(kSpan, "turn", 3));
  std::set<std::string> ids;
  for (const char* name : {"turn", "route", "provider_call"}) {
    for (int n = 0; n < 100; ++n) {
      const std::string id = derive_span_id(kSpan, name, n);
      EXPECT_TRUE(is_valid_span_id(id)) << id;
      ids.insert(id);
    }
  }
  EXPECT_EQ(ids.size(), 300u);
  EXPECT_NE(derive_span_id(kSpan, "turn", 0), derive_span_id("00f067aa0ba902b8", "turn", 0));
}

}  // namespace
}  // namespace trinity
