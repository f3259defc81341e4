// The libcurl wrapper against a local cpp-httplib server (127.0.0.1; no internet): POST with
// headers, GET with Range into a sink, header parsing, transport failures and HTTP dates.
#include "core/curl_http.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <thread>

namespace trinity {
namespace {

struct LocalServer {
  httplib::Server srv;
  std::thread th;
  int port = 0;

  LocalServer() {
    srv.Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.set_header("X-Echo-Token", req.get_header_value("X-Token"));
      res.status = 201;
      res.set_content("got:" + req.body, "text/plain");
    });
    srv.Get("/file", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("0123456789", "application/octet-stream");  // httplib serves Range
    });
    srv.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      res.set_content("late", "text/plain");
    });
    port = srv.bind_to_any_port("127.0.0.1");
    th = std::thread([this] { srv.listen_after_bind(); });
    while (!srv.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~LocalServer() {
    srv.stop();
    th.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }
};

const std::string* find_header(const CurlResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return &v;
  return nullptr;
}

TEST(CurlHttp, PostsBodyAndHeadersAndCollectsTheResponse) {
  LocalServer s;
  CurlRequest r;
  r.url = s.url("/echo");
  r.post = true;
  const std::string body = "hello";
  r.body = body;
  r.headers = {"X-Token: abc"};
  r.timeout_ms = 5000;
  r.http_only = true;
  r.no_proxy_for_loopback = true;
  const CurlResponse resp = curl_perform(r);
  ASSERT_TRUE(resp.ok()) << resp.message();
  EXPECT_EQ(resp.status, 201);
  EXPECT_EQ(resp.body, "got:hello");
  const std::string* echo = find_header(resp, "x-echo-token");  // names lower-cased
  ASSERT_NE(echo, nullptr);
  EXPECT_EQ(*echo, "abc");
}

TEST(CurlHttp, GetWithRangeStreamsIntoTheSink) {
  LocalServer s;
  CurlRequest r;
  r.url = s.url("/file");
  r.range = "4-";
  r.no_proxy_for_loopback = true;
  std::string got;
  long first_status = 0;
  r.on_body = [&](long status, const char* data, size_t n) {
    if (!first_status) first_status = status;
    got.append(data, n);
    return true;
  };
  const CurlResponse resp = curl_perform(r);
  ASSERT_TRUE(resp.ok()) << resp.message();
  EXPECT_EQ(first_status, 206);
  EXPECT_EQ(resp.status, 206);
  EXPECT_EQ(got, "456789");
  EXPECT_TRUE(resp.body.empty());
}

TEST(CurlHttp, SinkCanAbortTheTransfer) {
  LocalServer s;
  CurlRequest r;
  r.url = s.url("/file");
  r.no_proxy_for_loopback = true;
  r.on_body = [](long, const char*, size_t) { return false; };
  const CurlResponse resp = curl_perform(r);
  EXPECT_EQ(resp.failure, CurlFailure::kOther);
  EXPECT_FALSE(resp.error.empty());
}

TEST(CurlHttp, ClassifiesTransportFailures) {
  LocalServer s;
  CurlRequest r;
  r.url = s.url("/slow");
  r.no_proxy_for_loopback = true;
  r.timeout_ms = 200;
  EXPECT_EQ(curl_perform(r).failure, CurlFailure::kTimeout);

  std::atomic<bool> cancel{true};
  r.timeout_ms = 5000;
  r.cancel = &cancel;
  const CurlResponse cancelled = curl_perform(r);
  EXPECT_EQ(cancelled.failure, CurlFailure::kCancelled);
  EXPECT_EQ(cancelled.status, 0);

  r.cancel = nullptr;
  r.url = "http://127.0.0.1:1/nothing-listens-here";
  const CurlResponse refused = curl_perform(r);
  EXPECT_EQ(refused.failure, CurlFailure::kConnect);
  EXPECT_FALSE(refused.message().empty());
}

TEST(CurlHttp, ParsesHttpDates) {
  EXPECT_EQ(parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT"), 1445412480);
  EXPECT_EQ(parse_http_date("not a date"), -1);
}

}  // namespace
}  // namespace trinity
