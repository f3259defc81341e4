// `trinity serve` over a pool whose slots point at an upstream that always answers HTTP 500,
// with a mock fallback: chat completions still succeed, the circuit opens, and /metrics shows
// the fallbacks, the circuit transitions and the circuit state.
#include "coord/fake_llm_server.h"
#include "server/server_test_util.h"

namespace trinity::server::testing {
namespace {

std::shared_ptr<const PoolProvider> failing_upstream_pool(const std::string& base_url) {
  const std::string text = R"({
    "name": "fallback-pool",
    "circuit_breaker": {"failures": 2, "open_seconds": 600},
    "defaults": {
      "name": "upstream", "provider": "openai", "model": "up", "base_url": ")" +
                           base_url + R"(",
      "max_retries": 0, "timeout_ms": 5000,
      "fallbacks": [{"provider": "mock", "model": "spare",
                     "price_in_per_mtok": 1000, "price_out_per_mtok": 1000}]
    },
    "slots": [{}, {}, {}, {}, {}, {}, {}]
  })";
  auto cfg = coord::parse_pool_text(text, "fallback-pool.json");
  EXPECT_TRUE(cfg.ok()) << cfg.status().message();
  auto env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  auto pools = PoolProvider::create(*cfg, /*allow_live=*/true, env);
  EXPECT_TRUE(pools.ok()) << pools.status().message();
  return *pools;
}

TEST(ServerFallback, FailingUpstreamIsAnsweredByTheFallbackAndMetricsShowTheCircuit) {
  trinity::testing::FakeLlmServer upstream;
  for (int i = 0; i < 20; ++i) upstream.push({500, R"({"error":{"message":"down"}})", {}, 0, ""});
  TestServer ts(test_config(), std::make_shared<TurnRouter>(),
                failing_upstream_pool(upstream.base_url()));
  Metrics& metrics = ts.server->metrics();
  const Labels circuit = {{"endpoint", "upstream"}};
  EXPECT_EQ(metrics.gauge_value("trinity_circuit_state", circuit), 0.0);  // known from the start

  // Worker then Verifier: two failed upstream calls, both answered by the mock; the second
  // opens the circuit.
  HttpResult r = post(ts.url("/v1/chat/completions"), chat_body("what is 6 * 7?"));
  ASSERT_EQ(r.status, 200) << r.body;
  json j = r.js();
  EXPECT_NE(j["choices"][0]["message"]["content"].get<std::string>().find("mock spare"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(upstream.requests().size(), 2u);
  const json& x = j["trinity"];
  ASSERT_EQ(x["turns"].size(), 2u);
  EXPECT_EQ(x["turns"][0]["model"], "spare");
  EXPECT_EQ(x["turns"][0]["fallback_index"], 1);
  EXPECT_EQ(x["provider_calls"], 4);  // the failed upstream calls count
  // Usage is summed over the turns that answered; cost at the answering endpoint's price.
  const int64_t prompt = j["usage"]["prompt_tokens"], completion = j["usage"]["completion_tokens"];
  EXPECT_GT(prompt, 0);
  EXPECT_GT(completion, 0);
  EXPECT_EQ(j["usage"]["total_tokens"], prompt + completion);
  EXPECT_DOUBLE_EQ(x["cost_usd"].get<double>(),
                   static_cast<double>((prompt + completion) * 1000) / 1e6);
  EXPECT_DOUBLE_EQ(x["estimated_cost_usd"].get<double>(), x["cost_usd"].get<double>());
  EXPECT_EQ(
      metrics.counter_value("trinity_provider_fallbacks_total",
                            {{"from", "upstream"}, {"to", "mock/spare"}, {"reason", "error"}}),
      2);
  EXPECT_EQ(metrics.counter_value("trinity_circuit_transitions_total",
                                  {{"endpoint", "upstream"}, {"to", "open"}}),
            1);
  EXPECT_EQ(metrics.gauge_value("trinity_circuit_state", circuit), 1.0);

  // While open the upstream is not called at all, also by request-scoped pools (overrides).
  for (const json& extra : {json::object(), json{{"max_tokens", 64}}}) {
    HttpResult again = post(ts.url("/v1/chat/completions"), chat_body("and 7 * 8?", false, extra));
    ASSERT_EQ(again.status, 200) << again.body;
  }
  EXPECT_EQ(upstream.requests().size(), 2u);
  EXPECT_EQ(metrics.counter_value(
                "trinity_provider_fallbacks_total",
                {{"from", "upstream"}, {"to", "mock/spare"}, {"reason", "circuit_open"}}),
            4);

  HttpResult m = get(ts.url("/metrics"));
  ASSERT_EQ(m.status, 200);
  for (const char* needle :
       {"# TYPE trinity_circuit_state gauge", "trinity_circuit_state{endpoint=\"upstream\"} 1",
        "trinity_circuit_transitions_total{endpoint=\"upstream\",to=\"open\"} 1",
        "trinity_provider_fallbacks_total{from=\"upstream\",to=\"mock/spare\",reason=\"error\"} 2",
        "# TYPE trinity_slot_latency_seconds histogram", "trinity_slot_latency_seconds_count{slot=",
        "trinity_provider_calls_total{provider=\"mock\",status=\"ok\"} 6"})
    EXPECT_NE(m.body.find(needle), std::string::npos) << needle << "\n" << m.body;
}

}  // namespace
}  // namespace trinity::server::testing
