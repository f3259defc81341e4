// Unit tests of the OpenAI wire codec of `trinity serve`.
#include <gtest/gtest.h>

#include "server/metrics.h"
#include "server/openai_api.h"

namespace trinity::server {
namespace {

TEST(OpenAiApi, ParsesRequestFieldsAndExtension) {
  Json body = Json::parse(R"({
    "model": "trinity", "stream": true, "stream_options": {"include_usage": true},
    "max_completion_tokens": 64, "max_tokens": 10, "temperature": 0.5,
    "messages": [{"role": "developer", "content": "sys"},
                 {"role": "user", "content": [{"type": "text", "text": "a"},
                                              {"type": "text", "text": "b"}]},
                 {"role": "assistant", "content": null}],
    "trinity": {"max_turns": 3, "budgets": {"max_provider_calls": 4,
                                            "max_estimated_cost_usd": 0.5}}})");
  auto r = parse_chat_request(body);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->model, "trinity");
  EXPECT_TRUE(r->stream);
  EXPECT_TRUE(r->include_usage);
  EXPECT_EQ(r->overrides.max_tokens, 64);  // max_completion_tokens wins
  EXPECT_EQ(r->overrides.temperature, 0.5);
  ASSERT_EQ(r->messages.size(), 3u);
  EXPECT_EQ(r->messages[0], (Message{"system", "sys"}));
  EXPECT_EQ(r->messages[1], (Message{"user", "a\nb"}));
  EXPECT_EQ(r->messages[2], (Message{"assistant", ""}));
  EXPECT_EQ(r->max_turns, 3);
  EXPECT_EQ(r->budgets.max_provider_calls, 4);
  EXPECT_EQ(r->budgets.max_estimated_cost_micro_usd, 500000);
}

TEST(OpenAiApi, RejectsBadShapesWithFieldPaths) {
  auto bad = [](const char* text) {
    auto r = parse_chat_request(Json::parse(text));
    EXPECT_FALSE(r.ok()) << text;
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_NE(bad(R"({"messages": []})").find("model"), std::string::npos);
  EXPECT_NE(bad(R"({"model": "trinity", "messages": []})").find("empty"), std::string::npos);
  EXPECT_NE(bad(R"({"model": "trinity", "messages": [{"role": "user"}]})").find("messages[0]"),
            std::string::npos);
  EXPECT_NE(
      bad(R"({"model": "trinity", "messages": [{"role": "user", "content": 5}]})").find("content"),
      std::string::npos);
  EXPECT_NE(bad(R"({"model": "trinity", "max_tokens": 0,
                   "messages": [{"role": "user", "content": "x"}]})")
                .find("max_tokens"),
            std::string::npos);
  EXPECT_NE(bad(R"({"model": "trinity", "n": 2, "messages": [{"role": "user", "content": "x"}]})")
                .find("n must be 1"),
            std::string::npos);
  EXPECT_NE(bad(R"({"model": "trinity", "trinity": {"budgets": {"max_wall_time_ms": -1}},
                   "messages": [{"role": "user", "content": "x"}]})")
                .find("trinity.budgets.max_wall_time_ms"),
            std::string::npos);
}

TEST(OpenAiApi, BudgetsOnlyTighten) {
  coord::Budgets server, req;
  server.max_provider_calls = 5;
  server.max_wall_time_ms = 1000;
  req.max_provider_calls = 9;
  req.max_wall_time_ms = 200;
  req.max_verifier_revisions = 1;
  coord::Budgets b = tighten_budgets(server, req);
  EXPECT_EQ(b.max_provider_calls, 5);
  EXPECT_EQ(b.max_wall_time_ms, 200);
  EXPECT_EQ(b.max_verifier_revisions, 1);
  EXPECT_FALSE(b.max_estimated_cost_micro_usd.has_value());
}

TEST(OpenAiApi, SplitDeltasReassemblesAndKeepsUtf8Whole) {
  const std::string text =
      "Worker answer: caf\xC3\xA9 \xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC"
      "\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC and "
      "a longer tail of words to split somewhere sensible.";
  for (size_t max : {8u, 13u, 48u, 1000u}) {
    auto parts = split_deltas(text, max);
    std::string joined;
    for (const auto& p : parts) {
      joined += p;
      ASSERT_FALSE(p.empty());
      EXPECT_NE(static_cast<unsigned char>(p[0]) & 0xC0, 0x80) << "starts mid-sequence";
    }
    EXPECT_EQ(joined, text);
  }
  EXPECT_TRUE(split_deltas("").empty());
}

TEST(OpenAiApi, ErrorBodyShape) {
  ApiError e{429, "rate_limit_error", "too_many_requests", "slow down"};
  OrderedJson j = e.body();
  EXPECT_EQ(j["error"]["message"], "slow down");
  EXPECT_EQ(j["error"]["type"], "rate_limit_error");
  EXPECT_EQ(j["error"]["code"], "too_many_requests");
}

TEST(Metrics, PrometheusTextFormat) {
  Metrics m;
  m.inc("trinity_http_requests_total", {{"endpoint", "route"}, {"status", "200"}});
  m.inc("trinity_http_requests_total", {{"endpoint", "route"}, {"status", "200"}});
  m.observe("trinity_route_duration_seconds", {}, 0.003);
  m.observe("trinity_route_duration_seconds", {}, 500);
  const std::string t = m.render();
  EXPECT_NE(t.find("trinity_http_requests_total{endpoint=\"route\",status=\"200\"} 2\n"),
            std::string::npos);
  EXPECT_NE(t.find("trinity_route_duration_seconds_bucket{le=\"0.0025\"} 0\n"), std::string::npos);
  EXPECT_NE(t.find("trinity_route_duration_seconds_bucket{le=\"0.005\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("trinity_route_duration_seconds_bucket{le=\"120\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("trinity_route_duration_seconds_bucket{le=\"+Inf\"} 2\n"), std::string::npos);
  EXPECT_NE(t.find("trinity_route_duration_seconds_count 2\n"), std::string::npos);
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

}  // namespace
}  // namespace trinity::server
