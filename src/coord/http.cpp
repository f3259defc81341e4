#include "coord/http.h"

#include <algorithm>

#include "core/curl_http.h"

namespace trinity::coord {

namespace {

TransportError transport_error_of(CurlFailure f) {
  switch (f) {
    case CurlFailure::kNone:
      return TransportError::kNone;
    case CurlFailure::kConnect:
      return TransportError::kConnect;
    case CurlFailure::kTimeout:
      return TransportError::kTimeout;
    case CurlFailure::kCancelled:
      return TransportError::kCancelled;
    case CurlFailure::kInit:
    case CurlFailure::kOther:
      return TransportError::kOther;
  }
  return TransportError::kOther;
}

}  // namespace

const char* transport_error_name(TransportError e) {
  switch (e) {
    case TransportError::kNone:
      return "none";
    case TransportError::kConnect:
      return "connect";
    case TransportError::kTimeout:
      return "timeout";
    case TransportError::kCancelled:
      return "cancelled";
    case TransportError::kOther:
      return "transport";
  }
  return "transport";
}

const std::string* HttpResponse::header(const std::string& lower_name) const {
  for (const auto& [k, v] : headers)
    if (k == lower_name) return &v;
  return nullptr;
}

CurlHttpClient::CurlHttpClient() = default;

HttpResponse CurlHttpClient::post(const HttpRequest& request) {
  CurlRequest r;
  r.url = request.url;
  r.post = true;
  r.body = request.body;
  for (const auto& [k, v] : request.headers) r.headers.push_back(k + ": " + v);
  r.timeout_ms = std::max<int64_t>(1, request.timeout_ms);
  r.connect_timeout_ms = std::clamp<int64_t>(request.timeout_ms, 1, 30000);
  r.cancel = request.cancel;
  r.http_only = true;
  r.no_proxy_for_loopback = true;
  CurlResponse c = curl_perform(r);
  HttpResponse resp;
  resp.error = transport_error_of(c.failure);
  if (c.ok())
    resp.status = c.status;
  else
    resp.error_message = c.message();
  resp.body = std::move(c.body);
  resp.headers = std::move(c.headers);
  return resp;
}

HttpClient& default_http_client() {
  static CurlHttpClient client;
  return client;
}

}  // namespace trinity::coord
