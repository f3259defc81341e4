// OTLP/HTTP JSON encoding, the exporter's batching / bounds / failure handling (against a fake
// HttpClient), and the spans OtlpRunSink builds from a run, with the traceparent each provider
// call propagates.
#include "coord/otlp.h"

#include <chrono>
#include <condition_variable>
#include <thread>

#include "coord/fake_llm_server.h"
#include "coord/otlp_sink.h"
#include "coord/run_spans.h"
#include "coord_test_util.h"

namespace trinity::coord::testing {
namespace {

constexpr const char* kTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr const char* kIncomingSpan = "00f067aa0ba902b7";
constexpr const char* kRunSpan = "1111222233334444";

// Records every export POST; can hold them (until the request's timeout) or fail them.
class FakeCollectorClient final : public HttpClient {
 public:
  HttpResponse post(const HttpRequest& r) override {
    std::unique_lock<std::mutex> lock(mu_);
    requests_.push_back(r);
    cv_.notify_all();
    HttpResponse resp;
    if (hold_ &&
        !cv_.wait_for(lock, std::chrono::milliseconds(r.timeout_ms), [&] { return !hold_; })) {
      resp.error = TransportError::kTimeout;
      return resp;
    }
    resp.error = error_;
    resp.status = error_ == TransportError::kNone ? status_ : 0;
    return resp;
  }
  void hold(bool h) {
    std::lock_guard<std::mutex> lock(mu_);
    hold_ = h;
    cv_.notify_all();
  }
  void fail_with(TransportError e, long status = 200) {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = e;
    status_ = status;
  }
  bool wait_for_requests(size_t n, int ms = 5000) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return requests_.size() >= n; });
  }
  std::vector<HttpRequest> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  // Every span of every request, in order.
  std::vector<Json> spans() {
    std::vector<Json> out;
    for (const auto& r : requests()) {
      const Json j = Json::parse(r.body);
      for (const auto& s : j["resourceSpans"][0]["scopeSpans"][0]["spans"]) out.push_back(s);
    }
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<HttpRequest> requests_;
  bool hold_ = false;
  TransportError error_ = TransportError::kNone;
  long status_ = 200;
};

Span test_span(const std::string& name, int i = 0) {
  Span s;
  s.trace_id = kTraceId;
  s.span_id = derive_span_id(kRunSpan, name, i);
  s.name = name;
  s.start_unix_nano = 1700000000000000000 + i;
  s.end_unix_nano = s.start_unix_nano + 1000;
  return s;
}

OtlpConfig quiet_config(size_t max_queue = 2048, size_t max_batch = 512) {
  OtlpConfig c;
  c.endpoint = "http://collector.invalid:4318";
  c.max_queue = max_queue;
  c.max_batch = max_batch;
  c.flush_interval_ms = 60000;  // only full batches, flush() and shutdown() send
  return c;
}

std::string attr_json(const Json& span, const std::string& key) {
  for (const auto& a : span["attributes"])
    if (a["key"] == key) return a["value"].dump();
  return "";
}

TEST(Otlp, UrlAndEndpointValidation) {
  EXPECT_EQ(otlp_traces_url("http://h:4318"), "http://h:4318/v1/traces");
  EXPECT_EQ(otlp_traces_url("http://h:4318/"), "http://h:4318/v1/traces");
  EXPECT_EQ(otlp_traces_url("https://h/otel/v1/traces"), "https://h/otel/v1/traces");
  EXPECT_EQ(otlp_traces_url("https://h/otel"), "https://h/otel/v1/traces");
  EXPECT_TRUE(validate_otlp_endpoint("http://127.0.0.1:4318").ok());
  EXPECT_TRUE(validate_otlp_endpoint("https://otel.example.com/v1/traces").ok());
  for (const char* bad : {"", "127.0.0.1:4318", "grpc://h:4317", "http://", "http://:4318",
                          "http://h/a b", "ftp://h"})
    EXPECT_FALSE(validate_otlp_endpoint(bad).ok()) << bad;
}

TEST(Otlp, JsonEncodingFollowsTheOtlpRules) {
  Span s = test_span("trinity.provider_call");
  s.parent_span_id = kRunSpan;
  s.kind = SpanKind::kClient;
  s.set("gen_ai.system", "openai");
  s.set("gen_ai.usage.input_tokens", int64_t{9007199254740993});
  s.set("trinity.agent_margin", 1.25);
  s.set("trinity.cached", true);
  s.set("trinity.nan", std::nan(""));
  s.set("trinity.agent_margin", 1.5);  // replaces
  s.status_code = SpanStatusCode::kError;
  s.status_message = "provider_error";
  const OrderedJson req =
      otlp_export_json({s, test_span("trinity.run")}, {{"service.name", std::string("trinity")}});
  const Json j = Json::parse(req.dump());
  ASSERT_EQ(j["resourceSpans"].size(), 1u);
  const Json& rs = j["resourceSpans"][0];
  EXPECT_EQ(rs["resource"]["attributes"][0]["key"], "service.name");
  EXPECT_EQ(rs["resource"]["attributes"][0]["value"]["stringValue"], "trinity");
  ASSERT_EQ(rs["scopeSpans"].size(), 1u);
  EXPECT_EQ(rs["scopeSpans"][0]["scope"]["name"], "trinity.cpp");
  const Json& spans = rs["scopeSpans"][0]["spans"];
  ASSERT_EQ(spans.size(), 2u);
  const Json& a = spans[0];
  EXPECT_EQ(a["traceId"], kTraceId);
  EXPECT_EQ(a["spanId"].get<std::string>().size(), 16u);
  EXPECT_EQ(a["parentSpanId"], kRunSpan);
  EXPECT_EQ(a["kind"], 3);
  EXPECT_EQ(a["startTimeUnixNano"], "1700000000000000000");
  EXPECT_EQ(a["endTimeUnixNano"], "1700000000000001000");
  EXPECT_EQ(attr_json(a, "gen_ai.system"), R"({"stringValue":"openai"})");
  EXPECT_EQ(attr_json(a, "gen_ai.usage.input_tokens"), R"({"intValue":"9007199254740993"})");
  EXPECT_EQ(attr_json(a, "trinity.agent_margin"), R"({"doubleValue":1.5})");
  EXPECT_EQ(attr_json(a, "trinity.cached"), R"({"boolValue":true})");
  EXPECT_EQ(attr_json(a, "trinity.nan"), R"({"doubleValue":"NaN"})");
  EXPECT_EQ(a["attributes"].size(), 5u);
  EXPECT_EQ(a["status"]["code"], 2);
  EXPECT_EQ(a["status"]["message"], "provider_error");
  const Json& b = spans[1];
  EXPECT_FALSE(b.contains("parentSpanId"));  // a root span
  EXPECT_EQ(b["kind"], 1);
  EXPECT_EQ(b["status"], Json({{"code", 0}}));
}

TEST(OtlpExporter, BatchesAndPostsJson) {
  FakeCollectorClient http;
  OtlpExporter ex(quiet_config(2048, 4), &http);
  EXPECT_EQ(ex.url(), "http://collector.invalid:4318/v1/traces");
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(ex.enqueue(test_span("s", i)));
  ASSERT_TRUE(ex.flush(5000));
  const auto reqs = http.requests();
  ASSERT_EQ(reqs.size(), 3u);  // 4 + 4 + 2
  for (const auto& r : reqs) {
    EXPECT_EQ(r.url, ex.url());
    ASSERT_EQ(r.headers.size(), 1u);
    EXPECT_EQ(r.headers[0].first, "Content-Type");
    EXPECT_EQ(r.headers[0].second, "application/json");
    EXPECT_LE(r.timeout_ms, 2000);
    const Json j = Json::parse(r.body);
    bool has_service = false;
    for (const auto& a : j["resourceSpans"][0]["resource"]["attributes"])
      has_service |= a["key"] == "service.name" && a["value"]["stringValue"] == "trinity";
    EXPECT_TRUE(has_service);
  }
  const auto spans = http.spans();
  ASSERT_EQ(spans.size(), 10u);
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(spans[static_cast<size_t>(i)]["spanId"], derive_span_id(kRunSpan, "s", i));
  EXPECT_EQ(ex.stats().spans_exported, 10u);
  EXPECT_EQ(ex.stats().export_failures, 0u);
}

TEST(OtlpExporter, QueueIsBoundedAndEnqueueNeverWaits) {
  FakeCollectorClient http;
  http.hold(true);  // the collector hangs
  OtlpExporter ex(quiet_config(8, 4), &http);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(ex.enqueue(test_span("s", i)));
  ASSERT_TRUE(http.wait_for_requests(1));  // that batch is in flight, held
  const auto t0 = std::chrono::steady_clock::now();
  int accepted = 0;
  for (int i = 4; i < 20; ++i) accepted += ex.enqueue(test_span("s", i)) ? 1 : 0;
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(ms, 50.0);  // a stuck collector costs enqueue nothing
  EXPECT_EQ(accepted, 8);
  EXPECT_EQ(ex.stats().spans_dropped, 8u);
  http.hold(false);
  ASSERT_TRUE(ex.flush(5000));
  EXPECT_EQ(ex.stats().spans_exported, 12u);
  EXPECT_EQ(http.spans().size(), 12u);
}

TEST(OtlpExporter, FailedExportsAreCountedAndDropped) {
  FakeCollectorClient http;
  http.fail_with(TransportError::kConnect);
  OtlpExporter ex(quiet_config(), &http);
  for (int i = 0; i < 3; ++i) ex.enqueue(test_span("s", i));
  ASSERT_TRUE(ex.flush(5000));
  http.fail_with(TransportError::kNone, 503);
  ex.enqueue(test_span("s", 3));
  ASSERT_TRUE(ex.flush(5000));
  EXPECT_EQ(ex.stats().export_failures, 2u);
  EXPECT_EQ(ex.stats().spans_failed, 4u);
  EXPECT_EQ(ex.stats().spans_exported, 0u);
  http.fail_with(TransportError::kNone, 200);  // the collector is back: no retry of old batches
  ex.enqueue(test_span("s", 4));
  ASSERT_TRUE(ex.flush(5000));
  EXPECT_EQ(ex.stats().spans_exported, 1u);
  EXPECT_EQ(http.requests().size(), 3u);
}

TEST(OtlpExporter, TimerSendsAndShutdownFlushesWithinItsDeadline) {
  FakeCollectorClient http;
  OtlpConfig c = quiet_config();
  c.flush_interval_ms = 50;
  {
    OtlpExporter ex(c, &http);
    ex.enqueue(test_span("s", 0));
    EXPECT_TRUE(http.wait_for_requests(1, 2000));  // the interval sends a partial batch
    ex.enqueue(test_span("s", 1));
    ex.shutdown();  // sends what is left
    EXPECT_EQ(ex.stats().spans_exported, 2u);
    EXPECT_FALSE(ex.enqueue(test_span("s", 2)));  // stopped
  }
  FakeCollectorClient hung;
  hung.hold(true);
  c = quiet_config();
  c.shutdown_deadline_ms = 200;
  OtlpExporter ex(c, &hung);
  ex.enqueue(test_span("s", 0));
  const auto t0 = std::chrono::steady_clock::now();
  ex.shutdown();
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(ms, 1500.0);
  EXPECT_EQ(ex.stats().export_failures, 1u);
}

// Answers every role at once and records the trace context of each call.
class TraceparentProvider final : public Provider {
 public:
  TraceparentProvider() : Provider(ScriptedProvider::make_spec("tp-model")) {}
  Result<ChatReply> chat(const ChatRequest& req, const CallContext& ctx) override {
    std::lock_guard<std::mutex> lock(mu);
    traceparents.push_back(ctx.traceparent);
    tracestates.push_back(ctx.tracestate);
    if (fail) return Status(ErrorCode::kProvider, "upstream exploded at 10.0.0.1");
    ChatReply r;
    r.text = req.role_id == kRoleVerifier ? "ACCEPT: fine" : "Worker answer: 42";
    r.input_tokens = 10;
    r.output_tokens = 5;
    return r;
  }
  std::mutex mu;
  std::vector<std::string> traceparents, tracestates;
  bool fail = false;
};

TraceContext run_context(uint8_t flags = 0x01) {
  TraceContext c;
  c.trace_id = kTraceId;
  c.span_id = kRunSpan;
  c.flags = flags;
  c.tracestate = "vendor=abc";
  return c;
}

std::map<std::string, Json> by_id(const std::vector<Json>& spans) {
  std::map<std::string, Json> m;
  for (const auto& s : spans) m[s["spanId"].get<std::string>()] = s;
  return m;
}

std::vector<Json> named(const std::vector<Json>& spans, const std::string& name) {
  std::vector<Json> out;
  for (const auto& s : spans)
    if (s["name"] == name) out.push_back(s);
  return out;
}

int64_t nanos(const Json& s, const char* key) {
  return std::stoll(s[key].get<std::string>());
}

// A child span lies within its parent's time.
void expect_within(const Json& child, const Json& parent) {
  EXPECT_GE(nanos(child, "startTimeUnixNano"), nanos(parent, "startTimeUnixNano")) << child;
  EXPECT_LE(nanos(child, "endTimeUnixNano"), nanos(parent, "endTimeUnixNano")) << child;
}

class OtlpSinkTest : public ::testing::Test {
 protected:
  RunResult run(const TraceContext& ctx) {
    Orchestrator orch(std::make_shared<ScriptedRouter>(
                          std::vector<ScriptStep>{{0, kRoleWorker}, {1, kRoleVerifier}}),
                      single_provider_pool(provider_));
    RunOptions o;
    o.trace = ctx;
    o.run_id = "run-1";
    RunResult r;
    {
      OtlpRunSink sink(exporter_, ctx, kIncomingSpan, {{"trinity.run_id", std::string("run-1")}});
      o.sinks.push_back(&sink);
      r = orch.run({{"user", "What is 6 * 7?"}}, o);
    }
    EXPECT_TRUE(exporter_.flush(5000));
    return r;
  }
  FakeCollectorClient http_;
  OtlpExporter exporter_{quiet_config(), &http_};
  std::shared_ptr<TraceparentProvider> provider_ = std::make_shared<TraceparentProvider>();
};

TEST_F(OtlpSinkTest, RunTurnRouteAndProviderCallSpans) {
  RunResult r = run(run_context());
  ASSERT_TRUE(r.ok()) << r.status.message();
  const auto spans = http_.spans();
  ASSERT_EQ(spans.size(), 7u);  // run + 2 x (turn, route, provider_call)
  const auto ids = by_id(spans);
  ASSERT_EQ(ids.size(), 7u);
  for (const auto& s : spans) {
    EXPECT_EQ(s["traceId"], kTraceId);
    EXPECT_EQ(s["status"]["code"], 0) << s;
    EXPECT_LE(nanos(s, "startTimeUnixNano"), nanos(s, "endTimeUnixNano"));
  }
  const auto runs = named(spans, "trinity.run");
  ASSERT_EQ(runs.size(), 1u);
  const Json& run_span = runs[0];
  EXPECT_EQ(run_span["spanId"], kRunSpan);
  EXPECT_EQ(run_span["parentSpanId"], kIncomingSpan);
  EXPECT_EQ(run_span["kind"], 2);
  EXPECT_EQ(attr_json(run_span, "trinity.run_id"), R"({"stringValue":"run-1"})");
  EXPECT_EQ(attr_json(run_span, "trinity.status"), R"({"stringValue":"accepted"})");
  EXPECT_EQ(attr_json(run_span, "trinity.turns"), R"({"intValue":"2"})");
  EXPECT_EQ(attr_json(run_span, "gen_ai.usage.input_tokens"), R"({"intValue":"20"})");
  EXPECT_EQ(attr_json(run_span, "gen_ai.usage.output_tokens"), R"({"intValue":"10"})");
  EXPECT_EQ(attr_json(run_span, "trinity.router_profile"), R"({"stringValue":"scripted"})");

  const auto turns = named(spans, "trinity.turn");
  ASSERT_EQ(turns.size(), 2u);
  for (int t = 0; t < 2; ++t) {
    const Json& turn = turns[static_cast<size_t>(t)];
    EXPECT_EQ(turn["spanId"], turn_span_id(kRunSpan, t));
    EXPECT_EQ(turn["parentSpanId"], kRunSpan);
    EXPECT_EQ(turn["kind"], 1);
    expect_within(turn, run_span);
    EXPECT_EQ(attr_json(turn, "trinity.turn"), "{\"intValue\":\"" + std::to_string(t) + "\"}");
    EXPECT_NE(attr_json(turn, "trinity.agent_margin"), "");
    EXPECT_NE(attr_json(turn, "trinity.role_margin"), "");
    EXPECT_NE(attr_json(turn, "trinity.band"), "");
  }
  EXPECT_EQ(attr_json(turns[0], "trinity.role"), R"({"stringValue":"Worker"})");
  EXPECT_EQ(attr_json(turns[1], "trinity.role"), R"({"stringValue":"Verifier"})");
  EXPECT_EQ(attr_json(turns[1], "trinity.verdict"), R"({"stringValue":"accept"})");
  // Each turn's route and provider call hang under it; the call is the one sent upstream.
  const auto routes = named(spans, "trinity.route");
  const auto calls = named(spans, "trinity.provider_call");
  ASSERT_EQ(routes.size(), 2u);
  ASSERT_EQ(calls.size(), 2u);
  ASSERT_EQ(provider_->traceparents.size(), 2u);
  for (size_t t = 0; t < 2; ++t) {
    EXPECT_EQ(routes[t]["parentSpanId"], turns[t]["spanId"]);
    EXPECT_EQ(calls[t]["parentSpanId"], turns[t]["spanId"]);
    EXPECT_EQ(calls[t]["kind"], 3);
    expect_within(routes[t], turns[t]);
    expect_within(calls[t], turns[t]);
    EXPECT_LE(nanos(routes[t], "endTimeUnixNano"), nanos(calls[t], "startTimeUnixNano"));
    auto sent = parse_traceparent(provider_->traceparents[t]);
    ASSERT_TRUE(sent.has_value()) << provider_->traceparents[t];
    EXPECT_EQ(sent->trace_id, kTraceId);
    EXPECT_EQ(sent->span_id, calls[t]["spanId"]);
    EXPECT_TRUE(sent->sampled());
    EXPECT_EQ(provider_->tracestates[t], "vendor=abc");
    EXPECT_EQ(attr_json(calls[t], "gen_ai.system"), R"({"stringValue":"scripted"})");
    EXPECT_EQ(attr_json(calls[t], "gen_ai.request.model"), R"({"stringValue":"tp-model"})");
    EXPECT_EQ(attr_json(calls[t], "gen_ai.usage.input_tokens"), R"({"intValue":"10"})");
    EXPECT_EQ(attr_json(calls[t], "trinity.status"), R"({"stringValue":"ok"})");
  }
}

TEST_F(OtlpSinkTest, AFailedCallMarksItsSpansAsErrors) {
  provider_->fail = true;
  RunResult r = run(run_context());
  ASSERT_FALSE(r.ok());
  const auto spans = http_.spans();
  ASSERT_EQ(spans.size(), 4u);  // run, turn, route, provider_call
  const Json call = named(spans, "trinity.provider_call").at(0);
  EXPECT_EQ(call["status"]["code"], 2);
  EXPECT_EQ(call["status"]["message"], "provider_error");  // the class, never the detail
  EXPECT_EQ(call.dump().find("10.0.0.1"), std::string::npos);
  EXPECT_EQ(named(spans, "trinity.turn").at(0)["status"]["code"], 2);
  const Json run_span = named(spans, "trinity.run").at(0);
  EXPECT_EQ(run_span["status"]["code"], 2);
  EXPECT_EQ(attr_json(run_span, "trinity.failure_reason"), R"({"stringValue":"provider_error"})");
}

TEST_F(OtlpSinkTest, AnUnsampledTraceIsPropagatedButNotRecorded) {
  RunResult r = run(run_context(0x00));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(http_.requests().empty());
  ASSERT_EQ(provider_->traceparents.size(), 2u);
  EXPECT_EQ(provider_->traceparents[0],
            std::string("00-") + kTraceId + "-" + provider_call_span_id(kRunSpan, 0) + "-00");
}

TEST_F(OtlpSinkTest, SpansLeftOpenEndWithTheSink) {
  {
    OtlpRunSink sink(exporter_, run_context(), "");
    OrderedJson ev = {{"event", "route_decision"}, {"turn", 0}, {"agent_margin", nullptr}};
    ASSERT_TRUE(sink.on_event(ev).ok());
    ASSERT_TRUE(
        sink.on_event(OrderedJson{{"event", "provider_dispatch_started"}, {"turn", "x"}}).ok());
  }
  ASSERT_TRUE(exporter_.flush(5000));
  const auto spans = http_.spans();
  ASSERT_EQ(spans.size(), 4u);
  for (const auto& s : spans) {
    if (s["name"] != "trinity.route") {
      EXPECT_EQ(s["status"]["code"], 2) << s;
    }
  }
  EXPECT_FALSE(named(spans, "trinity.run").at(0).contains("parentSpanId"));
}

TEST(OtlpPropagation, OpenAiProviderSendsTheTraceparentUpstream) {
  trinity::testing::FakeLlmServer server;
  PoolConfig pool;
  pool.name = "fake";
  pool.prompts = default_role_prompts();
  for (auto& s : pool.slots) {
    s.provider = "openai";
    s.model = "fake-model";
    s.base_url = server.base_url();
    s.timeout_ms = 5000;
  }
  auto agents = AgentPool::create(pool, /*allow_live=*/true, process_env());
  ASSERT_TRUE(agents.ok()) << agents.status().message();
  Orchestrator orch(std::make_shared<ScriptedRouter>(
                        std::vector<ScriptStep>{{0, kRoleWorker}, {1, kRoleVerifier}}),
                    *agents);
  RunOptions o;
  o.trace = run_context();
  RunResult r = orch.run({{"user", "What is 6 * 7?"}}, o);
  ASSERT_TRUE(r.ok()) << r.status.message();
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  for (int t = 0; t < 2; ++t) {
    const auto& h = reqs[static_cast<size_t>(t)].headers;
    ASSERT_EQ(h.count("traceparent"), 1u);
    EXPECT_EQ(h.at("traceparent"),
              std::string("00-") + kTraceId + "-" + provider_call_span_id(kRunSpan, t) + "-01");
    EXPECT_EQ(h.at("tracestate"), "vendor=abc");
  }
  // Without a trace context nothing is added.
  RunResult plain = orch.run({{"user", "again"}}, RunOptions{});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(server.requests().back().headers.count("traceparent"), 0u);
}

// A dispatch over fallbacks is one provider_call span: every endpoint it calls gets that span's
// traceparent, and the span names the endpoint that answered.
TEST(OtlpPropagation, FallbackEndpointsShareTheProviderCallSpan) {
  trinity::testing::FakeLlmServer server;
  server.push({500, R"({"error":{"message":"primary down"}})", {}, 0, ""});
  PoolConfig pool;
  pool.name = "fake";
  pool.prompts = default_role_prompts();
  for (auto& s : pool.slots) {
    s.provider = "openai";
    s.model = "primary";
    s.base_url = server.base_url();
    s.timeout_ms = 5000;
    s.max_retries = 0;
    ProviderSpec backup = s;
    backup.model = "backup";
    s.fallbacks = {backup};
  }
  auto agents = AgentPool::create(pool, /*allow_live=*/true, process_env());
  ASSERT_TRUE(agents.ok()) << agents.status().message();
  Orchestrator orch(std::make_shared<ScriptedRouter>(std::vector<ScriptStep>{{0, kRoleWorker}}),
                    *agents);
  FakeCollectorClient http;
  OtlpExporter exporter(quiet_config(), &http);
  RunOptions o;
  o.trace = run_context();
  o.max_turns = 1;
  {
    OtlpRunSink sink(exporter, *o.trace, "");
    o.sinks.push_back(&sink);
    RunResult r = orch.run({{"user", "What is 6 * 7?"}}, o);
    ASSERT_TRUE(r.ok()) << r.status.message();
  }
  ASSERT_TRUE(exporter.flush(5000));
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);  // primary (HTTP 500), then the fallback
  const std::string expected =
      std::string("00-") + kTraceId + "-" + provider_call_span_id(kRunSpan, 0) + "-01";
  for (const auto& q : reqs) EXPECT_EQ(q.headers.at("traceparent"), expected);
  const auto calls = named(http.spans(), "trinity.provider_call");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0]["spanId"], provider_call_span_id(kRunSpan, 0));
  EXPECT_EQ(attr_json(calls[0], "gen_ai.request.model"), R"({"stringValue":"backup"})");
  EXPECT_EQ(attr_json(calls[0], "trinity.fallback_index"), R"({"intValue":"1"})");
  EXPECT_EQ(attr_json(calls[0], "trinity.endpoint_calls"), R"({"intValue":"2"})");
}

}  // namespace
}  // namespace trinity::coord::testing
