#include "server/metrics.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace trinity::server {
namespace {

const std::vector<double> kLatencyBuckets = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
const std::vector<double> kBatchBuckets = {1, 2, 4, 8, 16, 32, 64, 128};

std::string fmt_double(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);  // shortest text that round-trips
  return std::string(buf, res.ptr);
}

// Joins a rendered label key ("a=\"x\",b=\"y\"") with an extra label.
std::string with_label(const std::string& key, const std::string& extra) {
  if (key.empty()) return "{" + extra + "}";
  return "{" + key + "," + extra + "}";
}

}  // namespace

std::string escape_label_value(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

Metrics::Metrics() {
  declare("trinity_http_requests_total", "counter", "HTTP requests by endpoint and status code.");
  declare("trinity_http_request_duration_seconds", "histogram",
          "HTTP request latency by endpoint (streams: until the last byte).", kLatencyBuckets);
  declare("trinity_route_duration_seconds", "histogram",
          "Latency of one routing decision, including the batching window.", kLatencyBuckets);
  declare("trinity_route_batches_total", "counter", "Router forward passes (route_batch calls).");
  declare("trinity_route_batch_size", "histogram", "Conversations routed per forward pass.",
          kBatchBuckets);
  declare("trinity_runs_total", "counter", "Coordinator runs by outcome.");
  declare("trinity_run_duration_seconds", "histogram", "Coordinator run latency.", kLatencyBuckets);
  declare("trinity_provider_calls_total", "counter", "Provider calls by provider and status.");
  declare("trinity_provider_errors_total", "counter", "Provider calls that failed.");
  declare("trinity_provider_retries_total", "counter",
          "Provider retries (attempts beyond the first, successful calls).");
  declare("trinity_provider_latency_seconds", "histogram", "Provider call latency.",
          kLatencyBuckets);
  declare("trinity_client_disconnects_total", "counter",
          "Streams whose client went away (their runs are cancelled).");
  declare("trinity_budget_exceeded_total", "counter", "Runs ended by a budget, by budget name.");
  declare("trinity_store_write_seconds", "histogram",
          "Run store write latency: begin (insert running) and finish (one transaction).",
          kLatencyBuckets);
  declare("trinity_store_errors_total", "counter",
          "Run store operations that failed, by op (begin, finish, maintenance, retention).");
  declare("trinity_provider_fallbacks_total", "counter",
          "Hops of a dispatch to the next endpoint of its slot, by endpoint names and reason.");
  declare("trinity_circuit_transitions_total", "counter",
          "Circuit breaker state changes, by endpoint and new state.");
  declare("trinity_slot_latency_seconds", "histogram",
          "Dispatch latency by agent slot (fallbacks included).", kLatencyBuckets);
}

void Metrics::declare(const std::string& name, const std::string& type, const std::string& help,
                      std::vector<double> bounds) {
  families_[name] = Family{help, type, std::move(bounds), nullptr};
}

std::string Metrics::key(const Labels& labels) {
  std::string k;
  for (const auto& [n, v] : labels) {
    if (!k.empty()) k += ',';
    k += n + "=\"" + escape_label_value(v) + "\"";
  }
  return k;
}

void Metrics::inc(const std::string& name, const Labels& labels, double by) {
  const std::string k = key(labels);
  std::lock_guard<std::mutex> lock(mu_);
  counters_[name][k] += by;
}

void Metrics::observe(const std::string& name, const Labels& labels, double value) {
  const std::string k = key(labels);
  std::lock_guard<std::mutex> lock(mu_);
  auto fam = families_.find(name);
  if (fam == families_.end()) return;
  Histogram& h = histograms_[name][k];
  const auto& bounds = fam->second.bounds;
  if (h.buckets.empty()) h.buckets.assign(bounds.size(), 0);
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (value <= bounds[i]) {
      h.buckets[i] += 1;
      break;
    }
  }
  h.count += 1;
  h.sum += value;
}

void Metrics::add_gauge(const std::string& name, const std::string& help, GaugeReader read) {
  std::lock_guard<std::mutex> lock(mu_);
  families_[name] = Family{help, "gauge", {}, std::move(read)};
}

std::optional<double> Metrics::gauge_value(const std::string& name, const Labels& labels) const {
  GaugeReader read;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = families_.find(name);
    if (it == families_.end() || !it->second.read) return std::nullopt;
    read = it->second.read;
  }
  for (const auto& [l, v] : read())
    if (l == labels) return v;
  return std::nullopt;
}

void Metrics::set_extra(std::function<std::string()> extra) {
  std::lock_guard<std::mutex> lock(mu_);
  extra_ = std::move(extra);
}

double Metrics::counter_value(const std::string& name, const Labels& labels) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = counters_.find(name);
  if (it == counters_.end()) return 0;
  auto s = it->second.find(key(labels));
  return s == it->second.end() ? 0 : s->second;
}

uint64_t Metrics::histogram_count(const std::string& name, const Labels& labels) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = histograms_.find(name);
  if (it == histograms_.end()) return 0;
  auto s = it->second.find(key(labels));
  return s == it->second.end() ? 0 : s->second.count;
}

std::string Metrics::render() const {
  std::string out;
  std::function<std::string()> extra;
  {
    std::lock_guard<std::mutex> lock(mu_);
    extra = extra_;
    for (const auto& [name, fam] : families_) {
      out += "# HELP " + name + " " + fam.help + "\n";
      out += "# TYPE " + name + " " + fam.type + "\n";
      if (fam.type == "gauge") {
        for (const auto& [labels, v] : fam.read()) {
          const std::string k = key(labels);
          out += name + (k.empty() ? "" : "{" + k + "}") + " " + fmt_double(v) + "\n";
        }
      } else if (fam.type == "counter") {
        auto it = counters_.find(name);
        if (it == counters_.end()) continue;
        for (const auto& [k, v] : it->second)
          out += name + (k.empty() ? "" : "{" + k + "}") + " " + fmt_double(v) + "\n";
      } else {
        auto it = histograms_.find(name);
        if (it == histograms_.end()) continue;
        for (const auto& [k, h] : it->second) {
          uint64_t cum = 0;
          for (size_t i = 0; i < fam.bounds.size(); ++i) {
            cum += h.buckets[i];
            out += name + "_bucket" + with_label(k, "le=\"" + fmt_double(fam.bounds[i]) + "\"") +
                   " " + std::to_string(cum) + "\n";
          }
          out += name + "_bucket" + with_label(k, "le=\"+Inf\"") + " " + std::to_string(h.count) +
                 "\n";
          const std::string lk = k.empty() ? "" : "{" + k + "}";
          out += name + "_sum" + lk + " " + fmt_double(h.sum) + "\n";
          out += name + "_count" + lk + " " + std::to_string(h.count) + "\n";
        }
      }
    }
  }
  out += "# HELP trinity_inflight_runs Coordinator runs in progress.\n";
  out += "# TYPE trinity_inflight_runs gauge\n";
  out += "trinity_inflight_runs " + std::to_string(inflight_runs.load()) + "\n";
  if (extra) out += extra();
  return out;
}

}  // namespace trinity::server
