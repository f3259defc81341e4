// Unit tests of the OpenAI wire codec of `trinity serve`.
#include <gtest/gtest.h>

#include "coord/fake_llm_server.h"
#include "router/mock_tiny.h"
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

coord::RunResult failed_run(const std::string& reason, Status status) {
  coord::RunResult r;
  r.status = std::move(status);
  r.outcome = "failed";
  r.failure_reason = reason;
  return r;
}

coord::RunResult failed_call(coord::ProviderFailureKind kind, long http_status,
                             const std::string& detail) {
  coord::RunResult r = failed_run(
      "provider_error", Status(ErrorCode::kProvider, "provider openai (model m1): " + detail));
  r.failed_call = coord::RunResult::FailedCall{"openai", "m1", {kind, http_status}};
  return r;
}

// Clients learn the class of a provider failure; the log line has the details.
TEST(OpenAiApi, ProviderFailuresNameTheClassNotTheUpstream) {
  using K = coord::ProviderFailureKind;
  const std::string connect =
      "connect error: Failed to connect to 127.0.0.1 port 40123 after 0 ms: Couldn't connect to "
      "server (attempt 3 of 3)";
  coord::RunResult r = failed_call(K::kConnection, 0, connect);
  ApiError e = run_failure_error(r);
  EXPECT_EQ(e.http_status, 502);
  EXPECT_EQ(e.type, "upstream_error");
  EXPECT_EQ(e.code, "provider_error");
  EXPECT_EQ(e.message, "provider 'openai' (model 'm1') failed: connection error");
  const std::string detail = run_failure_detail(r);
  EXPECT_EQ(detail,
            "provider_error (provider 'openai', model 'm1', connection error): provider openai "
            "(model m1): " +
                connect);

  r = failed_call(K::kHttpStatus, 502,
                  "HTTP 502: <html><center>nginx/1.25.3 at 10.0.0.7:8443</center></html> "
                  "(attempt 3 of 3)");
  EXPECT_EQ(run_failure_error(r).message,
            "provider 'openai' (model 'm1') failed: upstream returned HTTP 502");
  EXPECT_NE(run_failure_detail(r).find("HTTP status 502"), std::string::npos);
  EXPECT_NE(run_failure_detail(r).find("10.0.0.7:8443"), std::string::npos);

  r = failed_call(K::kTimeout, 0,
                  "timeout after 300 ms (Operation timed out after 300 milliseconds with 0 bytes "
                  "received)");
  EXPECT_EQ(run_failure_error(r).message, "provider 'openai' (model 'm1') failed: timeout");
  r = failed_call(K::kInvalidResponse, 200, "malformed response: invalid JSON: {not json");
  EXPECT_EQ(run_failure_error(r).message,
            "provider 'openai' (model 'm1') failed: invalid response");
  r = failed_call(K::kTransport, 0, "other error: SSL peer certificate was not OK");
  EXPECT_EQ(run_failure_error(r).message, "provider 'openai' (model 'm1') failed: transport error");

  // A provider that reports no class (scripted, wrapped): the failed turn's provider only.
  r = failed_run("provider_error", Status(ErrorCode::kProvider, "upstream broke at 10.1.2.3"));
  EXPECT_EQ(run_failure_error(r).message, "a provider call failed");
  coord::TurnRecord t;
  t.provider = "anthropic";
  t.model = "m2";
  r.turns.push_back(t);
  EXPECT_EQ(run_failure_error(r).message, "provider 'anthropic' (model 'm2') failed");
  EXPECT_EQ(run_failure_detail(r), "provider_error: upstream broke at 10.1.2.3");
}

// Our own failures (router, trace file) are 500s without their detail; the client's own
// mistakes and the coordination outcomes keep their message.
TEST(OpenAiApi, OtherRunFailures) {
  coord::RunResult r =
      failed_run("router_error", internal_error("router: tokenizer table /var/cache/x corrupt"));
  ApiError e = run_failure_error(r);
  EXPECT_EQ(e.http_status, 500);
  EXPECT_EQ(e.type, "server_error");
  EXPECT_EQ(e.code, "router_error");
  EXPECT_EQ(e.message, "internal error: routing failed");
  EXPECT_EQ(run_failure_detail(r), "router_error: router: tokenizer table /var/cache/x corrupt");

  r = failed_run("trace_error", io_error("/srv/traces/run.jsonl: No space left on device"));
  EXPECT_EQ(run_failure_error(r).message, "internal error: the run's trace could not be written");
  EXPECT_EQ(run_failure_error(failed_run("internal_error", internal_error("bug"))).message,
            "internal error");

  r = failed_run("budget_exceeded",
                 Status(ErrorCode::kBudgetExceeded, "max_provider_calls 2 exceeded (3)"));
  e = run_failure_error(r);
  EXPECT_EQ(e.http_status, 422);
  EXPECT_EQ(e.message, "max_provider_calls 2 exceeded (3)");
  r = failed_run("invalid_input", invalid_argument("messages[0].content must not be empty"));
  e = run_failure_error(r);
  EXPECT_EQ(e.http_status, 400);
  EXPECT_EQ(e.message, "messages[0].content must not be empty");
  e = run_failure_error(failed_run("cancelled", Status(ErrorCode::kCancelled, "run cancelled")));
  EXPECT_EQ(e.http_status, 503);
  EXPECT_EQ(e.message, "run cancelled");
}

// A real run against a closed port: libcurl's "Failed to connect to 127.0.0.1 port N" stays in
// the detail, and the client's message has neither host nor port.
TEST(OpenAiApi, ConnectionRefusedRunGivesAPlainClientMessage) {
  std::string dead;
  {
    trinity::testing::FakeLlmServer tmp;
    dead = tmp.base_url();
  }  // the port is closed now
  coord::PoolConfig pool = coord::builtin_mock_pool();
  for (auto& s : pool.slots) {
    s.provider = "openai";
    s.model = "fake-model";
    s.base_url = dead;
    s.api_key_env.clear();
    s.timeout_ms = 2000;
    s.max_retries = 0;
  }
  auto agents = coord::AgentPool::create(pool, /*allow_live=*/true,
                                         [](const std::string&) { return std::nullopt; });
  ASSERT_TRUE(agents.ok()) << agents.status().message();
  coord::Orchestrator orch(std::make_shared<MockTinyRouter>(), *agents);
  coord::RunOptions opts;
  opts.seed = 1;
  coord::RunResult r = orch.run({{"user", "What is 6 * 7?"}}, opts);
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.failure_reason, "provider_error");
  ASSERT_TRUE(r.failed_call);
  EXPECT_EQ(r.failed_call->failure.kind, coord::ProviderFailureKind::kConnection);
  const size_t colon = dead.rfind(':');
  const std::string port = dead.substr(colon + 1, dead.find('/', colon) - colon - 1);
  ASSERT_FALSE(port.empty());
  const ApiError e = run_failure_error(r);
  EXPECT_EQ(e.message, "provider 'openai' (model 'fake-model') failed: connection error");
  const std::string body = e.body().dump();
  EXPECT_EQ(body.find("127.0.0.1"), std::string::npos) << body;
  EXPECT_EQ(body.find(port), std::string::npos) << body;
  EXPECT_NE(run_failure_detail(r).find(port), std::string::npos) << run_failure_detail(r);
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
