// Wall-clock times of the named steps of one operation (a model load), in the order they ran:
// what `trinity route --json` reports as `load_ms` and `trinity bench load` as its stages.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "core/json.h"

namespace trinity {

class StageTimes {
 public:
  // Adds `ms` to the stage `name` (created at the end of the list on first use).
  void add(const std::string& name, double ms);
  // Sum of every stage.
  double total_ms() const;
  double get(const std::string& name) const;  // 0 when absent
  const std::vector<std::pair<std::string, double>>& stages() const { return stages_; }
  // {"total": ms, "<stage>": ms, ...} in stage order.
  OrderedJson to_json() const;

 private:
  std::vector<std::pair<std::string, double>> stages_;
};

// Times from construction (or the previous mark) to each mark(); a null `out` records nothing.
class StepClock {
 public:
  explicit StepClock(StageTimes* out) : out_(out), t_(std::chrono::steady_clock::now()) {}
  void mark(const std::string& name);

 private:
  StageTimes* out_;
  std::chrono::steady_clock::time_point t_;
};

}  // namespace trinity
