// Prometheus metrics of `trinity serve`: a small thread-safe registry of labelled counters,
// gauges and histograms rendered in the Prometheus text exposition format (version 0.0.4).
// Label sets are bounded by the server (endpoints, statuses, providers, budgets), never taken
// from request content.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace trinity::server {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  Metrics();

  // Counters (monotonic).
  void inc(const std::string& name, const Labels& labels = {}, double by = 1.0);
  // Histograms (seconds or counts, with the buckets given at declaration).
  void observe(const std::string& name, const Labels& labels, double value);

  // In-flight gauge kept as an atomic (read at render time).
  std::atomic<int64_t> inflight_runs{0};

  // Extra text appended to the exposition (e.g. prefix-cache gauges read from the router).
  void set_extra(std::function<std::string()> extra);

  // A gauge family whose series are read at render time (e.g. circuit states from the pool).
  using GaugeReader = std::function<std::vector<std::pair<Labels, double>>()>;
  void add_gauge(const std::string& name, const std::string& help, GaugeReader read);
  // Current value of such a gauge series (tests); nullopt if absent.
  std::optional<double> gauge_value(const std::string& name, const Labels& labels) const;

  // The whole exposition.
  std::string render() const;

  // Current value of a counter (tests); 0 if never incremented.
  double counter_value(const std::string& name, const Labels& labels) const;
  // Number of observations of a histogram series (tests).
  uint64_t histogram_count(const std::string& name, const Labels& labels) const;

 private:
  struct Family {
    std::string help;
    std::string type;            // counter | histogram | gauge (read: its GaugeReader)
    std::vector<double> bounds;  // histogram upper bounds (without +Inf)
    GaugeReader read;
  };
  struct Histogram {
    std::vector<uint64_t> buckets;  // cumulative at render time; per-bucket here
    uint64_t count = 0;
    double sum = 0;
  };
  void declare(const std::string& name, const std::string& type, const std::string& help,
               std::vector<double> bounds = {});
  static std::string key(const Labels& labels);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
  std::map<std::string, std::map<std::string, double>> counters_;
  std::map<std::string, std::map<std::string, Histogram>> histograms_;
  std::function<std::string()> extra_;
};

// Escapes a label value for the exposition format (backslash, quote, newline).
std::string escape_label_value(const std::string& v);

}  // namespace trinity::server
