// Minimal HTTP client interface for providers, so tests can swap transports; the production
// implementation uses libcurl through core/curl_http.h (one easy handle per request: safe from
// many threads).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace trinity::coord {

struct HttpRequest {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int64_t timeout_ms = 60000;  // whole transfer
  const std::atomic<bool>* cancel = nullptr;
};

enum class TransportError { kNone, kConnect, kTimeout, kCancelled, kOther };
const char* transport_error_name(TransportError e);

struct HttpResponse {
  TransportError error = TransportError::kNone;
  std::string error_message;  // transport failure detail (never contains request headers)
  long status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  const std::string* header(const std::string& lower_name) const;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual HttpResponse post(const HttpRequest& request) = 0;
};

// libcurl-backed client. Loopback URLs bypass any configured proxy.
class CurlHttpClient final : public HttpClient {
 public:
  CurlHttpClient();
  HttpResponse post(const HttpRequest& request) override;
};

// Shared process-wide instance.
HttpClient& default_http_client();

}  // namespace trinity::coord
