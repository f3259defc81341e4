// A small OpenTelemetry collector for the tests: an OTLP/HTTP JSON receiver on 127.0.0.1 with an
// ephemeral port (POST /v1/traces), which checks every request's shape against the OTLP JSON
// encoding and keeps the spans. It can also answer slowly (a stuck collector).
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace trinity::testing {

inline bool is_lower_hex(const nlohmann::json& v, size_t n) {
  if (!v.is_string()) return false;
  const std::string s = v.get<std::string>();
  if (s.size() != n || s == std::string(n, '0')) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

inline bool is_decimal_string(const nlohmann::json& v) {
  if (!v.is_string() || v.get<std::string>().empty()) return false;
  for (char c : v.get<std::string>())
    if (c < '0' || c > '9') return false;
  return true;
}

// "" when `attrs` is a valid OTLP KeyValue list, else what is wrong.
inline std::string check_otlp_attributes(const nlohmann::json& attrs) {
  if (!attrs.is_array()) return "attributes must be an array";
  for (const auto& kv : attrs) {
    if (!kv.is_object() || !kv.contains("key") || !kv["key"].is_string())
      return "attribute without a string key";
    if (!kv.contains("value") || !kv["value"].is_object() || kv["value"].size() != 1)
      return "attribute " + kv["key"].get<std::string>() + ": value must have one field";
    const auto it = kv["value"].begin();
    const std::string type = it.key();
    const nlohmann::json& v = it.value();
    const bool ok = (type == "stringValue" && v.is_string()) ||
                    (type == "intValue" && is_decimal_string(v)) ||
                    (type == "doubleValue" && (v.is_number() || v.is_string())) ||
                    (type == "boolValue" && v.is_boolean());
    if (!ok) return "attribute " + kv["key"].get<std::string>() + ": bad " + type;
  }
  return "";
}

// "" when `span` follows the OTLP JSON encoding of a Span.
inline std::string check_otlp_span(const nlohmann::json& s) {
  if (!s.is_object()) return "span must be an object";
  if (!is_lower_hex(s.value("traceId", nlohmann::json()), 32)) return "traceId: 32 lowercase hex";
  if (!is_lower_hex(s.value("spanId", nlohmann::json()), 16)) return "spanId: 16 lowercase hex";
  if (s.contains("parentSpanId") && !is_lower_hex(s["parentSpanId"], 16))
    return "parentSpanId: 16 lowercase hex";
  if (!s.contains("name") || !s["name"].is_string() || s["name"].get<std::string>().empty())
    return "name: a non-empty string";
  if (!s.contains("kind") || !s["kind"].is_number_integer() || s["kind"] < 1 || s["kind"] > 5)
    return "kind: an integer 1..5";
  for (const char* t : {"startTimeUnixNano", "endTimeUnixNano"})
    if (!is_decimal_string(s.value(t, nlohmann::json())))
      return std::string(t) + ": decimal string";
  if (std::stoull(s["startTimeUnixNano"].get<std::string>()) >
      std::stoull(s["endTimeUnixNano"].get<std::string>()))
    return "span ends before it starts";
  std::string why = check_otlp_attributes(s.value("attributes", nlohmann::json::array()));
  if (!why.empty()) return why;
  if (s.contains("status")) {
    const auto& st = s["status"];
    if (!st.is_object() || !st.contains("code") || !st["code"].is_number_integer() ||
        st["code"] < 0 || st["code"] > 2)
      return "status.code: 0..2";
  }
  return "";
}

// "" when `body` is an ExportTraceServiceRequest in OTLP JSON.
inline std::string check_otlp_request(const nlohmann::json& body) {
  if (!body.is_object() || !body.contains("resourceSpans") || !body["resourceSpans"].is_array() ||
      body["resourceSpans"].empty())
    return "resourceSpans: a non-empty array";
  for (const auto& rs : body["resourceSpans"]) {
    if (!rs.contains("resource") || !rs["resource"].contains("attributes"))
      return "resource.attributes missing";
    std::string why = check_otlp_attributes(rs["resource"]["attributes"]);
    if (!why.empty()) return "resource: " + why;
    bool service = false;
    for (const auto& kv : rs["resource"]["attributes"])
      service |= kv["key"] == "service.name" && kv["value"].contains("stringValue");
    if (!service) return "resource: no service.name";
    if (!rs.contains("scopeSpans") || !rs["scopeSpans"].is_array() || rs["scopeSpans"].empty())
      return "scopeSpans: a non-empty array";
    for (const auto& ss : rs["scopeSpans"]) {
      if (!ss.contains("scope") || !ss["scope"].contains("name")) return "scope.name missing";
      if (!ss.contains("spans") || !ss["spans"].is_array()) return "spans: an array";
      for (const auto& s : ss["spans"]) {
        why = check_otlp_span(s);
        if (!why.empty()) return why + ": " + s.dump();
      }
    }
  }
  return "";
}

class TestCollector {
 public:
  explicit TestCollector(int delay_ms = 0) : delay_ms_(delay_ms) {
    server_.Post("/v1/traces", [this](const httplib::Request& req, httplib::Response& res) {
      if (delay_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
      auto body = nlohmann::json::parse(req.body, nullptr, false);
      std::lock_guard<std::mutex> lock(mu_);
      requests_ += 1;
      if (req.get_header_value("Content-Type") != "application/json")
        errors_.push_back("Content-Type: " + req.get_header_value("Content-Type"));
      std::string why = body.is_discarded() ? "invalid JSON" : check_otlp_request(body);
      if (!why.empty()) {
        errors_.push_back(why);
        res.status = 400;
        return;
      }
      for (const auto& rs : body["resourceSpans"]) {
        resources_.push_back(rs["resource"]);
        for (const auto& ss : rs["scopeSpans"])
          for (const auto& s : ss["spans"]) spans_.push_back(s);
      }
      res.set_content("{}", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ~TestCollector() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<nlohmann::json> spans() {
    std::lock_guard<std::mutex> lock(mu_);
    return spans_;
  }
  std::vector<nlohmann::json> resources() {
    std::lock_guard<std::mutex> lock(mu_);
    return resources_;
  }
  std::vector<std::string> errors() {
    std::lock_guard<std::mutex> lock(mu_);
    return errors_;
  }
  int requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  int delay_ms_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = -1;
  std::mutex mu_;
  int requests_ = 0;
  std::vector<nlohmann::json> spans_, resources_;
  std::vector<std::string> errors_;
};

}  // namespace trinity::testing
