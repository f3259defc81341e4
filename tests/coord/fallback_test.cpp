// Provider fallbacks and circuit breakers (coord/fallback.h): a fake HttpClient (no sockets) and
// a fake clock make every circuit transition deterministic.
#include <thread>

#include "coord/fallback.h"
#include "coord_test_util.h"

namespace trinity::coord::testing {
namespace {

// Answers every POST by host: a configured status (0: connection refused), or an OpenAI success
// body ("ACCEPT: fine" to a Verifier, else "answer from <host>") with usage 100 prompt + 20
// completion tokens, after a configured latency on the fake clock. Counts calls per host.
class FakeHttp final : public HttpClient {
 public:
  explicit FakeHttp(FakeClock* clock) : clock_(clock) {}
  HttpResponse post(const HttpRequest& req) override {
    const size_t h = req.url.find("://") + 3;
    const std::string host = req.url.substr(h, req.url.find('/', h) - h);
    HttpResponse r;
    int64_t latency = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      calls_[host] += 1;
      auto it = status_.find(host);
      r.status = it == status_.end() ? 200 : it->second;
      latency = latency_[host];
    }
    clock_->advance(latency);
    if (r.status == 0) {
      r.error = TransportError::kConnect;
      r.error_message = "connection refused";
      return r;
    }
    if (r.status != 200) {
      r.body = R"({"error":{"message":"upstream is down"}})";
      return r;
    }
    const bool verifier = req.body.find("You are the Verifier") != std::string::npos;
    Json msg = {{"role", "assistant"},
                {"content", verifier ? "ACCEPT: fine" : "answer from " + host}};
    Json body = {{"choices", Json::array({Json{{"message", msg}}})},
                 {"usage", {{"prompt_tokens", 100}, {"completion_tokens", 20}}}};
    r.body = body.dump();
    return r;
  }
  void set_status(const std::string& host, long status) {  // 0: connection refused
    std::lock_guard<std::mutex> lock(mu_);
    status_[host] = status;
  }
  void set_latency(const std::string& host, int64_t ms) {
    std::lock_guard<std::mutex> lock(mu_);
    latency_[host] = ms;
  }
  int calls(const std::string& host) {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_[host];
  }

 private:
  FakeClock* clock_;
  std::mutex mu_;
  std::map<std::string, long> status_;
  std::map<std::string, int64_t> latency_;
  std::map<std::string, int> calls_;
};

// Every slot: openai on primary.test (expensive, 1 retry) with an openai fallback on backup.test
// (cheap) and a mock after it.
Json fallback_pool_json(int failures = 3, double open_seconds = 30) {
  Json slot = {{"name", "primary"},
               {"provider", "openai"},
               {"model", "big"},
               {"base_url", "http://primary.test/v1"},
               {"max_retries", 1},
               {"price_in_per_mtok", 1000},
               {"price_out_per_mtok", 1000},
               {"fallbacks", Json::array({Json{{"name", "backup"},
                                               {"provider", "openai"},
                                               {"model", "small"},
                                               {"base_url", "http://backup.test/v1"},
                                               {"price_in_per_mtok", 1},
                                               {"price_out_per_mtok", 2}},
                                          Json{{"provider", "mock"}, {"model", "last-resort"}}})}};
  Json j = {{"name", "fb"},
            {"circuit_breaker", {{"failures", failures}, {"open_seconds", open_seconds}}},
            {"slots", Json::array()}};
  for (int i = 0; i < kNumAgents; ++i) j["slots"].push_back(slot);
  return j;
}

EnvLookup no_env() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

class FallbackTest : public ::testing::Test {
 protected:
  void make_pool(const Json& j) {
    auto cfg = parse_pool_json(j, "fb.json");
    ASSERT_TRUE(cfg.ok()) << cfg.status().message();
    auto pool = AgentPool::create(*cfg, /*allow_live=*/true, no_env(), &http_);
    ASSERT_TRUE(pool.ok()) << pool.status().message();
    pool_ = *pool;
  }
  // Slot 0 answers as Worker, slot 1 verifies: two dispatches, two slots, one primary endpoint.
  RunResult run(RunOptions opts = {}) {
    sink_ = std::make_unique<MemorySink>();
    Orchestrator orch(std::make_shared<ScriptedRouter>(
                          std::vector<ScriptStep>{{0, kRoleWorker}, {1, kRoleVerifier}}),
                      pool_);
    opts.clock = &clock_;
    opts.seed = 11;
    opts.sinks.push_back(sink_.get());
    return orch.run({{"user", "What is 6 * 7?"}}, opts);
  }
  std::vector<std::string> circuit_moves() const {  // "closed>open", ...
    std::vector<std::string> out;
    for (const auto& e : sink_->of("circuit_state_changed"))
      out.push_back(e["from"].get<std::string>() + ">" + e["to"].get<std::string>());
    return out;
  }
  CircuitState primary_state() const {
    for (const auto& row : pool_->circuits->snapshot())
      if (row.name == "primary") return row.state;
    ADD_FAILURE() << "no primary circuit";
    return CircuitState::kClosed;
  }

  FakeClock clock_;
  FakeHttp http_{&clock_};
  std::shared_ptr<const AgentPool> pool_;
  std::unique_ptr<MemorySink> sink_;
};

// The acceptance test: a slot whose provider always answers 500 is answered by its fallback,
// its circuit opens after `failures` failed calls, skips the endpoint while open, lets exactly
// one probe through after open_seconds, re-opens on a failed probe and closes on a good one.
TEST_F(FallbackTest, AlwaysFailingProviderIsAnsweredByItsFallbackAndItsCircuitOpens) {
  make_pool(fallback_pool_json(/*failures=*/3, /*open_seconds=*/30));
  http_.set_status("primary.test", 500);
  RunResult r1 = run();  // 2 failed primary calls (slots 0 and 1 share the endpoint)
  ASSERT_TRUE(r1.ok()) << r1.status.message();
  EXPECT_EQ(*r1.answer, "answer from backup.test");
  EXPECT_EQ(http_.calls("primary.test"), 4);  // 2 calls x (1 + 1 retry)
  EXPECT_EQ(http_.calls("backup.test"), 2);
  EXPECT_EQ(primary_state(), CircuitState::kClosed);
  // Budgets and cost count every call made, at the price of the endpoint that answered.
  EXPECT_EQ(r1.usage.provider_calls, 4);
  EXPECT_EQ(r1.usage.cost_micro_usd, 2 * (100 * 1 + 20 * 2));
  ASSERT_EQ(r1.turns.size(), 2u);
  EXPECT_EQ(r1.turns[0].model, "small");
  EXPECT_EQ(r1.turns[0].fallback_index, 1);
  auto hops = sink_->of("provider_fallback");
  ASSERT_EQ(hops.size(), 2u);
  EXPECT_EQ(hops[0]["from_endpoint"], "primary");
  EXPECT_EQ(hops[0]["from_provider"], "openai");
  EXPECT_EQ(hops[0]["from_model"], "big");
  EXPECT_EQ(hops[0]["to_endpoint"], "backup");
  EXPECT_EQ(hops[0]["to_model"], "small");
  EXPECT_EQ(hops[0]["reason"], "error");
  EXPECT_EQ(hops[0]["failure"], "HTTP status");
  EXPECT_EQ(hops[0]["http_status"], 500);
  EXPECT_EQ(hops[0]["agent_id"], 0);
  EXPECT_EQ(hops[1]["agent_id"], 1);
  auto done = sink_->of("provider_dispatch_finished");
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0]["provider"], "openai");
  EXPECT_EQ(done[0]["model"], "small");
  EXPECT_EQ(done[0]["fallback_index"], 1);
  EXPECT_EQ(done[0]["endpoint_calls"], 2);
  EXPECT_EQ(done[0]["input_tokens"], 100);
  EXPECT_DOUBLE_EQ(done[0]["estimated_cost_usd"].get<double>(), 140e-6);
  // provider_dispatch_started still names the slot's own provider.
  EXPECT_EQ(sink_->of("provider_dispatch_started")[0]["model"], "big");

  RunResult r2 = run();  // the third failure opens the circuit; the next call skips it
  ASSERT_TRUE(r2.ok()) << r2.status.message();
  EXPECT_EQ(http_.calls("primary.test"), 6);
  EXPECT_EQ(primary_state(), CircuitState::kOpen);
  EXPECT_EQ(circuit_moves(), std::vector<std::string>{"closed>open"});
  auto opened = sink_->of("circuit_state_changed")[0];
  EXPECT_EQ(opened["endpoint"], "primary");
  EXPECT_EQ(opened["endpoint_key"], "openai:big@http://primary.test/v1");
  EXPECT_EQ(opened["reason"], "failures");
  EXPECT_EQ(opened["consecutive_failures"], 3);
  EXPECT_EQ(opened["failure_threshold"], 3);
  hops = sink_->of("provider_fallback");
  ASSERT_EQ(hops.size(), 2u);
  EXPECT_EQ(hops[1]["reason"], "circuit_open");
  EXPECT_TRUE(hops[1]["failure"].is_null());
  EXPECT_EQ(r2.usage.provider_calls, 3);  // the skipped endpoint was not called

  clock_.advance(29000);  // still open: no primary call at all
  RunResult r3 = run();
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(http_.calls("primary.test"), 6);
  EXPECT_TRUE(circuit_moves().empty());

  clock_.advance(1000);  // half-open: one probe, which fails and re-opens the circuit
  RunResult r4 = run();
  ASSERT_TRUE(r4.ok());
  EXPECT_EQ(http_.calls("primary.test"), 8);
  EXPECT_EQ(circuit_moves(), (std::vector<std::string>{"open>half_open", "half_open>open"}));
  EXPECT_EQ(sink_->of("circuit_state_changed")[1]["reason"], "probe_failed");
  EXPECT_EQ(primary_state(), CircuitState::kOpen);

  clock_.advance(30000);  // the endpoint is back: the probe closes the circuit
  http_.set_status("primary.test", 200);
  RunResult r5 = run();
  ASSERT_TRUE(r5.ok());
  EXPECT_EQ(*r5.answer, "answer from primary.test");
  EXPECT_EQ(circuit_moves(), (std::vector<std::string>{"open>half_open", "half_open>closed"}));
  EXPECT_EQ(sink_->of("circuit_state_changed")[1]["reason"], "probe_succeeded");
  EXPECT_EQ(primary_state(), CircuitState::kClosed);
  EXPECT_TRUE(sink_->of("provider_fallback").empty());
  EXPECT_EQ(r5.turns[0].fallback_index, 0);
  EXPECT_EQ(r5.usage.cost_micro_usd, 2 * (100 + 20) * 1000);
  EXPECT_EQ(http_.calls("backup.test"), 8);
}

TEST_F(FallbackTest, MaxProviderCallsCountsTheFailedPrimaryCall) {
  make_pool(fallback_pool_json());
  http_.set_status("primary.test", 500);
  RunOptions opts;
  opts.budgets.max_provider_calls = 3;  // dispatch 1 makes 2 calls; dispatch 2's fallback is #4
  RunResult r = run(opts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure_reason, "budget_exceeded");
  EXPECT_EQ(r.status.code(), ErrorCode::kBudgetExceeded);
  ASSERT_TRUE(r.budget_violation);
  EXPECT_EQ(r.budget_violation->budget, "max_provider_calls");
  EXPECT_EQ(r.budget_violation->checkpoint, "before_dispatch");
  EXPECT_EQ(http_.calls("backup.test"), 1);  // the fourth call was never made
  EXPECT_EQ(r.usage.provider_calls, 4);
  auto done = sink_->of("provider_dispatch_finished");
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[1]["reason"], "budget_exceeded");
  EXPECT_FALSE(r.failed_call);

  opts.budgets.max_provider_calls = 1;  // not even one fallback call
  RunResult one = run(opts);
  EXPECT_EQ(one.failure_reason, "budget_exceeded");
  EXPECT_EQ(http_.calls("backup.test"), 1);
}

TEST_F(FallbackTest, WithoutAFallbackAnOpenCircuitFailsFastAsCircuitOpen) {
  Json j = fallback_pool_json(/*failures=*/1);
  for (auto& s : j["slots"]) s.erase("fallbacks");
  make_pool(j);
  http_.set_status("primary.test", 0);  // connection refused
  RunResult r1 = run();
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.failure_reason, "provider_error");
  ASSERT_TRUE(r1.failed_call);
  EXPECT_EQ(r1.failed_call->failure.kind, ProviderFailureKind::kConnection);
  EXPECT_EQ(circuit_moves(), std::vector<std::string>{"closed>open"});
  const int calls = http_.calls("primary.test");
  RunResult r2 = run();
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.failure_reason, "provider_error");
  ASSERT_TRUE(r2.failed_call);
  EXPECT_EQ(r2.failed_call->failure.kind, ProviderFailureKind::kCircuitOpen);
  EXPECT_EQ(r2.failed_call->model, "big");
  EXPECT_NE(r2.status.message().find("circuit of every endpoint is open"), std::string::npos)
      << r2.status.message();
  EXPECT_EQ(http_.calls("primary.test"), calls);
  EXPECT_EQ(r2.usage.provider_calls, 0);  // no call was made
  EXPECT_EQ(sink_->of("provider_dispatch_finished")[0]["endpoint_calls"], 0);
}

TEST_F(FallbackTest, ClientErrorsFallBackButDoNotOpenTheCircuit) {
  make_pool(fallback_pool_json(/*failures=*/1));
  http_.set_status("primary.test", 400);
  for (int i = 0; i < 3; ++i) {
    RunResult r = run();
    ASSERT_TRUE(r.ok()) << r.status.message();
    EXPECT_EQ(*r.answer, "answer from backup.test");
  }
  EXPECT_EQ(http_.calls("primary.test"), 6);  // 400 is not retried, and never skipped
  EXPECT_EQ(primary_state(), CircuitState::kClosed);
  http_.set_status("primary.test", 429);  // rate limits count
  RunResult r = run();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(primary_state(), CircuitState::kOpen);
}

TEST_F(FallbackTest, WhenEveryEndpointFailsTheLastRealErrorIsReported) {
  Json j = fallback_pool_json(/*failures=*/5);
  for (auto& s : j["slots"]) s["fallbacks"].erase(1);  // no mock last resort
  make_pool(j);
  http_.set_status("primary.test", 500);
  http_.set_status("backup.test", 503);
  RunResult r = run();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure_reason, "provider_error");
  ASSERT_TRUE(r.failed_call);
  EXPECT_EQ(r.failed_call->model, "small");
  EXPECT_EQ(r.failed_call->failure.http_status, 503);
  EXPECT_EQ(r.usage.provider_calls, 2);
  auto done = sink_->of("provider_dispatch_finished");
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0]["model"], "small");
  EXPECT_EQ(done[0]["fallback_index"], 1);
}

TEST_F(FallbackTest, TheWallTimeBudgetStopsTheChainAndDoesNotCount) {
  make_pool(fallback_pool_json(/*failures=*/1));
  http_.set_status("primary.test", 500);
  ASSERT_TRUE(run().ok());
  EXPECT_EQ(primary_state(), CircuitState::kOpen);
  clock_.advance(30000);  // half-open: the next call is the probe
  http_.set_latency("primary.test", 200);
  RunOptions opts;
  opts.budgets.max_wall_time_ms = 100;  // the probe's answer comes after the run's budget
  RunResult late = run(opts);
  EXPECT_EQ(late.failure_reason, "budget_exceeded");
  EXPECT_EQ(http_.calls("primary.test"), 3);  // no retry: no time for it
  EXPECT_EQ(http_.calls("backup.test"), 2);   // and no fallback either
  EXPECT_TRUE(sink_->of("provider_fallback").empty());
  // A call cut short by the run's budget does not count: the probe slot is free again.
  EXPECT_EQ(circuit_moves(), std::vector<std::string>{"open>half_open"});
  EXPECT_EQ(primary_state(), CircuitState::kHalfOpen);
  RunResult next = run();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(circuit_moves(), std::vector<std::string>{"half_open>open"});
}

TEST(CircuitBreaker, OneProbeAtATimeAndStaleOutcomesAreIgnored) {
  ProviderSpec spec;
  spec.provider = "openai";
  spec.model = "m";
  spec.base_url = "http://u:p@h.test/v1";
  CircuitBreaker b("m", spec, CircuitBreakerConfig{2, 1000});
  EXPECT_EQ(b.key(), "openai:m@http://h.test/v1");  // no credentials in the key
  std::optional<CircuitTransition> changed;
  auto early = b.admit(0, &changed);  // admitted while closed; it finishes late
  auto t1 = b.admit(0, &changed);
  auto t2 = b.admit(0, &changed);
  EXPECT_FALSE(b.record(t1, CircuitBreaker::Outcome::kFailure, 0));
  auto opened = b.record(t2, CircuitBreaker::Outcome::kFailure, 0);
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->to, CircuitState::kOpen);
  EXPECT_FALSE(b.record(early, CircuitBreaker::Outcome::kSuccess, 0));  // stale: ignored
  EXPECT_EQ(b.state(), CircuitState::kOpen);
  EXPECT_FALSE(b.admit(999, &changed).admitted);
  EXPECT_FALSE(changed);
  auto probe = b.admit(1000, &changed);
  ASSERT_TRUE(probe.admitted);
  EXPECT_TRUE(probe.probe);
  ASSERT_TRUE(changed);
  EXPECT_EQ(changed->to, CircuitState::kHalfOpen);
  changed.reset();
  EXPECT_FALSE(b.admit(1000, &changed).admitted);                          // one probe at a time
  EXPECT_FALSE(b.record(probe, CircuitBreaker::Outcome::kNeutral, 1000));  // cancelled probe
  EXPECT_EQ(b.state(), CircuitState::kHalfOpen);
  auto probe2 = b.admit(1001, &changed);
  ASSERT_TRUE(probe2.admitted);
  EXPECT_FALSE(changed);
  auto closed = b.record(probe2, CircuitBreaker::Outcome::kSuccess, 1001);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->from, CircuitState::kHalfOpen);
  EXPECT_EQ(closed->to, CircuitState::kClosed);
  EXPECT_EQ(b.consecutive_failures(), 0);
}

TEST(CircuitBreaker, ConcurrentProbesAdmitExactlyOne) {
  ProviderSpec spec;
  spec.provider = "openai";
  spec.model = "m";
  CircuitBreaker b("m", spec, CircuitBreakerConfig{1, 10});
  std::optional<CircuitTransition> changed;
  ASSERT_TRUE(b.record(b.admit(0, &changed), CircuitBreaker::Outcome::kFailure, 0));
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      for (int k = 0; k < 100; ++k) {
        std::optional<CircuitTransition> c;
        if (b.admit(10, &c).admitted) admitted += 1;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 1);
}

TEST_F(FallbackTest, ConcurrentRunsShareTheCircuit) {
  make_pool(fallback_pool_json(/*failures=*/2));
  http_.set_status("primary.test", 500);
  std::vector<std::thread> threads;
  std::atomic<int> answered_by_backup{0};
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      for (int k = 0; k < 4; ++k) {
        Orchestrator orch(std::make_shared<ScriptedRouter>(std::vector<ScriptStep>{
                              {k % kNumAgents, kRoleWorker}, {1, kRoleVerifier}}),
                          pool_);
        RunOptions opts;
        opts.clock = &clock_;
        opts.seed = 3;
        RunResult r = orch.run({{"user", "q"}}, opts);
        if (r.ok() && *r.answer == "answer from backup.test") answered_by_backup += 1;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(answered_by_backup.load(), 32);
  EXPECT_EQ(primary_state(), CircuitState::kOpen);
  // At most `failures` calls, plus those admitted before the circuit opened, each with its retry.
  EXPECT_LE(http_.calls("primary.test"), 2 * (2 + 8));
}

}  // namespace
}  // namespace trinity::coord::testing
