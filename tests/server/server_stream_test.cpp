// Streaming, cancellation on disconnect, graceful shutdown, timeouts, route batching and
// concurrency of `trinity serve`, over loopback with libcurl.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>

#include "server/route_batcher.h"
#include "server/server_test_util.h"

namespace trinity::server::testing {
namespace {

bool wait_until(const std::function<bool()>& pred, int timeout_ms = 5000) {
  for (int i = 0; i < timeout_ms / 2; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return pred();
}

TEST(ServerStream, ChunkOrderContentAndDone) {
  TestServer ts(test_config(), std::make_shared<TurnRouter>(), mock_pools());
  const std::string chat = ts.url("/v1/chat/completions");
  HttpResult plain = post(chat, chat_body("stream this please"));
  ASSERT_EQ(plain.status, 200) << plain.body;
  const std::string answer = plain.js()["choices"][0]["message"]["content"];
  ASSERT_GT(answer.size(), 48u);  // several deltas

  HttpResult r = post(
      chat, chat_body("stream this please", true, {{"stream_options", {{"include_usage", true}}}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.headers["content-type"].find("text/event-stream"), std::string::npos);
  std::vector<std::string> data = sse_data(r.body);
  ASSERT_GE(data.size(), 6u) << r.body;
  EXPECT_EQ(data.back(), "[DONE]");
  EXPECT_EQ(r.body.substr(r.body.size() - 14), "data: [DONE]\n\n");

  // Phases must appear in order: role, progress (extension only), content, finish, usage.
  enum Phase { kRole, kProgress, kContent, kFinish, kUsage, kDone };
  int phase = kRole;
  std::string streamed, id, run_id;
  std::vector<std::string> events;
  int turns = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] == "[DONE]") {
      EXPECT_EQ(i, data.size() - 1);
      phase = kDone;
      continue;
    }
    json c = json::parse(data[i]);
    ASSERT_EQ(c["object"], "chat.completion.chunk") << data[i];
    EXPECT_EQ(c["model"], "trinity");
    if (id.empty()) id = c["id"];
    EXPECT_EQ(c["id"], id);
    if (i == 0) {
      ASSERT_EQ(c["choices"].size(), 1u);
      EXPECT_EQ(c["choices"][0]["delta"]["role"], "assistant");
      EXPECT_FALSE(c.contains("trinity"));
      continue;
    }
    if (c["choices"].empty() && c.contains("trinity")) {
      EXPECT_LE(phase, kProgress) << "progress after content: " << data[i];
      phase = kProgress;
      const json& x = c["trinity"];
      events.push_back(x["event"]);
      if (run_id.empty()) run_id = x["run_id"];
      EXPECT_EQ(x["run_id"], run_id);
      if (x["event"] == "turn") {
        ++turns;
        for (const char* k : {"turn", "agent_id", "agent_label", "role", "agent_margin",
                              "role_margin", "provider", "model", "latency_ms"})
          EXPECT_TRUE(x["turn"].contains(k)) << k;
      }
      if (x["event"] == "run_finished") {
        EXPECT_EQ(x["status"], "accepted");
        EXPECT_EQ(x["turns"].size(), 2u);
      }
      continue;
    }
    if (c["choices"].empty() && c.contains("usage")) {
      EXPECT_EQ(phase, kFinish);
      phase = kUsage;
      EXPECT_EQ(json(c["usage"]), plain.js()["usage"]);
      continue;
    }
    ASSERT_EQ(c["choices"].size(), 1u) << data[i];
    const json& ch = c["choices"][0];
    if (ch["finish_reason"].is_null()) {
      EXPECT_LE(phase, kContent);
      phase = kContent;
      streamed += ch["delta"]["content"].get<std::string>();
    } else {
      EXPECT_EQ(phase, kContent);
      EXPECT_EQ(ch["finish_reason"], "stop");
      phase = kFinish;
    }
  }
  EXPECT_EQ(phase, kDone);
  EXPECT_EQ(streamed, answer);
  EXPECT_EQ(turns, 2);
  EXPECT_EQ(events.front(), "run_started");
  EXPECT_EQ(events.back(), "run_finished");
  EXPECT_NE(std::find(events.begin(), events.end(), "verifier"), events.end());
}

TEST(ServerStream, FailedRunSendsErrorThenDone) {
  ServerConfig cfg = test_config();
  cfg.cold_verifier = coord::ColdVerifier::kError;
  TestServer ts(cfg, std::make_shared<TurnRouter>(/*verifier_first=*/true), mock_pools());
  HttpResult r = post(ts.url("/v1/chat/completions"), chat_body("q", true));
  ASSERT_EQ(r.status, 200);
  auto data = sse_data(r.body);
  ASSERT_GE(data.size(), 3u);
  EXPECT_EQ(data.back(), "[DONE]");
  json err = json::parse(data[data.size() - 2]);
  EXPECT_EQ(err["error"]["code"], "verifier_before_worker_response");
  EXPECT_EQ(err["error"]["type"], "coordination_error");
  EXPECT_EQ(err["trinity"]["status"], "failed");
}

TEST(ServerStream, ClientDisconnectCancelsTheRun) {
  ServerConfig cfg = test_config();
  cfg.stream_heartbeat_ms = 50;
  auto slow = std::make_shared<SlowProvider>(-1);  // blocks until cancelled
  TestServer ts(cfg, std::make_shared<TurnRouter>(), slow_pools(slow));
  HttpOptions opt;
  opt.on_data = [](const std::string& piece) {
    return piece.find("run_started") == std::string::npos;  // hang up once the run started
  };
  HttpResult r = post(ts.url("/v1/chat/completions"), chat_body("never finishes", true), opt);
  EXPECT_EQ(r.rc, CURLE_WRITE_ERROR);
  ASSERT_TRUE(wait_until([&] { return slow->saw_cancel.load(); }, 5000))
      << "the run was not cancelled after the client went away";
  EXPECT_EQ(slow->started.load(), 1);
  ASSERT_TRUE(wait_until([&] { return ts.server->in_flight() == 0; }));
  Metrics& m = ts.server->metrics();
  ASSERT_TRUE(wait_until([&] {
    return m.counter_value("trinity_runs_total", {{"outcome", "cancelled"}}) == 1;
  }));
  EXPECT_EQ(m.counter_value("trinity_client_disconnects_total", {}), 1);
  EXPECT_EQ(get(ts.url("/healthz")).status, 200);
}

TEST(ServerShutdown, DrainsInFlightRunsThenStops) {
  ServerConfig cfg = test_config();
  auto slow = std::make_shared<SlowProvider>(300);  // 2 calls: ~600 ms per run
  TestServer ts(cfg, std::make_shared<TurnRouter>(), slow_pools(slow));
  HttpResult plain, streamed;
  std::thread a([&] { plain = post(ts.url("/v1/chat/completions"), chat_body("a")); });
  std::thread b([&] { streamed = post(ts.url("/v1/chat/completions"), chat_body("b", true)); });
  ASSERT_TRUE(wait_until([&] { return ts.server->in_flight() == 2; }));
  std::thread stopper([&] { ts.server->shutdown(); });
  ASSERT_TRUE(wait_until([&] { return ts.server->draining(); }));
  HttpResult late = post(ts.url("/v1/chat/completions"), chat_body("late"));
  if (late.rc == CURLE_OK) {
    EXPECT_EQ(late.status, 503) << late.body;
    EXPECT_EQ(late.js()["error"]["code"], "shutting_down");
  }
  a.join();
  b.join();
  stopper.join();
  EXPECT_EQ(plain.status, 200) << plain.body;
  EXPECT_EQ(plain.js()["trinity"]["outcome"], "accepted");
  EXPECT_EQ(streamed.status, 200);
  EXPECT_EQ(sse_data(streamed.body).back(), "[DONE]");
  EXPECT_FALSE(slow->saw_cancel.load());
  HttpResult after = get(ts.url("/healthz"), {{}, 1000, nullptr});
  EXPECT_NE(after.rc, CURLE_OK);  // the listener is closed
}

TEST(ServerShutdown, DrainTimeoutCancelsRemainingRuns) {
  ServerConfig cfg = test_config();
  cfg.drain_timeout_ms = 200;
  auto slow = std::make_shared<SlowProvider>(-1);
  TestServer ts(cfg, std::make_shared<TurnRouter>(), slow_pools(slow));
  HttpResult r;
  std::thread a([&] { r = post(ts.url("/v1/chat/completions"), chat_body("stuck")); });
  ASSERT_TRUE(wait_until([&] { return slow->started.load() == 1; }));
  const auto t0 = std::chrono::steady_clock::now();
  ts.server->shutdown();
  a.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_TRUE(slow->saw_cancel.load());
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.js()["error"]["code"], "cancelled");
}

int connect_loopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// True when the server closed the connection within timeout_ms (read returns 0 or error).
bool closed_by_server(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  const auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(timeout_ms)) {
    if (::poll(&p, 1, 50) > 0) {
      char buf[512];
      ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) return true;
    }
  }
  return false;
}

TEST(ServerTimeouts, SlowAndIdleClientsAreDisconnected) {
  ServerConfig cfg = test_config();
  cfg.read_timeout_ms = 300;
  cfg.keep_alive_timeout_s = 1;
  TestServer ts(cfg, std::make_shared<TurnRouter>(), mock_pools());
  // A client that promises a body and stalls.
  int slow = connect_loopback(ts.server->port());
  ASSERT_GE(slow, 0);
  const std::string head =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{\"model\":";
  ASSERT_EQ(::send(slow, head.data(), head.size(), 0), static_cast<ssize_t>(head.size()));
  // A client that connects and never sends anything.
  int idle = connect_loopback(ts.server->port());
  ASSERT_GE(idle, 0);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(closed_by_server(slow, 4000));
  EXPECT_TRUE(closed_by_server(idle, 4000));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  ::close(slow);
  ::close(idle);
  EXPECT_EQ(post(ts.url("/v1/chat/completions"), chat_body("next")).status, 200);
}

TEST(ServerBatching, ConcurrentRouteRequestsShareForwardPasses) {
  ServerConfig cfg = test_config();
  cfg.route_batch_window_us = 50000;  // generous, so a loaded CI machine still coalesces
  auto router = std::make_shared<TurnRouter>(false, /*batch_delay_ms=*/20);
  TestServer ts(cfg, router, mock_pools());
  constexpr int kN = 12;
  std::vector<HttpResult> results(kN);
  std::vector<std::thread> threads;
  for (int i = 0; i < kN; ++i) {
    threads.emplace_back([&, i] {
      json body = {{"messages", {{{"role", "user"}, {"content", "query " + std::to_string(i)}}}}};
      results[static_cast<size_t>(i)] = post(ts.url("/v1/route"), body.dump());
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kN; ++i) {
    const HttpResult& r = results[static_cast<size_t>(i)];
    ASSERT_EQ(r.status, 200) << r.body;
    auto d = router->route({{"user", "query " + std::to_string(i)}});
    EXPECT_EQ(r.js()["transcript_hash"], d->transcript_hash);  // each caller got its own
  }
  auto sizes = router->batch_sizes();
  size_t total = 0, biggest = 0;
  for (size_t s : sizes) {
    total += s;
    biggest = std::max(biggest, s);
  }
  EXPECT_EQ(total, static_cast<size_t>(kN));
  EXPECT_GE(biggest, 2u) << "no two concurrent requests shared a forward pass";
  EXPECT_LT(sizes.size(), static_cast<size_t>(kN));
  EXPECT_GE(ts.server->metrics().histogram_count("trinity_route_batch_size", {}), 1u);
}

TEST(ServerBatching, BatcherHandsEachCallerItsDecision) {
  auto inner = std::make_shared<TurnRouter>();
  BatchingRouter br(inner, std::chrono::microseconds(2000), 4);
  constexpr int kN = 24;
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int i = 0; i < kN; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < 20; ++k) {
        std::string text = std::to_string(i);
        text += '-';
        text += std::to_string(k);
        std::vector<Message> m = {{"user", text}};
        auto got = br.route(m);
        auto want = inner->route(m);
        if (!got.ok() || got->transcript_hash != want->transcript_hash) mismatches += 1;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
  for (size_t s : inner->batch_sizes()) EXPECT_LE(s, 4u);
  // A lone caller does not wait for the window.
  BatchingRouter slow_window(inner, std::chrono::microseconds(100000), 32);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(slow_window.route({{"user", "alone"}}).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(50));
}

TEST(ServerConcurrency, SixteenParallelRunsShareOneRouter) {
  TestServer ts(test_config(), std::make_shared<MockTinyRouter>(), mock_pools());
  // mock_tiny routes by hash; find prompts whose runs succeed on the mock pool.
  std::vector<std::string> prompts;
  for (int i = 0; prompts.size() < 16 && i < 400; ++i) {
    const std::string p = "question number " + std::to_string(i);
    if (post(ts.url("/v1/chat/completions"), chat_body(p)).status == 200) prompts.push_back(p);
  }
  ASSERT_EQ(prompts.size(), 16u);
  std::vector<HttpResult> results(16);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < 16; ++i)
    threads.emplace_back([&, i] {
      results[i] = post(ts.url("/v1/chat/completions"), chat_body(prompts[i], i % 2 == 1));
    });
  for (auto& t : threads) t.join();
  std::set<std::string> ids;
  for (const auto& r : results) {
    ASSERT_EQ(r.status, 200) << r.body;
    ids.insert(r.headers.at("x-trinity-run-id"));
  }
  EXPECT_EQ(ids.size(), 16u);
}

}  // namespace
}  // namespace trinity::server::testing
