// The one libcurl wrapper: a blocking HTTP request on its own easy handle (safe from many
// threads). It serves coord's provider POSTs (headers, timeouts, cancellation) and adapt's
// artifact downloads (GET, redirects, Range resume, body streamed to a sink); no other file
// includes <curl/curl.h>.
#pragma once

#include <atomic>
#include <cstdint>
#include <ctime>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trinity {

struct CurlRequest {
  std::string url;
  bool post = false;                 // POST `body` (without "Expect: 100-continue"), else GET
  std::string_view body;             // must outlive the call
  std::vector<std::string> headers;  // "Name: value"
  std::string user_agent;            // empty: none
  std::string range;                 // "N-": resume from byte N; empty: whole body
  bool follow_redirects = false;     // up to 10 (libcurl forwards no auth to other hosts)
  bool http_only = false;            // refuse every protocol but http and https
  bool no_proxy_for_loopback = false;
  int64_t timeout_ms = 0;          // whole transfer; 0: none
  int64_t connect_timeout_ms = 0;  // 0: libcurl's default
  // Abort when fewer than low_speed_bytes_per_s arrive for low_speed_time_s (0: never).
  int64_t low_speed_bytes_per_s = 0, low_speed_time_s = 0;
  const std::atomic<bool>* cancel = nullptr;  // polled during the transfer
  // Receives the body with the response status at that point; returns false to abort.
  // Unset: the body is collected in CurlResponse::body.
  std::function<bool(long status, const char* data, size_t size)> on_body;
};

enum class CurlFailure { kNone, kInit, kConnect, kTimeout, kCancelled, kOther };

struct CurlResponse {
  CurlFailure failure = CurlFailure::kNone;
  std::string error;   // libcurl's name for the failure (curl_easy_strerror)
  std::string detail;  // libcurl's error buffer: more specific, may be empty
  long status = 0;     // the last response's HTTP status; 0 when none arrived
  std::string body;    // only without on_body
  std::vector<std::pair<std::string, std::string>> headers;  // last response, names lower-cased

  bool ok() const { return failure == CurlFailure::kNone; }
  // detail when present, else error.
  const std::string& message() const { return detail.empty() ? error : detail; }
};

CurlResponse curl_perform(const CurlRequest& request);

// libcurl's version string ("libcurl/7.88.1 OpenSSL/3.0.19 ..."), for `trinity env check`.
std::string curl_version_text();

// An HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT" and the other RFC forms) as Unix seconds, or -1.
std::time_t parse_http_date(const std::string& text);

}  // namespace trinity
