// The server layer against hostile clients, over raw loopback sockets: smuggled bodies,
// pipelining, head and body limits, the head deadline, the connection cap, and shutdown with a
// trickling client. scripts/hostile_http.sh runs the same probes at full scale against the CLI.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "server/server_test_util.h"

namespace trinity::server::testing {
namespace {

// A raw client connection that reads whole responses (Content-Length framing).
class RawConn {
 public:
  explicit RawConn(int port, int timeout_ms = 5000) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  }
  ~RawConn() { ::close(fd_); }
  bool connected() const { return connected_; }
  bool send(const std::string& s) {
    return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }
  // The next response's status and body; status 0 when the connection ends or times out first.
  std::pair<int, std::string> response() {
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) return {0, ""};
    const std::string head = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    size_t length = 0;
    const size_t cl = head.find("Content-Length: ");
    if (cl != std::string::npos) length = std::stoul(head.substr(cl + 16));
    while (buf_.size() < length)
      if (!fill()) return {0, ""};
    std::string body = buf_.substr(0, length);
    buf_.erase(0, length);
    last_head_ = head;
    return {std::stoi(head.substr(9, 3)), body};
  }
  const std::string& last_head() const { return last_head_; }
  // True when nothing more arrives within the receive timeout (or the server closed).
  bool quiet() { return buf_.empty() && !fill(); }

 private:
  bool fill() {
    char b[65536];
    const ssize_t n = ::recv(fd_, b, sizeof(b), 0);
    if (n <= 0) return false;
    buf_.append(b, static_cast<size_t>(n));
    return true;
  }
  int fd_ = -1;
  bool connected_ = false;
  std::string buf_, last_head_;
};

int port_of(const TestServer& ts) {
  return ts.server->port();
}

std::string request(const std::string& method, const std::string& path,
                    const std::string& body = "", const std::string& extra = "") {
  std::string r = method + " " + path + " HTTP/1.1\r\nHost: t\r\n" + extra;
  if (!body.empty()) r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return r + "\r\n" + body;
}

ServerConfig hostile_config() {
  ServerConfig cfg = test_config();
  cfg.api_key = "key-1";
  return cfg;
}

TEST(ServerHostile, RejectedBodiesAreNeverParsedAsRequests) {
  TestServer ts(hostile_config(), std::make_shared<TurnRouter>(), mock_pools());
  const std::string smuggled = request("GET", "/healthz");
  RawConn c(port_of(ts), 1000);
  ASSERT_TRUE(c.connected());
  c.send(request("POST", "/v1/chat/completions", smuggled));
  EXPECT_EQ(c.response().first, 401);
  EXPECT_TRUE(c.quiet()) << "a second response came from the body";

  RawConn d(port_of(ts), 1000);
  d.send(request("POST", "/v1/route", std::string(20000, 'x')) +
         request("GET", "/v1/models", "", "Authorization: Bearer key-1\r\n"));
  EXPECT_EQ(d.response().first, 401);
  EXPECT_EQ(d.response().first, 200);

  RawConn e(port_of(ts), 1000);
  const std::string chunked = "22\r\n" + smuggled.substr(0, 34) + "\r\n0\r\n\r\n";
  e.send("POST /v1/route HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked +
         request("GET", "/healthz"));
  EXPECT_EQ(e.response().first, 401);
  EXPECT_EQ(e.response().first, 200);
  EXPECT_TRUE(e.quiet());
}

TEST(ServerHostile, PipelinedRequestsAreAnsweredInOrder) {
  TestServer ts(test_config(), std::make_shared<TurnRouter>(), mock_pools());
  RawConn c(port_of(ts));
  const std::string route = R"([{"role":"user","content":"pipelined"}])";
  c.send(request("GET", "/healthz") + request("POST", "/v1/route", route) +
         request("GET", "/nope") + request("PUT", "/v1/route") + request("GET", "/v1/models"));
  std::vector<int> got;
  for (int i = 0; i < 5; ++i) got.push_back(c.response().first);
  EXPECT_EQ(got, (std::vector<int>{200, 200, 404, 405, 200}));
}

TEST(ServerHostile, LimitsAnswerTheirStatus) {
  ServerConfig cfg = test_config();
  cfg.max_body_bytes = 4096;
  TestServer ts(cfg, std::make_shared<TurnRouter>(), mock_pools());
  std::string chunked;
  for (int i = 0; i < 5; ++i) chunked += "400\r\n" + std::string(1024, 'a') + "\r\n";
  RawConn a(port_of(ts));
  a.send("POST /v1/route HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked);
  EXPECT_EQ(a.response().first, 413);
  RawConn b(port_of(ts));
  b.send(request("POST", "/v1/route", "{}", "Content-Encoding: gzip\r\n"));
  EXPECT_EQ(b.response().first, 415);
  RawConn c(port_of(ts));
  std::string lines;
  for (int i = 0; i < 20; ++i)
    lines += "X-" + std::to_string(i) + ": " + std::string(4000, 'h') + "\r\n";
  c.send("GET /healthz HTTP/1.1\r\nHost: t\r\n" + lines + "\r\n");
  EXPECT_EQ(c.response().first, 431);
  EXPECT_NE(c.last_head().find("Connection: close"), std::string::npos);
  RawConn d(port_of(ts));
  d.send(request("GET", "/healthz", "", "X-Nul: a" + std::string(1, '\0') + "b\r\n"));
  EXPECT_EQ(d.response().first, 400);
  RawConn e(port_of(ts));
  e.send(request("POST", "/v1/route", R"([{"role":"user","content":"a\u0000b"}])"));
  EXPECT_EQ(e.response().first, 200);  // an escaped NUL is JSON; a raw one is not:
  RawConn f(port_of(ts));
  f.send(
      request("POST", "/v1/route", std::string("[{\"role\":\"user\",\"content\":\"a\0b\"}]", 33)));
  EXPECT_EQ(f.response().first, 400);
}

TEST(ServerHostile, JsonBoundsRefuseHugeDocumentsBeforeTheyAreBuilt) {
  ServerConfig cfg = test_config();
  cfg.json_bounds.max_values = 1000;
  TestServer ts(cfg, std::make_shared<TurnRouter>(), mock_pools());
  std::string many = "[";
  for (int i = 0; i < 2000; ++i) many += i ? ",{}" : "{}";
  many += "]";
  HttpResult r = post(ts.url("/v1/route"), many);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("more than 1000 JSON values"), std::string::npos) << r.body;
}

TEST(ServerHostile, TricklingHeadsGet408AtTheDeadlineAndHoldNoThread) {
  ServerConfig cfg = test_config();
  cfg.head_timeout_ms = 600;
  cfg.max_concurrency = 2;  // two workers + 4: trickles must not need any
  TestServer ts(cfg, std::make_shared<TurnRouter>(), mock_pools());
  std::vector<std::unique_ptr<RawConn>> trickles;
  for (int i = 0; i < 20; ++i) {
    trickles.push_back(std::make_unique<RawConn>(port_of(ts), 3000));
    trickles.back()->send("GET /healthz HTTP/1.1\r\n");
  }
  for (int i = 0; i < 4; ++i) {
    for (auto& t : trickles) t->send("X");
    EXPECT_EQ(get(ts.url("/healthz"), {{}, 1000, nullptr}).status, 200);
    EXPECT_EQ(post(ts.url("/v1/route"), R"([{"role":"user","content":"x"}])").status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (auto& t : trickles) EXPECT_EQ(t->response().first, 408);
}

TEST(ServerHostile, ConnectionsOverTheCapGet503AtOnce) {
  ServerConfig cfg = test_config();
  cfg.max_connections = 4;
  TestServer ts(cfg, std::make_shared<TurnRouter>(), mock_pools());
  std::vector<std::unique_ptr<RawConn>> held;
  for (int i = 0; i < 4; ++i) held.push_back(std::make_unique<RawConn>(port_of(ts)));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  RawConn over(port_of(ts), 1000);
  EXPECT_EQ(over.response().first, 503);
  held.clear();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(get(ts.url("/healthz")).status, 200);
}

TEST(ServerHostile, ShutdownClosesTricklingConnections) {
  ServerConfig cfg = test_config();
  cfg.drain_timeout_ms = 200;
  TestServer ts(cfg, std::make_shared<TurnRouter>(), mock_pools());
  RawConn t(port_of(ts), 3000);
  t.send("GET /healthz HTTP/1.1\r\nHost: t\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto t0 = std::chrono::steady_clock::now();
  ts.server->shutdown();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(s, 2.0);  // correctness, not speed: before, shutdown waited on the client forever
  EXPECT_EQ(t.response().first, 0);  // closed
}

TEST(ServerHostile, EarlyRejectsAreTimedFromTheirOwnHead) {
  TestServer ts(hostile_config(), std::make_shared<TurnRouter>(), mock_pools());
  for (int i = 0; i < 5; ++i) {
    RawConn c(port_of(ts));
    c.send(request("POST", "/v1/chat/completions", "{}"));
    EXPECT_EQ(c.response().first, 401);
  }
  const std::string m = get(ts.url("/metrics")).body;
  EXPECT_NE(m.find("trinity_http_requests_total{endpoint=\"chat_completions\",status=\"401\"} 5"),
            std::string::npos)
      << m;
  const size_t at =
      m.find("trinity_http_request_duration_seconds_sum{endpoint=\"chat_completions\"}");
  ASSERT_NE(at, std::string::npos);
  EXPECT_LT(std::stod(m.substr(m.find(' ', at) + 1)), 1.0);
}

}  // namespace
}  // namespace trinity::server::testing
