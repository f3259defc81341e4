// OpenTelemetry traces over OTLP/HTTP with the JSON encoding
// (https://opentelemetry.io/docs/specs/otlp/#otlphttp), sent through the HttpClient interface
// (libcurl in production): no OpenTelemetry SDK is needed.
//
// OtlpExporter owns a bounded queue and one background thread. enqueue() is O(1) under a short
// mutex and never waits on the network: when the queue is full the span is dropped and counted.
// The thread sends a batch of up to max_batch spans as soon as that many are queued, or every
// flush_interval_ms, as one POST to <endpoint>/v1/traces with a short timeout; a failed POST
// (collector down, slow, or answering an error) drops its batch and is counted, nothing else.
// shutdown() sends what is queued, within shutdown_deadline_ms, and stops the thread.
//
// Encoding (OTLP JSON): traceId/spanId are lowercase hex strings, times decimal strings of Unix
// nanoseconds, `kind` an integer (1 internal, 2 server, 3 client), attributes
// [{key, value: {stringValue | intValue (decimal string) | doubleValue | boolValue}}], status
// {code: 0 unset | 1 ok | 2 error, message}.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "coord/http.h"
#include "core/json.h"
#include "core/status.h"

namespace trinity::coord {

inline constexpr const char* kOtlpScopeName = "trinity.cpp";
inline constexpr const char* kTrinityVersion = "0.1.0";

struct SpanAttribute {
  using Value = std::variant<std::string, int64_t, double, bool>;
  std::string key;
  Value value;
};

enum class SpanKind { kInternal = 1, kServer = 2, kClient = 3 };
enum class SpanStatusCode { kUnset = 0, kOk = 1, kError = 2 };

struct Span {
  using Value = SpanAttribute::Value;
  std::string trace_id;        // 32 hex
  std::string span_id;         // 16 hex
  std::string parent_span_id;  // 16 hex; "" for a root span
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  int64_t start_unix_nano = 0;
  int64_t end_unix_nano = 0;
  std::vector<SpanAttribute> attributes;
  SpanStatusCode status_code = SpanStatusCode::kUnset;
  std::string status_message;

  // Sets (or replaces) an attribute; the overloads keep a string literal from becoming a bool.
  void set(const std::string& key, SpanAttribute::Value value);
  void set(const std::string& key, const char* value) { set(key, Value(std::string(value))); }
  void set(const std::string& key, std::string value) { set(key, Value(std::move(value))); }
  void set(const std::string& key, int64_t value) { set(key, Value(value)); }
  void set(const std::string& key, int value) { set(key, Value(int64_t{value})); }
  void set(const std::string& key, double value) { set(key, Value(value)); }
  void set(const std::string& key, bool value) { set(key, Value(value)); }
  const SpanAttribute* find(const std::string& key) const;
};

struct OtlpConfig {
  std::string endpoint;  // http(s)://host:port[/prefix]; "/v1/traces" is appended unless present
  std::string service_name = "trinity";
  std::string service_version = kTrinityVersion;
  std::vector<SpanAttribute> resource_attributes;  // beyond service.*, host.name, process.pid
  size_t max_queue = 2048;                         // spans waiting; more are dropped
  size_t max_batch = 512;                          // spans per POST
  int64_t flush_interval_ms = 1000;
  int64_t export_timeout_ms = 2000;  // one POST, connection included
  int64_t shutdown_deadline_ms = 3000;
};

// "http://h:4318" -> "http://h:4318/v1/traces"; a URL already ending in /v1/traces is kept.
std::string otlp_traces_url(const std::string& endpoint);
// An http:// or https:// URL with a host.
Status validate_otlp_endpoint(const std::string& endpoint);

// The ExportTraceServiceRequest of `spans` (one resource, one scope).
OrderedJson otlp_export_json(const std::vector<Span>& spans,
                             const std::vector<SpanAttribute>& resource);
OrderedJson otlp_span_json(const Span& span);

class OtlpExporter {
 public:
  struct Stats {
    uint64_t spans_exported = 0;   // accepted by the collector (2xx)
    uint64_t spans_dropped = 0;    // the queue was full, or still queued at shutdown
    uint64_t export_failures = 0;  // POSTs that failed (their spans are lost)
    uint64_t spans_failed = 0;     // spans in those POSTs
  };

  // Starts the export thread. `http` must outlive the exporter (null: the shared libcurl client).
  explicit OtlpExporter(OtlpConfig config, HttpClient* http = nullptr);
  ~OtlpExporter();  // shutdown()
  OtlpExporter(const OtlpExporter&) = delete;
  OtlpExporter& operator=(const OtlpExporter&) = delete;

  // Queues a finished span; false (and counted) when the queue is full or the exporter stopped.
  bool enqueue(Span span);
  // Sends everything queued so far and waits for it, up to timeout_ms; true when all was sent
  // (or failed) in time. For tests and orderly shutdowns.
  bool flush(int64_t timeout_ms);
  // Sends what is queued (within shutdown_deadline_ms) and joins the thread. Idempotent.
  void shutdown();
  Stats stats() const;
  const OtlpConfig& config() const { return config_; }
  const std::string& url() const { return url_; }

 private:
  void loop();
  // Takes up to max_batch spans off the queue (caller holds mu_).
  std::vector<Span> take_batch();
  void send(const std::vector<Span>& batch, int64_t timeout_ms);

  OtlpConfig config_;
  std::string url_;
  std::vector<SpanAttribute> resource_;
  HttpClient* http_;

  mutable std::mutex mu_;
  std::condition_variable wake_;     // the thread: spans, a flush, or stop
  std::condition_variable drained_;  // flush(): the queue went empty with nothing in flight
  std::deque<Span> queue_;
  bool stopping_ = false;
  bool sending_ = false;
  bool flush_pending_ = false;
  int64_t stop_deadline_ms_ = 0;  // steady-clock ms, once stopping
  std::atomic<uint64_t> exported_{0}, dropped_{0}, failures_{0}, failed_spans_{0};
  std::mutex shutdown_mu_;
  std::thread thread_;
};

}  // namespace trinity::coord
