#include "core/curl_http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace trinity {

namespace {

struct Transfer {
  const CurlRequest* request;
  CurlResponse* response;
  CURL* curl;
};

size_t on_body(char* data, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * nmemb;
  if (!t->request->on_body) {
    t->response->body.append(data, n);
    return n;
  }
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  return t->request->on_body(status, data, n) ? n : 0;  // 0: libcurl aborts (write error)
}

size_t on_header(char* data, size_t size, size_t nmemb, void* user) {
  auto* headers = static_cast<std::vector<std::pair<std::string, std::string>>*>(user);
  std::string line(data, size * nmemb);
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
      value.pop_back();
    size_t a = value.find_first_not_of(' ');
    headers->emplace_back(name, a == std::string::npos ? "" : value.substr(a));
  } else if (line.rfind("HTTP/", 0) == 0) {
    headers->clear();  // a new response (after 100-continue or a redirect)
  }
  return size * nmemb;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* cancel = static_cast<const std::atomic<bool>*>(user);
  return (cancel && cancel->load()) ? 1 : 0;
}

bool is_loopback(const std::string& url) {
  for (const char* p : {"://127.0.0.1", "://localhost", "://[::1]"}) {
    size_t i = url.find(p);
    if (i != std::string::npos && i < 8) return true;
  }
  return false;
}

CurlFailure failure_of(CURLcode rc) {
  switch (rc) {
    case CURLE_OK:
      return CurlFailure::kNone;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
      return CurlFailure::kConnect;
    case CURLE_OPERATION_TIMEDOUT:
      return CurlFailure::kTimeout;
    case CURLE_ABORTED_BY_CALLBACK:
      return CurlFailure::kCancelled;
    default:
      return CurlFailure::kOther;
  }
}

// The request's method, body and transfer limits.
void set_transfer_options(CURL* curl, const CurlRequest& r) {
  curl_easy_setopt(curl, CURLOPT_URL, r.url.c_str());
  if (r.post) {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, r.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
  }
  if (!r.user_agent.empty()) curl_easy_setopt(curl, CURLOPT_USERAGENT, r.user_agent.c_str());
  if (!r.range.empty()) curl_easy_setopt(curl, CURLOPT_RANGE, r.range.c_str());
  if (r.follow_redirects) {
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
  }
  if (r.http_only) curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  if (r.no_proxy_for_loopback && is_loopback(r.url)) curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (r.timeout_ms > 0) curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout_ms));
  if (r.connect_timeout_ms > 0)
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(r.connect_timeout_ms));
  if (r.low_speed_time_s > 0) {
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(r.low_speed_bytes_per_s));
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(r.low_speed_time_s));
  }
  if (r.cancel) {
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(r.cancel));
  }
}

}  // namespace

CurlResponse curl_perform(const CurlRequest& request) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CurlResponse resp;
  CURL* curl = curl_easy_init();
  if (!curl) {
    resp.failure = CurlFailure::kInit;
    resp.error = "curl_easy_init failed";
    return resp;
  }
  struct curl_slist* list = nullptr;
  for (const std::string& h : request.headers) list = curl_slist_append(list, h.c_str());
  if (request.post) list = curl_slist_append(list, "Expect:");
  char errbuf[CURL_ERROR_SIZE] = {0};
  Transfer transfer{&request, &resp, curl};
  set_transfer_options(curl, request);
  if (list) curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &resp.headers);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  const CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp.status);
  resp.failure = failure_of(rc);
  if (rc != CURLE_OK) {
    resp.error = curl_easy_strerror(rc);
    resp.detail = errbuf;
  }
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return resp;
}

std::time_t parse_http_date(const std::string& text) {
  return curl_getdate(text.c_str(), nullptr);
}

std::string curl_version_text() {
  return curl_version();
}

}  // namespace trinity
