#include "core/stage_times.h"

namespace trinity {

void StageTimes::add(const std::string& name, double ms) {
  for (auto& [n, v] : stages_)
    if (n == name) {
      v += ms;
      return;
    }
  stages_.emplace_back(name, ms);
}

double StageTimes::total_ms() const {
  double t = 0;
  for (const auto& s : stages_) t += s.second;
  return t;
}

double StageTimes::get(const std::string& name) const {
  for (const auto& [n, v] : stages_)
    if (n == name) return v;
  return 0.0;
}

OrderedJson StageTimes::to_json() const {
  OrderedJson j = OrderedJson::object();
  j["total"] = total_ms();
  for (const auto& [n, v] : stages_) j[n] = v;
  return j;
}

void StepClock::mark(const std::string& name) {
  const auto now = std::chrono::steady_clock::now();
  if (out_) out_->add(name, std::chrono::duration<double, std::milli>(now - t_).count());
  t_ = now;
}

}  // namespace trinity
