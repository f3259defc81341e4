// POST /v1/responses over loopback with libcurl: the response object, the streamed events (order,
// sequence numbers, deltas, usage), failed runs, request errors and cancellation on disconnect.
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

std::string responses_body(const json& input, bool stream = false,
                           const json& extra = json::object()) {
  json b = {{"model", "trinity"}, {"input", input}, {"stream", stream}};
  for (auto it = extra.begin(); it != extra.end(); ++it) b[it.key()] = it.value();
  return b.dump();
}

struct SseEvent {
  std::string name;  // the "event:" line
  json data;
};

// The named events of an SSE body, in order (comments skipped). Fails the test on an event whose
// "event:" line and data `type` differ.
std::vector<SseEvent> sse_events(const std::string& body) {
  std::vector<SseEvent> out;
  for (const std::string& block : sse_blocks(body)) {
    if (block.rfind(":", 0) == 0) continue;  // ": ping"
    const size_t nl = block.find('\n');
    EXPECT_EQ(block.rfind("event: ", 0), 0u) << block;
    EXPECT_EQ(block.compare(nl + 1, 6, "data: "), 0) << block;
    SseEvent e{block.substr(7, nl - 7), json::parse(block.substr(nl + 7))};
    EXPECT_EQ(e.data["type"], e.name) << block;
    out.push_back(std::move(e));
  }
  return out;
}

class ServerResponsesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ts_ = std::make_unique<TestServer>(test_config(), std::make_shared<TurnRouter>(), mock_pools());
  }
  std::string url() const { return ts_->url("/v1/responses"); }
  std::unique_ptr<TestServer> ts_;
};

TEST_F(ServerResponsesTest, NonStreamingResponseMatchesChat) {
  HttpResult chat = post(ts_->url("/v1/chat/completions"), chat_body("What is 6 times 7?"));
  ASSERT_EQ(chat.status, 200) << chat.body;
  HttpResult r = post(url(), responses_body("What is 6 times 7?"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.headers["content-type"].find("application/json"), std::string::npos);
  json j = r.js();
  const std::string run_id = j["trinity"]["run_id"];
  EXPECT_EQ(r.headers["x-trinity-run-id"], run_id);
  EXPECT_EQ(j["id"], "resp_" + run_id);
  EXPECT_EQ(j["object"], "response");
  EXPECT_EQ(j["status"], "completed");
  EXPECT_EQ(j["model"], "trinity");
  ASSERT_EQ(j["output"].size(), 1u);
  EXPECT_EQ(j["output"][0]["id"], "msg_" + run_id);
  EXPECT_EQ(j["output"][0]["content"][0]["type"], "output_text");
  EXPECT_EQ(j["output"][0]["content"][0]["text"], chat.js()["choices"][0]["message"]["content"]);
  EXPECT_EQ(j["usage"]["input_tokens"], chat.js()["usage"]["prompt_tokens"]);
  EXPECT_EQ(j["usage"]["output_tokens"], chat.js()["usage"]["completion_tokens"]);
  EXPECT_EQ(j["usage"]["total_tokens"], chat.js()["usage"]["total_tokens"]);
  EXPECT_EQ(j["trinity"]["status"], "accepted");
  EXPECT_EQ(j["trinity"]["turns"].size(), 2u);

  // Message items (with instructions) read as the same conversation as chat messages.
  json items =
      json::array({{{"type", "message"},
                    {"role", "user"},
                    {"content", {{{"type", "input_text"}, {"text", "What is 6 times 7?"}}}}}});
  HttpResult typed = post(url(), responses_body(items));
  ASSERT_EQ(typed.status, 200) << typed.body;
  EXPECT_EQ(typed.js()["output"][0]["content"][0]["text"], j["output"][0]["content"][0]["text"]);
  Metrics& m = ts_->server->metrics();  // counted once the response is out
  EXPECT_TRUE(wait_until([&] {
    return m.counter_value("trinity_http_requests_total",
                           {{"endpoint", "responses"}, {"status", "200"}}) == 2;
  }));
}

TEST_F(ServerResponsesTest, StreamEventsInOrderWithSequenceNumbers) {
  HttpResult plain = post(url(), responses_body("stream this please"));
  ASSERT_EQ(plain.status, 200) << plain.body;
  const std::string answer = plain.js()["output"][0]["content"][0]["text"];
  ASSERT_GT(answer.size(), 48u);  // several deltas

  HttpResult r = post(url(), responses_body("stream this please", true));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.headers["content-type"].find("text/event-stream"), std::string::npos);
  std::vector<SseEvent> ev = sse_events(r.body);
  ASSERT_GE(ev.size(), 12u) << r.body;
  const std::string run_id = r.headers["x-trinity-run-id"];

  // The standard sequence, with trinity.progress between in_progress and the output.
  std::vector<std::string> order;
  std::string streamed;
  std::vector<std::string> progress;
  for (size_t i = 0; i < ev.size(); ++i) {
    EXPECT_EQ(ev[i].data["sequence_number"], static_cast<int64_t>(i)) << ev[i].name;
    const std::string& t = ev[i].name;
    if (t == "trinity.progress") {
      progress.push_back(ev[i].data["trinity"]["event"]);
      EXPECT_EQ(ev[i].data["trinity"]["run_id"], run_id);
    } else if (t == "response.output_text.delta") {
      streamed += ev[i].data["delta"].get<std::string>();
      EXPECT_EQ(ev[i].data["item_id"], "msg_" + run_id);
    }
    if (order.empty() || order.back() != t) order.push_back(t);
  }
  EXPECT_EQ(order,
            (std::vector<std::string>{"response.created", "response.in_progress",
                                      "trinity.progress", "response.output_item.added",
                                      "response.content_part.added", "response.output_text.delta",
                                      "response.output_text.done", "response.content_part.done",
                                      "response.output_item.done", "response.completed"}));
  EXPECT_EQ(streamed, answer);
  EXPECT_EQ(progress.front(), "run_started");
  EXPECT_EQ(progress.back(), "run_finished");
  EXPECT_EQ(std::count(progress.begin(), progress.end(), "turn"), 2);
  EXPECT_EQ(std::count(progress.begin(), progress.end(), "verifier"), 1);

  const json& created = ev[0].data["response"];
  EXPECT_EQ(created["id"], "resp_" + run_id);
  EXPECT_EQ(created["status"], "in_progress");
  EXPECT_EQ(created["output"], json::array());
  const json& done = ev.back().data["response"];
  EXPECT_EQ(done["id"], "resp_" + run_id);
  EXPECT_EQ(done["status"], "completed");
  EXPECT_EQ(done["usage"], plain.js()["usage"]);
  EXPECT_GT(done["usage"]["total_tokens"].get<int64_t>(), 0);
  EXPECT_EQ(done["trinity"]["status"], "accepted");
  EXPECT_EQ(done["output"][0], ev[ev.size() - 2].data["item"]);
  EXPECT_EQ(done["output"][0]["content"][0]["text"], answer);
}

TEST(ServerResponses, FailedRunIsAnErrorOrResponseFailed) {
  ServerConfig cfg = test_config();
  cfg.cold_verifier = coord::ColdVerifier::kError;
  TestServer ts(cfg, std::make_shared<TurnRouter>(/*verifier_first=*/true), mock_pools());
  HttpResult plain = post(ts.url("/v1/responses"), responses_body("q"));
  EXPECT_EQ(plain.status, 422) << plain.body;
  EXPECT_EQ(plain.js()["error"]["type"], "coordination_error");
  EXPECT_EQ(plain.js()["error"]["code"], "verifier_before_worker_response");
  EXPECT_EQ(plain.js()["trinity"]["status"], "failed");
  EXPECT_FALSE(plain.headers["x-trinity-run-id"].empty());

  HttpResult r = post(ts.url("/v1/responses"), responses_body("q", true));
  ASSERT_EQ(r.status, 200);
  std::vector<SseEvent> ev = sse_events(r.body);
  ASSERT_GE(ev.size(), 4u) << r.body;
  EXPECT_EQ(ev[0].name, "response.created");
  const SseEvent& last = ev.back();
  ASSERT_EQ(last.name, "response.failed") << r.body;
  EXPECT_EQ(last.data["sequence_number"], static_cast<int64_t>(ev.size() - 1));
  const json& resp = last.data["response"];
  EXPECT_EQ(resp["status"], "failed");
  EXPECT_EQ(resp["error"]["code"], "verifier_before_worker_response");
  EXPECT_FALSE(resp["error"]["message"].get<std::string>().empty());
  EXPECT_EQ(resp["trinity"]["status"], "failed");
  for (const auto& e : ev) EXPECT_EQ(e.name.find("output"), std::string::npos) << e.name;
}

TEST_F(ServerResponsesTest, RequestErrors) {
  auto expect_error = [](const HttpResult& r, long status, const std::string& code,
                         const std::string& words) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.js()["error"]["code"], code) << r.body;
    EXPECT_NE(r.js()["error"]["message"].get<std::string>().find(words), std::string::npos)
        << r.body;
  };
  expect_error(post(url(), R"({"model": "gpt-nope", "input": "x"})"), 404, "model_not_found",
               "gpt-nope");
  expect_error(post(url(), R"({"model": "trinity", "input": "x)"), 400, "invalid_json",
               "invalid JSON");
  json call = json::array({{{"role", "user"}, {"content", "ls"}},
                           {{"type", "function_call_output"}, {"call_id", "c"}, {"output", "a"}}});
  expect_error(post(url(), responses_body(call)), 400, "invalid_request",
               "input[1].call_id 'c' matches no earlier tool call");
  expect_error(post(url(), responses_body("x", false, {{"previous_response_id", "resp_1"}})), 400,
               "unsupported", "previous_response_id");
  json image = json::array(
      {{{"role", "user"}, {"content", {{{"type", "input_image"}, {"image_url", "x"}}}}}});
  expect_error(post(url(), responses_body(image)), 400, "invalid_request",
               "input[0].content[0].type");
  HttpResult get_r = get(url());
  expect_error(get_r, 405, "method_not_allowed", "POST");
  EXPECT_EQ(get_r.headers["allow"], "POST");
  EXPECT_EQ(ts_->server->in_flight(), 0);
}

TEST(ServerResponses, ClientDisconnectCancelsTheRun) {
  ServerConfig cfg = test_config();
  cfg.stream_heartbeat_ms = 50;
  auto slow = std::make_shared<SlowProvider>(-1);  // blocks until cancelled
  TestServer ts(cfg, std::make_shared<TurnRouter>(), slow_pools(slow));
  HttpOptions opt;
  opt.on_data = [](const std::string& piece) {
    return piece.find("run_started") == std::string::npos;  // hang up once the run started
  };
  HttpResult r = post(ts.url("/v1/responses"), responses_body("never finishes", true), opt);
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
  EXPECT_EQ(m.inflight_runs.load(), 0);
}

}  // namespace
}  // namespace trinity::server::testing
