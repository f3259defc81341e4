// HTTP tests of `trinity serve` over loopback with libcurl: endpoints, error statuses, auth,
// budgets, provider pass-through and secrets.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "coord/fake_llm_server.h"
#include "server/server_test_util.h"

namespace trinity::server::testing {
namespace {

class ServerHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_ = std::make_shared<TurnRouter>();
    ts_ = std::make_unique<TestServer>(test_config(), router_, mock_pools());
  }
  std::shared_ptr<TurnRouter> router_;
  std::unique_ptr<TestServer> ts_;
};

void expect_openai_error(const HttpResult& r, long status, const std::string& type,
                         const std::string& code) {
  EXPECT_EQ(r.status, status) << r.body;
  json j = r.js();
  ASSERT_TRUE(j.is_object()) << r.body;
  ASSERT_TRUE(j.contains("error")) << r.body;
  EXPECT_TRUE(j["error"]["message"].is_string());
  EXPECT_FALSE(j["error"]["message"].get<std::string>().empty());
  EXPECT_EQ(j["error"]["type"], type) << r.body;
  EXPECT_EQ(j["error"]["code"], code) << r.body;
  EXPECT_NE(r.headers.count("content-type"), 0u);
  EXPECT_NE(r.headers.at("content-type").find("application/json"), std::string::npos);
}

void expect_still_serving(const TestServer& ts) {
  HttpResult h = get(ts.url("/healthz"));
  EXPECT_EQ(h.status, 200) << h.body;
}

TEST_F(ServerHttpTest, HealthzAndModels) {
  HttpResult h = get(ts_->url("/healthz"));
  ASSERT_EQ(h.status, 200);
  EXPECT_EQ(h.js()["status"], "ok");
  EXPECT_EQ(h.js()["router_profile"], "turn_router");
  EXPECT_FALSE(h.js().contains("pool"));  // unauthenticated: no configuration details

  HttpResult m = get(ts_->url("/v1/models"));
  ASSERT_EQ(m.status, 200) << m.body;
  json j = m.js();
  EXPECT_EQ(j["object"], "list");
  ASSERT_EQ(j["data"].size(), 8u);  // trinity + mock-agent-0..mock-agent-6
  EXPECT_EQ(j["data"][0]["id"], "trinity");
  EXPECT_EQ(j["data"][0]["object"], "model");
  EXPECT_EQ(j["data"][1]["id"], "mock-agent-0");
  EXPECT_EQ(j["data"][7]["id"], "mock-agent-6");
  EXPECT_EQ(get(ts_->url("/v1/models/trinity")).status, 200);
  expect_openai_error(get(ts_->url("/v1/models/gpt-nope")), 404, "invalid_request_error",
                      "model_not_found");
}

TEST_F(ServerHttpTest, ChatCompletionNonStreaming) {
  HttpResult r = post(ts_->url("/v1/chat/completions"), chat_body("What is 6 times 7?"));
  ASSERT_EQ(r.status, 200) << r.body;
  json j = r.js();
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["model"], "trinity");
  EXPECT_TRUE(j["created"].is_number_integer());
  const std::string id = j["id"];
  EXPECT_EQ(id.rfind("chatcmpl-", 0), 0u);
  ASSERT_EQ(j["choices"].size(), 1u);
  EXPECT_EQ(j["choices"][0]["index"], 0);
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  const std::string content = j["choices"][0]["message"]["content"];
  EXPECT_EQ(content.rfind("Worker answer: (mock mock-", 0), 0u) << content;

  const json& x = j["trinity"];
  EXPECT_EQ(x["run_id"].get<std::string>().size(), 16u);
  EXPECT_EQ(id, "chatcmpl-" + x["run_id"].get<std::string>());
  EXPECT_EQ(r.headers["x-trinity-run-id"], x["run_id"]);
  EXPECT_EQ(x["status"], "accepted");
  EXPECT_EQ(x["outcome"], "accepted");
  EXPECT_TRUE(x["trace"].is_null());
  ASSERT_EQ(x["turns"].size(), 2u);
  EXPECT_EQ(x["turns"][0]["role"], "Worker");
  EXPECT_EQ(x["turns"][1]["role"], "Verifier");
  for (const auto& t : x["turns"]) {
    for (const char* k : {"turn", "agent_id", "agent_label", "role", "agent_margin", "role_margin",
                          "provider", "model", "latency_ms"})
      EXPECT_TRUE(t.contains(k)) << k;
    EXPECT_EQ(t["provider"], "mock");
    EXPECT_DOUBLE_EQ(t["agent_margin"].get<double>(), 2.0);
    EXPECT_DOUBLE_EQ(t["role_margin"].get<double>(), 8.0);
  }
  // 1 user message -> Worker on slot 1; 2 messages -> Verifier on slot 2.
  EXPECT_EQ(x["turns"][0]["agent_id"], 1);
  EXPECT_EQ(x["turns"][0]["model"], "mock-agent-1");
  EXPECT_EQ(x["turns"][1]["agent_id"], 2);

  // Usage is summed over both provider calls: the mock counts whitespace words.
  const json& u = j["usage"];
  EXPECT_GT(u["prompt_tokens"].get<int64_t>(), 0);
  EXPECT_GT(u["completion_tokens"].get<int64_t>(), 0);
  EXPECT_EQ(u["total_tokens"].get<int64_t>(),
            u["prompt_tokens"].get<int64_t>() + u["completion_tokens"].get<int64_t>());
  const int64_t worker_words = whitespace_word_count(content);
  const int64_t verifier_words =
      whitespace_word_count("ACCEPT: the Worker answer addresses the request (mock mock-agent-2).");
  EXPECT_EQ(u["completion_tokens"].get<int64_t>(), worker_words + verifier_words);
}

TEST_F(ServerHttpTest, ContentPartsAreFlattened) {
  json parts = {
      {"model", "trinity"},
      {"messages",
       {{{"role", "system"}, {"content", "Be brief."}},
        {{"role", "user"},
         {"content",
          {{{"type", "text"}, {"text", "line one"}}, {{"type", "text"}, {"text", "line two"}}}}}}}};
  json plain = {{"messages",
                 {{{"role", "system"}, {"content", "Be brief."}},
                  {{"role", "user"}, {"content", "line one\nline two"}}}}};
  HttpResult a = post(ts_->url("/v1/route"), parts.dump());
  HttpResult b = post(ts_->url("/v1/route"), plain.dump());
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_EQ(a.js()["transcript_hash"], b.js()["transcript_hash"]);
  EXPECT_EQ(post(ts_->url("/v1/chat/completions"), parts.dump()).status, 200);

  json image = parts;
  image["messages"][1]["content"][1] = {{"type", "image_url"}, {"image_url", {{"url", "x"}}}};
  expect_openai_error(post(ts_->url("/v1/chat/completions"), image.dump()), 400,
                      "invalid_request_error", "invalid_request");
}

TEST_F(ServerHttpTest, RouteMatchesRouterJson) {
  std::vector<Message> msgs = {{"system", "s"}, {"user", "route me please"}};
  json body = {{"messages",
                {{{"role", "system"}, {"content", "s"}},
                 {{"role", "user"}, {"content", "route me please"}}}}};
  HttpResult r = post(ts_->url("/v1/route"), body.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = router_->route(msgs);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(r.js(), json::parse(d->to_json().dump()));
  // A bare array (the `trinity route --messages` file shape) is accepted too.
  HttpResult bare = post(ts_->url("/v1/route"), body["messages"].dump());
  EXPECT_EQ(bare.js(), r.js());
}

TEST_F(ServerHttpTest, BadRequestsGetTheirStatusAndServerKeepsServing) {
  const std::string chat = ts_->url("/v1/chat/completions");
  expect_openai_error(post(chat, "{\"model\": \"trinity\", \"messages\": ["), 400,
                      "invalid_request_error", "invalid_json");
  expect_still_serving(*ts_);
  expect_openai_error(post(chat, "[1,2]"), 400, "invalid_request_error", "invalid_request");
  expect_openai_error(post(chat, R"({"model":"trinity"})"), 400, "invalid_request_error",
                      "invalid_request");
  expect_openai_error(
      post(chat, R"({"model":"trinity","messages":[{"role":"tool","content":"x"}]})"), 400,
      "invalid_request_error", "invalid_request");
  expect_openai_error(post(chat, chat_body("hi", false, {{"temperature", 7}})), 400,
                      "invalid_request_error", "invalid_request");
  expect_openai_error(post(chat, chat_body("hi", false, {{"model", "gpt-4o"}})), 404,
                      "invalid_request_error", "model_not_found");
  expect_still_serving(*ts_);
  expect_openai_error(post(ts_->url("/v1/route"), "not json"), 400, "invalid_request_error",
                      "invalid_json");
  expect_openai_error(get(ts_->url("/v1/nothing-here")), 404, "invalid_request_error", "not_found");
  expect_openai_error(get(chat), 405, "invalid_request_error", "method_not_allowed");
  expect_still_serving(*ts_);
  EXPECT_EQ(post(chat, chat_body("still fine?")).status, 200);
}

TEST(ServerLimits, BodyOverLimitIs413) {
  ServerConfig cfg = test_config();
  cfg.max_body_bytes = 2048;
  TestServer ts(cfg, std::make_shared<TurnRouter>(), mock_pools());
  const std::string big = chat_body(std::string(4096, 'a'));
  expect_openai_error(post(ts.url("/v1/chat/completions"), big), 413, "invalid_request_error",
                      "request_too_large");
  expect_still_serving(ts);
  EXPECT_EQ(post(ts.url("/v1/chat/completions"), chat_body("small")).status, 200);
}

TEST(ServerLimits, OverConcurrencyIs429WithRetryAfter) {
  ServerConfig cfg = test_config();
  cfg.max_concurrency = 1;
  auto slow = std::make_shared<SlowProvider>(800);
  TestServer ts(cfg, std::make_shared<TurnRouter>(), slow_pools(slow));
  HttpResult first;
  std::thread t([&] { first = post(ts.url("/v1/chat/completions"), chat_body("slow one")); });
  for (int i = 0; i < 500 && ts.server->in_flight() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_EQ(ts.server->in_flight(), 1);
  HttpResult second = post(ts.url("/v1/chat/completions"), chat_body("rejected"));
  expect_openai_error(second, 429, "rate_limit_error", "too_many_requests");
  EXPECT_EQ(second.headers["retry-after"], "1");
  expect_openai_error(post(ts.url("/v1/route"), R"({"messages":[{"role":"user","content":"x"}]})"),
                      429, "rate_limit_error", "too_many_requests");
  expect_still_serving(ts);  // health checks are not admission-controlled
  t.join();
  EXPECT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(post(ts.url("/v1/chat/completions"), chat_body("after")).status, 200);
}

TEST(ServerAuth, BearerKeyRequiredOnV1) {
  ServerConfig cfg = test_config();
  cfg.api_key = "sk-local-test-key-123456";
  TestServer ts(cfg, std::make_shared<TurnRouter>(), mock_pools());
  const std::string chat = ts.url("/v1/chat/completions");
  HttpResult missing = post(chat, chat_body("hi"));
  expect_openai_error(missing, 401, "authentication_error", "invalid_api_key");
  HttpOptions wrong;
  wrong.headers = {"Authorization: Bearer sk-local-test-key-123457"};
  expect_openai_error(post(chat, chat_body("hi"), wrong), 401, "authentication_error",
                      "invalid_api_key");
  HttpOptions basic;
  basic.headers = {"Authorization: Basic c2stbG9jYWw="};
  expect_openai_error(get(ts.url("/v1/models"), basic), 401, "authentication_error",
                      "invalid_api_key");
  HttpOptions good;
  good.headers = {"Authorization: Bearer sk-local-test-key-123456"};
  HttpResult ok = post(chat, chat_body("hi"), good);
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(get(ts.url("/v1/models"), good).status, 200);
  EXPECT_EQ(get(ts.url("/healthz")).status, 200);  // probes need no key
  for (const HttpResult* r : {&missing, &ok})
    EXPECT_EQ(r->body.find("sk-local-test-key"), std::string::npos);
}

TEST_F(ServerHttpTest, RequestBudgetsOnlyTighten) {
  const std::string chat = ts_->url("/v1/chat/completions");
  // Worker then Verifier needs 2 calls: a request limit of 1 ends the run at the second.
  HttpResult r =
      post(chat, chat_body("q", false, {{"trinity", {{"budgets", {{"max_provider_calls", 1}}}}}}));
  expect_openai_error(r, 422, "coordination_error", "budget_exceeded");
  json x = r.js()["trinity"];
  EXPECT_EQ(x["budget_exceeded"]["budget"], "max_provider_calls");
  EXPECT_EQ(x["budget_exceeded"]["limit"], "1");
  EXPECT_EQ(x["turns"].size(), 1u);
  EXPECT_EQ(
      post(chat, chat_body("q", false, {{"trinity", {{"budgets", {{"max_provider_calls", 2}}}}}}))
          .status,
      200);
  expect_openai_error(
      post(chat, chat_body("q", false, {{"trinity", {{"budgets", {{"max_bogus", 2}}}}}})), 400,
      "invalid_request_error", "invalid_request");
  // max_turns 1: the Worker answer is returned unverified (outcome max_turns).
  HttpResult one = post(chat, chat_body("q", false, {{"trinity", {{"max_turns", 1}}}}));
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(one.js()["trinity"]["outcome"], "max_turns");
  EXPECT_EQ(one.js()["trinity"]["turns"].size(), 1u);

  // Server limit 1: a request asking for 10 cannot loosen it.
  ServerConfig cfg = test_config();
  cfg.budgets.max_provider_calls = 1;
  TestServer strict(cfg, std::make_shared<TurnRouter>(), mock_pools());
  HttpResult s =
      post(strict.url("/v1/chat/completions"),
           chat_body("q", false, {{"trinity", {{"budgets", {{"max_provider_calls", 10}}}}}}));
  expect_openai_error(s, 422, "coordination_error", "budget_exceeded");
  EXPECT_EQ(s.js()["trinity"]["budget_exceeded"]["limit"], "1");
  EXPECT_EQ(strict.server->metrics().counter_value("trinity_budget_exceeded_total",
                                                   {{"budget", "max_provider_calls"}}),
            1.0);
}

TEST_F(ServerHttpTest, VerifierFirstIsAWorkerTurnByDefault) {
  TestServer ts(test_config(), std::make_shared<TurnRouter>(/*verifier_first=*/true), mock_pools());
  HttpResult r = post(ts.url("/v1/chat/completions"), chat_body("q"));
  ASSERT_EQ(r.status, 200) << r.body;
  const json x = r.js()["trinity"];
  EXPECT_EQ(x["status"], "accepted");
  ASSERT_EQ(x["turns"].size(), 2u);
  EXPECT_EQ(x["turns"][0]["role"], "Worker");
  EXPECT_EQ(x["turns"][0]["reroute"], "cold_verifier");
  EXPECT_EQ(x["turns"][1]["role"], "Verifier");
}

TEST_F(ServerHttpTest, ColdVerifierErrorReproducesTheReference) {
  ServerConfig cfg = test_config();
  cfg.cold_verifier = coord::ColdVerifier::kError;
  TestServer strict(cfg, std::make_shared<TurnRouter>(/*verifier_first=*/true), mock_pools());
  HttpResult r = post(strict.url("/v1/chat/completions"), chat_body("q"));
  expect_openai_error(r, 422, "coordination_error", "verifier_before_worker_response");
  EXPECT_EQ(r.js()["trinity"]["status"], "failed");
  // A request cannot loosen the server's policy...
  HttpResult loosen = post(strict.url("/v1/chat/completions"),
                           chat_body("q", false, {{"trinity", {{"cold_verifier", "worker"}}}}));
  expect_openai_error(loosen, 422, "coordination_error", "verifier_before_worker_response");
  // ...but can tighten the default one.
  TestServer lenient(test_config(), std::make_shared<TurnRouter>(/*verifier_first=*/true),
                     mock_pools());
  HttpResult tighten = post(lenient.url("/v1/chat/completions"),
                            chat_body("q", false, {{"trinity", {{"cold_verifier", "error"}}}}));
  expect_openai_error(tighten, 422, "coordination_error", "verifier_before_worker_response");
  // The pool's own policy holds for requests that rebuild the pool (max_tokens, temperature).
  coord::PoolConfig strict_pool = coord::builtin_mock_pool();
  strict_pool.cold_verifier = coord::ColdVerifier::kError;
  auto pools = PoolProvider::create(strict_pool, false, coord::process_env());
  ASSERT_TRUE(pools.ok()) << pools.status().message();
  TestServer by_pool(test_config(), std::make_shared<TurnRouter>(/*verifier_first=*/true), *pools);
  for (const json& extra : {json::object(), json{{"max_tokens", 50}}, json{{"temperature", 0.2}}})
    expect_openai_error(post(by_pool.url("/v1/chat/completions"), chat_body("q", false, extra)),
                        422, "coordination_error", "verifier_before_worker_response");
  HttpResult bad = post(lenient.url("/v1/chat/completions"),
                        chat_body("q", false, {{"trinity", {{"cold_verifier", "maybe"}}}}));
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("trinity.cold_verifier"), std::string::npos) << bad.body;
}

TEST_F(ServerHttpTest, TurnsRunningOutReturnTheUnverifiedAnswer) {
  ServerConfig cfg = test_config();
  cfg.max_turns = 3;
  auto p = std::make_shared<TextProvider>("Worker says 7", "REVISE: not convinced");
  TestServer ts(cfg, std::make_shared<TurnRouter>(), fixed_pools(p));
  HttpResult r = post(ts.url("/v1/chat/completions"), chat_body("q"));
  ASSERT_EQ(r.status, 200) << r.body;
  const json j = r.js();
  EXPECT_EQ(j["choices"][0]["message"]["content"], "Worker says 7");
  EXPECT_EQ(j["trinity"]["status"], "unverified");
  EXPECT_EQ(j["trinity"]["outcome"], "max_turns");
  EXPECT_EQ(j["trinity"]["turns"].size(), 3u);
}

// Redaction belongs to traces: an answer comes back verbatim, less the pool's own key values.
TEST_F(ServerHttpTest, AnswersComeBackVerbatim) {
  const std::string secret = "sk-pool-secret-7777777";
  const std::string said =
      "The bearer of a token is trusted. Authorization: Bearer abc123. "
      "api_key=xyz. Our key is " +
      secret + ".";
  const std::string want =
      "The bearer of a token is trusted. Authorization: Bearer abc123. "
      "api_key=xyz. Our key is <redacted>.";
  auto p = std::make_shared<TextProvider>(said, "ACCEPT");
  TestServer ts(test_config(), std::make_shared<TurnRouter>(), fixed_pools(p, {secret}));
  HttpResult r = post(ts.url("/v1/chat/completions"), chat_body("q"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.js()["choices"][0]["message"]["content"], want);
  HttpResult s = post(ts.url("/v1/chat/completions"), chat_body("q", true));
  ASSERT_EQ(s.status, 200);
  std::string streamed;
  for (const auto& d : sse_data(s.body)) {
    if (d == "[DONE]") continue;
    const json c = json::parse(d);
    if (!c["choices"].empty() && c["choices"][0]["delta"].contains("content"))
      streamed += c["choices"][0]["delta"]["content"].get<std::string>();
  }
  EXPECT_EQ(streamed, want);
  EXPECT_EQ(s.body.find(secret), std::string::npos);
}

// max_tokens / temperature reach the provider; secrets never reach a response or a trace.
TEST(ServerProviders, OverridesPassThroughAndSecretsStayHidden) {
  trinity::testing::FakeLlmServer fake;
  const std::string secret = "sk-upstream-SECRET-value-987654";
  coord::PoolConfig pool = coord::builtin_mock_pool();
  pool.name = "fake-openai";
  for (auto& s : pool.slots) {
    s.provider = "openai";
    s.model = "fake-model";
    s.base_url = fake.base_url();
    s.api_key_env = "TRINITY_SERVE_TEST_KEY";
    s.timeout_ms = 5000;
  }
  auto env = [&](const std::string& name) -> std::optional<std::string> {
    if (name == "TRINITY_SERVE_TEST_KEY") return secret;
    return std::nullopt;
  };
  auto pools = PoolProvider::create(pool, /*allow_live=*/true, env);
  ASSERT_TRUE(pools.ok()) << pools.status().message();
  char tmpl[] = "/tmp/trinity_serve_traceXXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  ServerConfig cfg = test_config();
  cfg.trace_dir = tmpl;
  cfg.trace_content = coord::ContentMode::kFull;
  TestServer ts(cfg, std::make_shared<TurnRouter>(), *pools);

  trinity::testing::FakeResponse leak;
  leak.text = "Worker answer: the key is " + secret;
  fake.push(leak);
  HttpResult r = post(ts.url("/v1/chat/completions"),
                      chat_body("q", false, {{"max_tokens", 77}, {"temperature", 0.25}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find(secret), std::string::npos) << r.body;
  EXPECT_NE(r.js()["choices"][0]["message"]["content"].get<std::string>().find("<redacted>"),
            std::string::npos);
  auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 2u);
  for (const auto& rq : reqs) {
    json b = json::parse(rq.body);
    EXPECT_EQ(b["max_tokens"], 77) << rq.body;
    EXPECT_DOUBLE_EQ(b["temperature"].get<double>(), 0.25) << rq.body;
  }
  // Usage from the upstream's usage fields: 2 calls x (100 + 20).
  EXPECT_EQ(r.js()["usage"]["prompt_tokens"], 200);
  EXPECT_EQ(r.js()["usage"]["completion_tokens"], 40);
  // Without overrides the pool's own max_tokens (1024) is sent.
  ASSERT_EQ(post(ts.url("/v1/chat/completions"), chat_body("q")).status, 200);
  reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(json::parse(reqs[2].body)["max_tokens"], 1024);

  const std::string trace = r.js()["trinity"]["trace"];
  std::ifstream in(trace);
  ASSERT_TRUE(in.good()) << trace;
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_NE(ss.str().find("run_finished"), std::string::npos);
  EXPECT_EQ(ss.str().find(secret), std::string::npos);
  std::filesystem::remove_all(tmpl);
}

TEST_F(ServerHttpTest, MetricsExposition) {
  ASSERT_EQ(post(ts_->url("/v1/chat/completions"), chat_body("count me")).status, 200);
  ASSERT_EQ(post(ts_->url("/v1/chat/completions"), "{").status, 400);
  // Request metrics are recorded once the response is written: allow the server a moment.
  Metrics& metrics = ts_->server->metrics();
  // Both: on a loaded machine the 200's record may land after the 400's.
  const auto recorded = [&](const char* status) {
    return metrics.counter_value("trinity_http_requests_total",
                                 {{"endpoint", "chat_completions"}, {"status", status}}) >= 1;
  };
  for (int i = 0; i < 1000 && !(recorded("200") && recorded("400")); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  HttpResult m = get(ts_->url("/metrics"));
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.headers["content-type"].find("text/plain"), std::string::npos);
  const std::string& t = m.body;
  for (const char* needle :
       {"trinity_http_requests_total{endpoint=\"chat_completions\",status=\"200\"} 1",
        "trinity_http_requests_total{endpoint=\"chat_completions\",status=\"400\"} 1",
        "# TYPE trinity_http_request_duration_seconds histogram",
        "trinity_http_request_duration_seconds_bucket{endpoint=\"chat_completions\",le=\"+Inf\"} 2",
        "trinity_route_duration_seconds_count 2", "trinity_route_batches_total",
        "trinity_provider_calls_total{provider=\"mock\",status=\"ok\"} 2",
        "# TYPE trinity_provider_errors_total counter", "# TYPE trinity_provider_retries_total",
        "# TYPE trinity_budget_exceeded_total counter",
        "trinity_runs_total{outcome=\"accepted\"} 1", "trinity_inflight_runs 0",
        "# trinity_prefix_cache_hit_ratio: not exported"})
    EXPECT_NE(t.find(needle), std::string::npos) << needle << "\n" << t;
}

}  // namespace
}  // namespace trinity::server::testing
