// Shared pieces of the server tests: libcurl HTTP helpers, a deterministic transcript-driven
// router, controllable providers, and an in-process server on an ephemeral loopback port.
#pragma once

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "coord/orchestrator.h"
#include "coord/prompts.h"
#include "router/mock_tiny.h"
#include "server/server.h"

namespace trinity::server::testing {

using nlohmann::json;

struct HttpResult {
  CURLcode rc = CURLE_OK;
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  json js() const { return json::parse(body, nullptr, false); }
};

struct HttpOptions {
  std::vector<std::string> headers;
  long timeout_ms = 20000;
  // Streaming: called with every received piece; return false to abort the transfer.
  std::function<bool(const std::string&)> on_data;
};

inline size_t curl_write(char* ptr, size_t size, size_t n, void* ud) {
  auto* p = static_cast<std::pair<HttpResult*, const HttpOptions*>*>(ud);
  std::string piece(ptr, size * n);
  p->first->body += piece;
  if (p->second->on_data && !p->second->on_data(piece)) return 0;  // abort
  return size * n;
}

inline size_t curl_header(char* ptr, size_t size, size_t n, void* ud) {
  auto* r = static_cast<HttpResult*>(ud);
  std::string line(ptr, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    r->headers[name] = value;
  }
  return size * n;
}

// One HTTP request with libcurl (GET when body is null).
inline HttpResult http(const std::string& method, const std::string& url,
                       const std::string* body = nullptr, const HttpOptions& opt = {}) {
  HttpResult r;
  CURL* c = curl_easy_init();
  std::pair<HttpResult*, const HttpOptions*> ud{&r, &opt};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &ud);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, curl_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, opt.timeout_ms);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  struct curl_slist* hs = nullptr;
  for (const auto& h : opt.headers) hs = curl_slist_append(hs, h.c_str());
  if (body) {
    hs = curl_slist_append(hs, "Content-Type: application/json");
    hs = curl_slist_append(hs, "Expect:");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  }
  if (hs) curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
  r.rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(hs);
  curl_easy_cleanup(c);
  return r;
}

inline HttpResult get(const std::string& url, const HttpOptions& opt = {}) {
  return http("GET", url, nullptr, opt);
}
inline HttpResult post(const std::string& url, const std::string& body,
                       const HttpOptions& opt = {}) {
  return http("POST", url, &body, opt);
}

// The blocks of an SSE body (the text between blank lines), in order, comments included; an
// unterminated last block is left out.
inline std::vector<std::string> sse_blocks(const std::string& body) {
  std::vector<std::string> out;
  size_t pos = 0;
  for (size_t end; (end = body.find("\n\n", pos)) != std::string::npos; pos = end + 2)
    out.push_back(body.substr(pos, end - pos));
  return out;
}

// The "data: ..." payloads of an SSE body, in order (comments skipped).
inline std::vector<std::string> sse_data(const std::string& body) {
  std::vector<std::string> out;
  for (const std::string& ev : sse_blocks(body))
    if (ev.rfind("data: ", 0) == 0) out.push_back(ev.substr(6));
  return out;
}

// Deterministic router: Worker while the transcript has no assistant reply, then Verifier
// (or always Verifier with verifier_first). Margins are high (direct dispatch). Counts calls
// and records the sizes of route_batch calls.
class TurnRouter final : public Router {
 public:
  explicit TurnRouter(bool verifier_first = false, int batch_delay_ms = 0)
      : verifier_first_(verifier_first), batch_delay_ms_(batch_delay_ms) {}
  Result<RouteDecision> route(const std::vector<Message>& messages) const override {
    int replies = 0;
    for (const auto& m : messages) replies += m.role == "assistant" ? 1 : 0;
    std::array<float, kNumAgents> a{};
    std::array<float, kNumRoles> r{};
    a[static_cast<size_t>(messages.size() % kNumAgents)] = 2.0f;
    r[static_cast<size_t>(verifier_first_ || replies > 0 ? kRoleVerifier : kRoleWorker)] = 8.0f;
    TRINITY_ASSIGN_OR_RETURN(RouteDecision d, make_route_decision(messages, a, r));
    d.token_count = whitespace_word_count(build_transcript(messages));
    d.profile = "turn_router";
    return d;
  }
  Result<std::vector<RouteDecision>> route_batch(
      const std::vector<std::vector<Message>>& batch) const override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      batch_sizes_.push_back(batch.size());
    }
    if (batch_delay_ms_ > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(batch_delay_ms_));
    return Router::route_batch(batch);
  }
  std::string profile() const override { return "turn_router"; }
  std::vector<size_t> batch_sizes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return batch_sizes_;
  }

 private:
  bool verifier_first_;
  int batch_delay_ms_;
  mutable std::mutex mu_;
  mutable std::vector<size_t> batch_sizes_;
};

// A provider that answers like the mock after `delay_ms`, or blocks until cancelled when
// delay_ms < 0; records whether it saw the cancel flag.
class SlowProvider final : public coord::Provider {
 public:
  explicit SlowProvider(int delay_ms) : Provider(make_spec()), delay_ms_(delay_ms) {}
  static coord::ProviderSpec make_spec() {
    coord::ProviderSpec s;
    s.provider = "mock";
    s.model = "slow-mock";
    return s;
  }
  Result<coord::ChatReply> chat(const coord::ChatRequest& request,
                                const coord::CallContext& ctx) override {
    started.fetch_add(1);
    const auto t0 = std::chrono::steady_clock::now();
    for (;;) {
      if (ctx.cancel && ctx.cancel->load()) {
        saw_cancel = true;
        return Status(ErrorCode::kCancelled, "run cancelled");
      }
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - t0)
                          .count();
      if (delay_ms_ >= 0 && ms >= delay_ms_) break;
      if (ms > 30000) return Status(ErrorCode::kProvider, "SlowProvider: never cancelled");
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    coord::ChatReply r;
    r.text = request.role_id == kRoleVerifier ? "ACCEPT: fine" : "Worker answer: slow 42";
    r.input_tokens = 10;
    r.output_tokens = 3;
    return r;
  }
  std::atomic<int> started{0};
  std::atomic<bool> saw_cancel{false};

 private:
  int delay_ms_;
};

// A provider that answers each role with a fixed text, at once.
class TextProvider final : public coord::Provider {
 public:
  TextProvider(std::string worker, std::string verifier)
      : Provider(SlowProvider::make_spec()),
        worker_(std::move(worker)),
        verifier_(std::move(verifier)) {}
  Result<coord::ChatReply> chat(const coord::ChatRequest& request,
                                const coord::CallContext&) override {
    coord::ChatReply r;
    r.text = request.role_id == kRoleVerifier ? verifier_ : worker_;
    r.input_tokens = 10;
    r.output_tokens = 3;
    return r;
  }

 private:
  std::string worker_, verifier_;
};

// Every slot answered by `p`; `secrets` are the pool's key values.
inline std::shared_ptr<const PoolProvider> fixed_pools(std::shared_ptr<coord::Provider> p,
                                                       std::vector<std::string> secrets = {}) {
  std::array<std::shared_ptr<coord::Provider>, kNumAgents> providers;
  for (auto& slot : providers) slot = p;
  return PoolProvider::fixed(coord::AgentPool::from_providers(
      providers, coord::default_role_prompts(), std::move(secrets)));
}

inline std::shared_ptr<const PoolProvider> mock_pools() {
  auto p = PoolProvider::create(coord::builtin_mock_pool(), false, coord::process_env());
  EXPECT_TRUE(p.ok()) << p.status().message();
  return *p;
}

inline std::shared_ptr<const PoolProvider> slow_pools(std::shared_ptr<SlowProvider> p) {
  std::array<std::shared_ptr<coord::Provider>, kNumAgents> providers;
  for (auto& slot : providers) slot = p;
  return PoolProvider::fixed(
      coord::AgentPool::from_providers(providers, coord::default_role_prompts()));
}

inline ServerConfig test_config() {
  ServerConfig c;
  c.port = 0;
  c.access_log = false;
  c.max_concurrency = 32;
  c.http_threads = 48;
  return c;
}

// An in-process server on 127.0.0.1:<ephemeral>.
struct TestServer {
  std::unique_ptr<Server> server;
  std::string base;
  TestServer(ServerConfig cfg, std::shared_ptr<const Router> router,
             std::shared_ptr<const PoolProvider> pools) {
    std::signal(SIGPIPE, SIG_IGN);
    auto s = Server::create(std::move(cfg), std::move(router), std::move(pools));
    if (!s.ok()) {
      ADD_FAILURE() << s.status().message();
      return;
    }
    server = std::move(s).value();
    Status st = server->start();
    EXPECT_TRUE(st.ok()) << st.message();
    base = server->url();
  }
  std::string url(const std::string& path) const { return base + path; }
};

inline std::string chat_body(const std::string& content, bool stream = false,
                             const json& extra = json::object()) {
  json b = {{"model", "trinity"},
            {"messages", json::array({{{"role", "user"}, {"content", content}}})},
            {"stream", stream}};
  for (auto it = extra.begin(); it != extra.end(); ++it) b[it.key()] = it.value();
  return b.dump();
}

}  // namespace trinity::server::testing
