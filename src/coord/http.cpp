#include "coord/http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace trinity::coord {
namespace {

size_t write_body(char* data, size_t size, size_t nmemb, void* user) {
  static_cast<std::string*>(user)->append(data, size * nmemb);
  return size * nmemb;
}

size_t write_header(char* data, size_t size, size_t nmemb, void* user) {
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

int progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
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

CurlHttpClient::CurlHttpClient() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

HttpResponse CurlHttpClient::post(const HttpRequest& request) {
  HttpResponse resp;
  CURL* curl = curl_easy_init();
  if (!curl) {
    resp.error = TransportError::kOther;
    resp.error_message = "curl_easy_init failed";
    return resp;
  }
  struct curl_slist* list = nullptr;
  for (const auto& [k, v] : request.headers) list = curl_slist_append(list, (k + ": " + v).c_str());
  list = curl_slist_append(list, "Expect:");
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, write_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &resp.headers);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(std::max<int64_t>(1, request.timeout_ms)));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::clamp<int64_t>(request.timeout_ms, 1, 30000)));
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(request.cancel));
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  if (is_loopback(request.url)) curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp.status);
  } else {
    switch (rc) {
      case CURLE_COULDNT_CONNECT:
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_RESOLVE_PROXY:
      case CURLE_SEND_ERROR:
      case CURLE_RECV_ERROR:
      case CURLE_GOT_NOTHING:
        resp.error = TransportError::kConnect;
        break;
      case CURLE_OPERATION_TIMEDOUT:
        resp.error = TransportError::kTimeout;
        break;
      case CURLE_ABORTED_BY_CALLBACK:
        resp.error = TransportError::kCancelled;
        break;
      default:
        resp.error = TransportError::kOther;
        break;
    }
    resp.error_message = errbuf[0] ? errbuf : curl_easy_strerror(rc);
  }
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return resp;
}

HttpClient& default_http_client() {
  static CurlHttpClient client;
  return client;
}

}  // namespace trinity::coord
