// Real providers (libcurl) against a local fake OpenAI-compatible / Anthropic server.
#include <thread>

#include "coord/fake_llm_server.h"
#include "coord_test_util.h"
#include "core/file_util.h"
#include "router/mock_tiny.h"

namespace trinity::coord::testing {
namespace {

using trinity::testing::FakeLlmServer;
using trinity::testing::FakeResponse;

constexpr const char* kKey = "sk-TESTSECRET-0123456789";
constexpr const char* kHeaderSecret = "hdr-secret-987654";

EnvLookup test_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    if (name == "TRINITY_TEST_KEY") return std::string(kKey);
    return std::nullopt;
  };
}

PoolConfig http_pool(const std::string& provider, const std::string& base_url,
                     int64_t timeout_ms = 2000, int64_t retries = 2) {
  PoolConfig pool;
  pool.name = "fake";
  pool.prompts = default_role_prompts();
  for (auto& s : pool.slots) {
    s.provider = provider;
    s.model = "fake-model";
    s.base_url = base_url;
    s.api_key_env = "TRINITY_TEST_KEY";
    s.timeout_ms = timeout_ms;
    s.max_retries = retries;
    s.max_tokens = 128;
    s.price_in_per_mtok = 1;
    s.price_out_per_mtok = 2;
    s.headers["X-Custom-Auth"] = kHeaderSecret;
  }
  return pool;
}

class HttpProviderTest : public ::testing::Test {
 protected:
  RunResult run(const PoolConfig& cfg, std::vector<ScriptStep> steps, RunOptions opts = {}) {
    auto pool = AgentPool::create(cfg, /*allow_live=*/true, test_env());
    EXPECT_TRUE(pool.ok()) << pool.status().message();
    Orchestrator orch(std::make_shared<ScriptedRouter>(std::move(steps)), *pool);
    opts.clock = &clock_;
    opts.seed = 7;
    opts.sinks.push_back(&sink_);
    return orch.run({{"user", "What is 6 * 7?"}}, opts);
  }
  std::vector<OrderedJson> finished() { return sink_.of("provider_dispatch_finished"); }

  FakeLlmServer server_;
  RecordingClock clock_;
  MemorySink sink_;
};

TEST_F(HttpProviderTest, StrictServerRejectsWhatStrictServersReject) {
  HttpRequest req;
  req.url = server_.base_url() + "/chat/completions";
  req.headers = {{"Content-Type", "application/json"}};
  req.body = R"({"model":"m","messages":[{"role":"user","content":"q"},)"
             R"({"role":"assistant","content":"a"},{"role":"assistant","content":"b"}]})";
  HttpResponse resp = default_http_client().post(req);
  EXPECT_EQ(resp.status, 400);
  EXPECT_NE(resp.body.find("Cannot have 2 or more assistant messages"), std::string::npos);
  req.body = R"({"model":"m","messages":[{"role":"system","content":"s"},)"
             R"({"role":"user","content":"q"},{"role":"assistant","content":"a"}]})";
  EXPECT_EQ(default_http_client().post(req).status, 400);
  EXPECT_EQ(server_.violations(), 2);
}

TEST_F(HttpProviderTest, MultiTurnRunIsAcceptedByAStrictServer) {
  server_.push({200, "", {}, 0, "draft"});
  server_.push({200, "", {}, 0, "REVISE: show the work"});
  server_.push({200, "", {}, 0, "6 * 7 = 42"});
  server_.push({200, "", {}, 0, "ACCEPT"});
  auto r = run(http_pool("openai", server_.base_url()),
               {{0, kRoleWorker}, {1, kRoleVerifier}, {2, kRoleWorker}, {3, kRoleVerifier}});
  ASSERT_TRUE(r.ok()) << r.status.message();
  EXPECT_EQ(*r.answer, "6 * 7 = 42");
  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(server_.violations(), 0);
  for (const auto& q : reqs) {
    EXPECT_EQ(q.path, "/v1/chat/completions");
    EXPECT_EQ(q.headers.at("Authorization"), std::string("Bearer ") + kKey);
    EXPECT_EQ(q.headers.at("X-Custom-Auth"), kHeaderSecret);
    auto body = Json::parse(q.body);
    EXPECT_EQ(body["model"], "fake-model");
    EXPECT_EQ(body["max_tokens"], 128);
    ASSERT_EQ(body["messages"].size(), 2u);
  }
  // The last Verifier saw both earlier answers with who said what.
  std::string last = Json::parse(reqs[3].body)["messages"][1]["content"];
  EXPECT_NE(last.find("(turn 1: Worker"), std::string::npos);
  EXPECT_NE(last.find("(turn 2: Verifier"), std::string::npos);
  EXPECT_NE(last.find("REVISE: show the work"), std::string::npos);
  // Usage -> cost: 4 calls x (100 x 1 + 20 x 2) micro-dollars.
  EXPECT_EQ(r.usage.cost_micro_usd, 560);
  EXPECT_EQ(finished()[0]["input_tokens"], 100);
  EXPECT_EQ(finished()[0]["http_status"], 200);
}

TEST_F(HttpProviderTest, AnthropicMessagesApi) {
  auto r = run(http_pool("anthropic", server_.base_url()), {{0, kRoleWorker}, {1, kRoleVerifier}});
  ASSERT_TRUE(r.ok()) << r.status.message();
  EXPECT_EQ(*r.answer, "Worker answer: 42");
  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(server_.violations(), 0);
  EXPECT_EQ(reqs[0].path, "/v1/messages");
  EXPECT_EQ(reqs[0].headers.at("x-api-key"), kKey);
  EXPECT_EQ(reqs[0].headers.at("anthropic-version"), "2023-06-01");
  auto body = Json::parse(reqs[1].body);
  EXPECT_NE(body["system"].get<std::string>().find("You are the Verifier"), std::string::npos);
  ASSERT_EQ(body["messages"].size(), 1u);
  EXPECT_EQ(r.usage.cost_micro_usd, 2 * (100 + 40));
}

TEST_F(HttpProviderTest, TimeoutIsATypedProviderError) {
  server_.push({200, "", {}, 1500, "late"});
  auto r = run(http_pool("openai", server_.base_url(), /*timeout_ms=*/300),
               {{0, kRoleWorker}, {1, kRoleVerifier}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status.code(), ErrorCode::kProvider);
  EXPECT_EQ(r.failure_reason, "provider_error");
  EXPECT_NE(r.status.message().find("timeout"), std::string::npos) << r.status.message();
  EXPECT_EQ(server_.requests().size(), 1u);  // timeouts are not retried
  ASSERT_TRUE(r.failed_call);
  EXPECT_EQ(r.failed_call->provider, "openai");
  EXPECT_EQ(r.failed_call->model, "fake-model");
  EXPECT_EQ(r.failed_call->failure.kind, ProviderFailureKind::kTimeout);
  EXPECT_EQ(finished().at(0)["status"], "error");
  EXPECT_EQ(sink_.types().back(), "run_failed");
}

TEST_F(HttpProviderTest, RateLimitedThenSuccessHonorsRetryAfter) {
  server_.push({429, R"({"error":{"message":"slow down"}})", {{"Retry-After", "1"}}, 0, ""});
  auto r = run(http_pool("openai", server_.base_url()), {{0, kRoleWorker}, {1, kRoleVerifier}});
  ASSERT_TRUE(r.ok()) << r.status.message();
  EXPECT_EQ(server_.requests().size(), 3u);
  auto sleeps = clock_.sleeps();
  ASSERT_EQ(sleeps.size(), 1u);
  EXPECT_GE(sleeps[0], 1000);
  EXPECT_EQ(finished()[0]["attempts"], 2);
}

TEST_F(HttpProviderTest, ServerErrorsExhaustRetriesWithJitteredBackoff) {
  for (int i = 0; i < 3; ++i) server_.push({500, R"({"error":"boom"})", {}, 0, ""});
  auto r = run(http_pool("openai", server_.base_url()), {{0, kRoleWorker}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status.code(), ErrorCode::kProvider);
  EXPECT_NE(r.status.message().find("HTTP 500"), std::string::npos) << r.status.message();
  EXPECT_NE(r.status.message().find("attempt 3 of 3"), std::string::npos);
  ASSERT_TRUE(r.failed_call);
  EXPECT_EQ(r.failed_call->failure.kind, ProviderFailureKind::kHttpStatus);
  EXPECT_EQ(r.failed_call->failure.http_status, 500);
  EXPECT_EQ(server_.requests().size(), 3u);
  auto sleeps = clock_.sleeps();
  ASSERT_EQ(sleeps.size(), 2u);
  EXPECT_GE(sleeps[0], 100);
  EXPECT_LE(sleeps[0], 200);
  EXPECT_GE(sleeps[1], 200);
  EXPECT_LE(sleeps[1], 400);
}

TEST_F(HttpProviderTest, NonRetriableStatusFailsAtOnce) {
  server_.push({401, R"({"error":{"message":"bad key"}})", {}, 0, ""});
  auto r = run(http_pool("openai", server_.base_url()), {{0, kRoleWorker}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status.message().find("HTTP 401"), std::string::npos);
  ASSERT_TRUE(r.failed_call);
  EXPECT_EQ(r.failed_call->failure.kind, ProviderFailureKind::kHttpStatus);
  EXPECT_EQ(r.failed_call->failure.http_status, 401);
  EXPECT_EQ(server_.requests().size(), 1u);
}

TEST_F(HttpProviderTest, MalformedJsonAndEmptyContent) {
  server_.push({200, "{not json", {}, 0, ""});
  auto r = run(http_pool("openai", server_.base_url()), {{0, kRoleWorker}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status.code(), ErrorCode::kProvider);
  EXPECT_NE(r.status.message().find("malformed"), std::string::npos) << r.status.message();
  ASSERT_TRUE(r.failed_call);
  EXPECT_EQ(r.failed_call->failure.kind, ProviderFailureKind::kInvalidResponse);

  server_.push({200, R"({"choices":[{"message":{"role":"assistant","content":""}}]})", {}, 0, ""});
  r = run(http_pool("openai", server_.base_url()), {{0, kRoleWorker}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status.message().find("empty content"), std::string::npos) << r.status.message();

  server_.push(
      {200, R"({"choices":[{"message":{"role":"assistant","content":null}}]})", {}, 0, ""});
  r = run(http_pool("openai", server_.base_url()), {{0, kRoleWorker}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status.message().find("empty content"), std::string::npos);
}

TEST_F(HttpProviderTest, ConnectionRefusedIsRetriedThenFails) {
  std::string dead;
  {
    FakeLlmServer tmp;
    dead = tmp.base_url();
  }  // port now closed
  auto r = run(http_pool("openai", dead, 1000, 1), {{0, kRoleWorker}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status.code(), ErrorCode::kProvider);
  EXPECT_NE(r.status.message().find("connect"), std::string::npos) << r.status.message();
  ASSERT_TRUE(r.failed_call);
  EXPECT_EQ(r.failed_call->failure.kind, ProviderFailureKind::kConnection);
  EXPECT_EQ(clock_.sleeps().size(), 1u);
}

TEST_F(HttpProviderTest, RetryAfterBeyondTheWallBudgetGivesUpWithoutWaiting) {
  server_.push({429, "{}", {{"Retry-After", "5"}}, 0, ""});
  RunOptions o;
  o.budgets.max_wall_time_ms = 2000;
  auto r = run(http_pool("openai", server_.base_url()), {{0, kRoleWorker}}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status.message().find("wall-time budget"), std::string::npos) << r.status.message();
  ASSERT_TRUE(r.failed_call);  // the upstream's answer is the class: 429
  EXPECT_EQ(r.failed_call->failure.kind, ProviderFailureKind::kHttpStatus);
  EXPECT_EQ(r.failed_call->failure.http_status, 429);
  EXPECT_TRUE(clock_.sleeps().empty());
}

TEST_F(HttpProviderTest, SecretsNeverReachTheTraceOrErrors) {
  const std::string trace_path =
      ::testing::TempDir() + "/" + std::to_string(::getpid()) + "_secret_trace.jsonl";
  auto writer = JsonlTraceWriter::open(trace_path, ContentMode::kFull);
  ASSERT_TRUE(writer.ok());
  // Replies echo the key, the header secret and a bearer token.
  server_.push({200,
                "",
                {},
                0,
                std::string("Worker answer: 42 (key ") + kKey + ", header " + kHeaderSecret +
                    ", Authorization: Bearer abc.def.ghi)"});
  server_.push(
      {401, std::string(R"({"error":{"message":"invalid key )") + kKey + "\"}}", {}, 0, ""});
  RunOptions o;
  o.sinks.push_back(writer->get());
  auto r = run(http_pool("openai", server_.base_url()), {{0, kRoleWorker}, {1, kRoleVerifier}}, o);
  ASSERT_FALSE(r.ok());
  writer->reset();
  auto text = read_file(trace_path);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("Worker answer: 42"), std::string::npos);  // full content is there
  EXPECT_EQ(text->find(kKey), std::string::npos);
  EXPECT_EQ(text->find(kHeaderSecret), std::string::npos);
  EXPECT_EQ(text->find("abc.def.ghi"), std::string::npos);
  EXPECT_NE(text->find("<redacted>"), std::string::npos);
  EXPECT_EQ(r.status.message().find(kKey), std::string::npos) << r.status.message();
  EXPECT_NE(r.status.message().find("HTTP 401"), std::string::npos);
  for (const auto& e : sink_.events) EXPECT_EQ(e.dump().find(kKey), std::string::npos);
  // Every line is a complete JSON event.
  std::stringstream ss(*text);
  std::string line;
  int n = 0;
  while (std::getline(ss, line)) {
    auto j = Json::parse(line);
    EXPECT_EQ(j["schema_version"], 1);
    ++n;
  }
  EXPECT_GT(n, 5);
}

TEST_F(HttpProviderTest, SixteenConcurrentRunsShareOneRouterAndPool) {
  auto pool = AgentPool::create(http_pool("openai", server_.base_url()), true, test_env());
  ASSERT_TRUE(pool.ok());
  // Routes by transcript length: Worker first, then Verifier.
  struct LengthRouter final : Router {
    Result<RouteDecision> route(const std::vector<Message>& m) const override {
      std::array<float, kNumAgents> a{};
      std::array<float, kNumRoles> r{};
      a[m.size() % kNumAgents] = 0.5f;
      r[m.size() == 1 ? kRoleWorker : kRoleVerifier] = 2.0f;
      return make_route_decision(m, a, r);
    }
    std::string profile() const override { return "length"; }
  };
  Orchestrator orch(std::make_shared<LengthRouter>(), *pool);
  std::vector<RunResult> results(16);
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      RunOptions o;
      o.run_id = "run-" + std::to_string(i);
      results[static_cast<size_t>(i)] = orch.run({{"user", "q" + std::to_string(i)}}, o);
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) {
    EXPECT_TRUE(r.ok()) << r.status.message();
    EXPECT_EQ(r.usage.provider_calls, 2);
  }
  EXPECT_EQ(server_.requests().size(), 32u);
  EXPECT_EQ(server_.violations(), 0);
}

}  // namespace
}  // namespace trinity::coord::testing
