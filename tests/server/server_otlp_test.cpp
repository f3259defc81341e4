// OpenTelemetry end to end: `serve` with an OTLP endpoint, runs against a fake OpenAI upstream,
// spans received by a small collector (tests/server/otlp_collector.h) that checks the OTLP JSON.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>

#include "coord/fake_llm_server.h"
#include "core/trace_context.h"
#include "server/otlp_collector.h"
#include "server/server_test_util.h"

namespace trinity::server::testing {
namespace {

using trinity::testing::FakeLlmServer;
using trinity::testing::TestCollector;

constexpr const char* kTraceId = "0af7651916cd43dd8448eb211c80319c";
constexpr const char* kCallerSpan = "b7ad6b7169203331";

// Every slot is an `openai` provider talking to `upstream`.
std::shared_ptr<const PoolProvider> upstream_pools(const FakeLlmServer& upstream) {
  coord::PoolConfig pool = coord::builtin_mock_pool();
  pool.name = "upstream";
  for (auto& s : pool.slots) {
    s.provider = "openai";
    s.model = "fake-model";
    s.base_url = upstream.base_url();
    s.api_key_env = "";
    s.timeout_ms = 5000;
    s.max_retries = 0;
  }
  auto p = PoolProvider::create(pool, /*allow_live=*/true, coord::process_env());
  EXPECT_TRUE(p.ok()) << p.status().message();
  return *p;
}

// A loopback port with nothing listening (bound, then released).
int closed_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  close(fd);
  return ntohs(a.sin_port);
}

ServerConfig otlp_config(const std::string& endpoint) {
  ServerConfig c = test_config();
  c.otlp_endpoint = endpoint;
  c.otlp_service_name = "trinity-test";
  return c;
}

std::string attr(const json& span, const std::string& key) {
  for (const auto& a : span["attributes"])
    if (a["key"] == key) {
      const json& v = a["value"];
      return v.begin().value().is_string() ? v.begin().value().get<std::string>()
                                           : v.begin().value().dump();
    }
  return "";
}

std::vector<json> named(const std::vector<json>& spans, const std::string& name) {
  std::vector<json> out;
  for (const auto& s : spans)
    if (s["name"] == name) out.push_back(s);
  return out;
}

// Checks one run's spans: a single trace, every parent present (or the caller's span), and
// run -> turn -> {route, provider_call}. Returns the provider_call span ids, in turn order.
std::vector<std::string> check_run_tree(const std::vector<json>& spans, const std::string& trace_id,
                                        const std::string& caller_span) {
  std::map<std::string, json> by_id;
  for (const auto& s : spans) {
    EXPECT_EQ(s["traceId"], trace_id) << s;
    by_id[s["spanId"].get<std::string>()] = s;
  }
  EXPECT_EQ(by_id.size(), spans.size()) << "span ids must be unique";
  const auto runs = named(spans, "trinity.run");
  if (runs.size() != 1) {
    ADD_FAILURE() << "expected one trinity.run span, got " << runs.size();
    return {};
  }
  const json& run = runs[0];
  EXPECT_EQ(run["kind"], 2);  // SERVER
  if (caller_span.empty()) {
    EXPECT_FALSE(run.contains("parentSpanId")) << run;
  } else {
    EXPECT_EQ(run.value("parentSpanId", ""), caller_span);
  }
  for (const auto& s : spans) {
    if (s["name"] == "trinity.run") continue;
    const std::string parent = s.value("parentSpanId", "");
    if (!by_id.count(parent)) {
      ADD_FAILURE() << "orphan span " << s;
      continue;
    }
    const std::string pname = by_id[parent]["name"];
    if (s["name"] == "trinity.turn") {
      EXPECT_EQ(pname, "trinity.run");
      EXPECT_EQ(s["kind"], 1);
    } else if (s["name"] == "trinity.route") {
      EXPECT_EQ(pname, "trinity.turn");
      EXPECT_EQ(s["kind"], 1);
    } else if (s["name"] == "trinity.provider_call") {
      EXPECT_EQ(pname, "trinity.turn");
      EXPECT_EQ(s["kind"], 3);  // CLIENT
    } else {
      ADD_FAILURE() << "unexpected span " << s["name"];
    }
  }
  const auto turns = named(spans, "trinity.turn");
  std::vector<std::string> calls;
  for (const auto& t : turns) {
    int routes = 0, n_calls = 0;
    for (const auto& s : spans) {
      if (s.value("parentSpanId", "") != t["spanId"]) continue;
      routes += s["name"] == "trinity.route" ? 1 : 0;
      if (s["name"] == "trinity.provider_call") {
        ++n_calls;
        calls.push_back(s["spanId"]);
      }
    }
    EXPECT_EQ(routes, 1) << t;
    EXPECT_EQ(n_calls, 1) << t;
  }
  return calls;
}

// The traceparent each upstream request carried, parsed.
std::vector<TraceContext> upstream_contexts(FakeLlmServer& upstream) {
  std::vector<TraceContext> out;
  for (const auto& r : upstream.requests()) {
    auto it = r.headers.find("traceparent");
    if (it == r.headers.end()) {
      ADD_FAILURE() << "an upstream request without traceparent";
      continue;
    }
    auto c = parse_traceparent(it->second);
    EXPECT_TRUE(c.has_value()) << it->second;
    if (c) out.push_back(*c);
  }
  return out;
}

TEST(ServerOtlp, SpansContinueTheCallersTraceAndReachTheUpstream) {
  TestCollector collector;
  FakeLlmServer upstream;
  TestServer ts(otlp_config(collector.url()), std::make_shared<TurnRouter>(),
                upstream_pools(upstream));
  HttpOptions opt;
  opt.headers = {std::string("traceparent: 00-") + kTraceId + "-" + kCallerSpan + "-01",
                 "tracestate: congo=t61rcWkgMzE"};
  HttpResult r = post(ts.url("/v1/chat/completions"), chat_body("What is 6 * 7?"), opt);
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string run_id = r.js()["trinity"]["run_id"];
  ts.server->shutdown();  // flushes the exporter

  EXPECT_TRUE(collector.errors().empty()) << collector.errors()[0];
  const auto spans = collector.spans();
  ASSERT_EQ(spans.size(), 7u);  // run + 2 x (turn, route, provider_call)
  const auto calls = check_run_tree(spans, kTraceId, kCallerSpan);
  ASSERT_EQ(calls.size(), 2u);

  // The upstream saw the same trace, each call parented by its provider_call span.
  const auto sent = upstream_contexts(upstream);
  ASSERT_EQ(sent.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(sent[i].trace_id, kTraceId);
    EXPECT_EQ(sent[i].span_id, calls[i]);
    EXPECT_TRUE(sent[i].sampled());
  }
  for (const auto& req : upstream.requests())
    EXPECT_EQ(req.headers.at("tracestate"), "congo=t61rcWkgMzE");

  const json run = named(spans, "trinity.run")[0];
  EXPECT_EQ(attr(run, "trinity.run_id"), run_id);
  EXPECT_EQ(attr(run, "trinity.status"), "accepted");
  EXPECT_EQ(attr(run, "trinity.pool"), "upstream");
  EXPECT_EQ(attr(run, "http.route"), "/v1/chat/completions");
  EXPECT_EQ(attr(run, "gen_ai.usage.input_tokens"), "200");  // 2 calls x 100
  const json call = named(spans, "trinity.provider_call")[0];
  EXPECT_EQ(attr(call, "gen_ai.system"), "openai");
  EXPECT_EQ(attr(call, "gen_ai.request.model"), "fake-model");
  EXPECT_EQ(attr(call, "gen_ai.usage.output_tokens"), "20");
  EXPECT_EQ(attr(call, "http.response.status_code"), "200");
  const json turn = named(spans, "trinity.turn")[0];
  EXPECT_EQ(attr(turn, "trinity.role"), "Worker");
  EXPECT_NE(attr(turn, "trinity.agent_margin"), "");
  bool service = false;
  const auto resources = collector.resources();
  for (const auto& kv : resources.at(0)["attributes"])
    service |= kv["key"] == "service.name" && kv["value"]["stringValue"] == "trinity-test";
  EXPECT_TRUE(service);

  const std::string metrics = ts.server->metrics().render();
  EXPECT_NE(metrics.find("trinity_otlp_spans_exported_total 7"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("trinity_otlp_export_failures_total 0"), std::string::npos);
}

TEST(ServerOtlp, StreamsWithoutTraceparentStartANewTrace) {
  TestCollector collector;
  FakeLlmServer upstream;
  TestServer ts(otlp_config(collector.url() + "/v1/traces"), std::make_shared<TurnRouter>(),
                upstream_pools(upstream));
  HttpResult s = post(ts.url("/v1/chat/completions"), chat_body("stream it", true));
  ASSERT_EQ(s.status, 200);
  HttpOptions bad;  // an invalid traceparent is ignored: a new trace as well
  bad.headers = {"traceparent: 00-" + std::string(32, '0') + "-" + kCallerSpan + "-01"};
  ASSERT_EQ(post(ts.url("/v1/chat/completions"), chat_body("again"), bad).status, 200);
  ts.server->shutdown();

  EXPECT_TRUE(collector.errors().empty()) << collector.errors()[0];
  const auto spans = collector.spans();
  ASSERT_EQ(spans.size(), 14u);
  std::map<std::string, std::vector<json>> traces;
  for (const auto& sp : spans) traces[sp["traceId"].get<std::string>()].push_back(sp);
  ASSERT_EQ(traces.size(), 2u);  // one fresh trace per run
  const auto sent = upstream_contexts(upstream);
  ASSERT_EQ(sent.size(), 4u);
  std::set<std::string> call_ids;
  for (const auto& [trace_id, run_spans] : traces) {
    for (const auto& id : check_run_tree(run_spans, trace_id, "")) call_ids.insert(trace_id + id);
  }
  for (const auto& c : sent) EXPECT_EQ(call_ids.count(c.trace_id + c.span_id), 1u);
}

TEST(ServerOtlp, TheResponsesEndpointIsTracedTheSameWay) {
  TestCollector collector;
  FakeLlmServer upstream;
  TestServer ts(otlp_config(collector.url()), std::make_shared<TurnRouter>(),
                upstream_pools(upstream));
  HttpOptions opt;
  opt.headers = {std::string("traceparent: 00-") + kTraceId + "-" + kCallerSpan + "-01"};
  const json body = {{"model", "trinity"}, {"input", "What is 6 * 7?"}};
  ASSERT_EQ(post(ts.url("/v1/responses"), body.dump(), opt).status, 200);
  ts.server->shutdown();
  EXPECT_TRUE(collector.errors().empty()) << collector.errors()[0];
  const auto spans = collector.spans();
  const auto calls = check_run_tree(spans, kTraceId, kCallerSpan);
  const auto sent = upstream_contexts(upstream);
  ASSERT_EQ(sent.size(), calls.size());
  for (size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(sent[i].span_id, calls[i]);
  EXPECT_EQ(attr(named(spans, "trinity.run").at(0), "http.route"), "/v1/responses");
}

TEST(ServerOtlp, ADownCollectorCostsOnlyACounter) {
  FakeLlmServer upstream;
  TestServer ts(otlp_config("http://127.0.0.1:" + std::to_string(closed_port())),
                std::make_shared<TurnRouter>(), upstream_pools(upstream));
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(post(ts.url("/v1/chat/completions"), chat_body("q" + std::to_string(i))).status, 200);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(s, 3.0);
  EXPECT_EQ(upstream_contexts(upstream).size(), 10u);  // propagation does not need a collector
  ts.server->shutdown();
  const std::string m = ts.server->metrics().render();
  EXPECT_EQ(m.find("trinity_otlp_export_failures_total 0"), std::string::npos) << m;
  EXPECT_NE(m.find("trinity_otlp_export_failures_total"), std::string::npos) << m;
  EXPECT_NE(m.find("trinity_otlp_spans_exported_total 0"), std::string::npos) << m;
}

TEST(ServerOtlp, AStuckCollectorDoesNotSlowRequests) {
  TestCollector collector(/*delay_ms=*/2500);  // past the exporter's 2 s timeout
  FakeLlmServer upstream;
  TestServer ts(otlp_config(collector.url()), std::make_shared<TurnRouter>(),
                upstream_pools(upstream));
  ASSERT_EQ(post(ts.url("/v1/chat/completions"), chat_body("first")).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // an export is now in flight
  for (int i = 0; i < 3; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(post(ts.url("/v1/chat/completions"), chat_body("q" + std::to_string(i))).status, 200);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_LT(s, 0.5);
  }
  const auto t0 = std::chrono::steady_clock::now();
  ts.server->shutdown();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(s, 5.0);  // the exporter's shutdown deadline (3 s) bounds it
}

TEST(ServerOtlp, WithoutAnEndpointNothingChanges) {
  FakeLlmServer upstream;
  TestServer ts(test_config(), std::make_shared<TurnRouter>(), upstream_pools(upstream));
  HttpOptions opt;
  opt.headers = {std::string("traceparent: 00-") + kTraceId + "-" + kCallerSpan + "-01"};
  ASSERT_EQ(post(ts.url("/v1/chat/completions"), chat_body("plain"), opt).status, 200);
  for (const auto& r : upstream.requests()) EXPECT_EQ(r.headers.count("traceparent"), 0u);
  EXPECT_EQ(get(ts.url("/metrics")).body.find("trinity_otlp"), std::string::npos);
}

TEST(ServerOtlp, EndpointIsValidated) {
  ServerConfig c = test_config();
  c.otlp_endpoint = "localhost:4318";
  EXPECT_FALSE(validate_config(c).ok());
  c.otlp_endpoint = "http://localhost:4318";
  EXPECT_TRUE(validate_config(c).ok());
  c.otlp_service_name = "";
  EXPECT_FALSE(validate_config(c).ok());
}

}  // namespace
}  // namespace trinity::server::testing
