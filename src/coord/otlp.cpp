#include "coord/otlp.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace trinity::coord {
namespace {

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

OrderedJson any_value(const SpanAttribute::Value& v) {
  OrderedJson j = OrderedJson::object();
  if (const auto* s = std::get_if<std::string>(&v)) {
    j["stringValue"] = *s;
  } else if (const auto* i = std::get_if<int64_t>(&v)) {
    j["intValue"] = std::to_string(*i);  // int64 is a decimal string in OTLP JSON
  } else if (const auto* d = std::get_if<double>(&v)) {
    if (std::isfinite(*d)) {
      j["doubleValue"] = *d;
    } else {  // the protobuf JSON mapping's names for the non-finite values
      j["doubleValue"] = std::isnan(*d) ? "NaN" : *d > 0 ? "Infinity" : "-Infinity";
    }
  } else {
    j["boolValue"] = std::get<bool>(v);
  }
  return j;
}

OrderedJson attributes_json(const std::vector<SpanAttribute>& attrs) {
  OrderedJson a = OrderedJson::array();
  for (const auto& kv : attrs)
    a.push_back(OrderedJson{{"key", kv.key}, {"value", any_value(kv.value)}});
  return a;
}

std::vector<SpanAttribute> resource_of(const OtlpConfig& c) {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = 0;
  std::vector<SpanAttribute> r = {
      {"service.name", c.service_name},
      {"service.version", c.service_version},
      {"telemetry.sdk.name", std::string(kOtlpScopeName)},
      {"telemetry.sdk.language", std::string("cpp")},
      {"telemetry.sdk.version", std::string(kTrinityVersion)},
      {"process.pid", static_cast<int64_t>(getpid())},
  };
  if (host[0]) r.push_back({"host.name", std::string(host)});
  for (const auto& kv : c.resource_attributes) r.push_back(kv);
  return r;
}

}  // namespace

void Span::set(const std::string& key, SpanAttribute::Value value) {
  for (auto& kv : attributes) {
    if (kv.key == key) {
      kv.value = std::move(value);
      return;
    }
  }
  attributes.push_back({key, std::move(value)});
}

const SpanAttribute* Span::find(const std::string& key) const {
  for (const auto& kv : attributes)
    if (kv.key == key) return &kv;
  return nullptr;
}

std::string otlp_traces_url(const std::string& endpoint) {
  std::string url = endpoint;
  const std::string suffix = "/v1/traces";
  if (url.size() >= suffix.size() &&
      url.compare(url.size() - suffix.size(), suffix.size(), suffix) == 0)
    return url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url + suffix;
}

Status validate_otlp_endpoint(const std::string& endpoint) {
  size_t scheme = 0;
  if (endpoint.rfind("http://", 0) == 0) scheme = 7;
  if (endpoint.rfind("https://", 0) == 0) scheme = 8;
  if (scheme == 0)
    return invalid_argument("--otlp-endpoint must be an http:// or https:// URL (OTLP/HTTP)");
  const size_t host_end = endpoint.find_first_of("/?#", scheme);
  const std::string host = endpoint.substr(scheme, host_end - scheme);
  if (host.empty() || host.front() == ':')
    return invalid_argument("--otlp-endpoint: the URL has no host");
  for (char c : endpoint)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return invalid_argument("--otlp-endpoint: the URL contains a space or control character");
  return ok_status();
}

OrderedJson otlp_span_json(const Span& s) {
  OrderedJson j;
  j["traceId"] = s.trace_id;
  j["spanId"] = s.span_id;
  if (!s.parent_span_id.empty()) j["parentSpanId"] = s.parent_span_id;
  j["name"] = s.name;
  j["kind"] = static_cast<int>(s.kind);
  j["startTimeUnixNano"] = std::to_string(s.start_unix_nano);
  j["endTimeUnixNano"] = std::to_string(std::max(s.start_unix_nano, s.end_unix_nano));
  j["attributes"] = attributes_json(s.attributes);
  OrderedJson status;
  status["code"] = static_cast<int>(s.status_code);
  if (!s.status_message.empty()) status["message"] = s.status_message;
  j["status"] = std::move(status);
  return j;
}

OrderedJson otlp_export_json(const std::vector<Span>& spans,
                             const std::vector<SpanAttribute>& resource) {
  OrderedJson scope_spans;
  scope_spans["scope"] = OrderedJson{{"name", kOtlpScopeName}, {"version", kTrinityVersion}};
  scope_spans["spans"] = OrderedJson::array();
  for (const Span& s : spans) scope_spans["spans"].push_back(otlp_span_json(s));
  OrderedJson rs;
  rs["resource"] = OrderedJson{{"attributes", attributes_json(resource)}};
  rs["scopeSpans"] = OrderedJson::array({std::move(scope_spans)});
  OrderedJson req;
  req["resourceSpans"] = OrderedJson::array({std::move(rs)});
  return req;
}

OtlpExporter::OtlpExporter(OtlpConfig config, HttpClient* http)
    : config_(std::move(config)),
      url_(otlp_traces_url(config_.endpoint)),
      resource_(resource_of(config_)),
      http_(http ? http : &default_http_client()) {
  config_.max_queue = std::max<size_t>(1, config_.max_queue);
  config_.max_batch = std::max<size_t>(1, config_.max_batch);
  thread_ = std::thread([this] { loop(); });
}

OtlpExporter::~OtlpExporter() {
  shutdown();
}

bool OtlpExporter::enqueue(Span span) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_ || queue_.size() >= config_.max_queue) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  queue_.push_back(std::move(span));
  if (queue_.size() == config_.max_batch) wake_.notify_one();
  return true;
}

bool OtlpExporter::flush(int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  flush_pending_ = true;
  wake_.notify_one();
  return drained_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(0, timeout_ms)),
                           [this] { return queue_.empty() && !sending_; });
}

void OtlpExporter::shutdown() {
  std::lock_guard<std::mutex> once(shutdown_mu_);
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    stop_deadline_ms_ = steady_ms() + config_.shutdown_deadline_ms;
  }
  wake_.notify_all();
  thread_.join();
  drained_.notify_all();
}

OtlpExporter::Stats OtlpExporter::stats() const {
  Stats s;
  s.spans_exported = exported_.load();
  s.spans_dropped = dropped_.load();
  s.export_failures = failures_.load();
  s.spans_failed = failed_spans_.load();
  return s;
}

std::vector<Span> OtlpExporter::take_batch() {
  const size_t n = std::min(queue_.size(), config_.max_batch);
  std::vector<Span> batch(std::make_move_iterator(queue_.begin()),
                          std::make_move_iterator(queue_.begin() + static_cast<ptrdiff_t>(n)));
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(n));
  return batch;
}

void OtlpExporter::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  const auto interval = std::chrono::milliseconds(std::max<int64_t>(1, config_.flush_interval_ms));
  auto next = std::chrono::steady_clock::now() + interval;
  for (;;) {
    wake_.wait_until(lock, next, [this] {
      return stopping_ || flush_pending_ || queue_.size() >= config_.max_batch;
    });
    const bool due = stopping_ || flush_pending_ || std::chrono::steady_clock::now() >= next;
    // A full batch goes at once; everything queued goes when due.
    while (!queue_.empty() && (due || queue_.size() >= config_.max_batch)) {
      int64_t timeout = config_.export_timeout_ms;
      if (stopping_) {
        const int64_t left = stop_deadline_ms_ - steady_ms();
        if (left <= 0) {  // out of time: what is left is dropped
          dropped_.fetch_add(queue_.size(), std::memory_order_relaxed);
          queue_.clear();
          break;
        }
        timeout = std::min(timeout, left);
      }
      std::vector<Span> batch = take_batch();
      sending_ = true;
      lock.unlock();
      send(batch, timeout);
      lock.lock();
      sending_ = false;
    }
    if (due) next = std::chrono::steady_clock::now() + interval;
    if (queue_.empty()) {
      flush_pending_ = false;
      drained_.notify_all();
      if (stopping_) return;
    }
  }
}

void OtlpExporter::send(const std::vector<Span>& batch, int64_t timeout_ms) {
  HttpRequest req;
  req.url = url_;
  req.headers = {{"Content-Type", "application/json"}};
  req.body = otlp_export_json(batch, resource_)
                 .dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
  req.timeout_ms = std::max<int64_t>(1, timeout_ms);
  const HttpResponse r = http_->post(req);
  if (r.error == TransportError::kNone && r.status >= 200 && r.status < 300) {
    exported_.fetch_add(batch.size(), std::memory_order_relaxed);
    return;
  }
  failed_spans_.fetch_add(batch.size(), std::memory_order_relaxed);
  if (failures_.fetch_add(1, std::memory_order_relaxed) == 0) {
    const std::string why = r.error != TransportError::kNone
                                ? std::string(transport_error_name(r.error)) + " error"
                                : "HTTP " + std::to_string(r.status);
    std::fprintf(stderr,
                 "otlp: export to %s failed (%s); further failures are only counted "
                 "(trinity_otlp_export_failures_total)\n",
                 url_.c_str(), why.c_str());
  }
}

}  // namespace trinity::coord
