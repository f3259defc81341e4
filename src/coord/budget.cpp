#include "coord/budget.h"

#include <cmath>
#include <cstdio>

namespace trinity::coord {

Result<int64_t> usd_to_micro(double usd) {
  if (!std::isfinite(usd) || usd < 0 || usd > 9.0e12)
    return invalid_argument("cost limit must be a finite, non-negative number of USD");
  return static_cast<int64_t>(std::llround(usd * 1e6));
}

double micro_to_usd(int64_t micro) {
  return static_cast<double>(micro) / 1e6;
}

static std::string usd_text(int64_t micro) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6f", micro_to_usd(micro));
  return buf;
}

OrderedJson Budgets::limits_json() const {
  auto opt = [](const std::optional<int64_t>& v) { return v ? OrderedJson(*v) : OrderedJson(); };
  OrderedJson j;
  j["max_wall_time_ms"] = opt(max_wall_time_ms);
  j["max_provider_calls"] = opt(max_provider_calls);
  j["max_provider_latency_ms"] = opt(max_provider_latency_ms);
  j["max_verifier_revisions"] = opt(max_verifier_revisions);
  j["max_estimated_cost_usd"] = max_estimated_cost_micro_usd
                                    ? OrderedJson(micro_to_usd(*max_estimated_cost_micro_usd))
                                    : OrderedJson();
  return j;
}

OrderedJson BudgetViolation::to_json() const {
  return OrderedJson{{"budget", budget},
                     {"key", key},
                     {"limit", limit},
                     {"observed", observed},
                     {"checkpoint", checkpoint}};
}

std::string BudgetViolation::message() const {
  return "budget exceeded: " + budget + " (limit " + limit + ", observed " + observed +
         ") at checkpoint " + checkpoint;
}

std::optional<BudgetViolation> check_budgets(const Budgets& b, const BudgetUsage& u,
                                             const std::string& checkpoint) {
  auto make = [&](const char* name, std::string limit, std::string observed) {
    return BudgetViolation{name, name + 4, checkpoint, std::move(limit), std::move(observed)};
  };
  if (checkpoint == "after_verifier_revision") {
    if (b.max_verifier_revisions && u.verifier_revisions > *b.max_verifier_revisions)
      return make("max_verifier_revisions", std::to_string(*b.max_verifier_revisions),
                  std::to_string(u.verifier_revisions));
    return std::nullopt;
  }
  if (b.max_wall_time_ms && u.elapsed_ms >= *b.max_wall_time_ms)
    return make("max_wall_time_ms", std::to_string(*b.max_wall_time_ms),
                std::to_string(u.elapsed_ms));
  if (b.max_provider_calls && u.provider_calls > *b.max_provider_calls)
    return make("max_provider_calls", std::to_string(*b.max_provider_calls),
                std::to_string(u.provider_calls));
  if (b.max_provider_latency_ms && u.max_latency_ms > *b.max_provider_latency_ms)
    return make("max_provider_latency_ms", std::to_string(*b.max_provider_latency_ms),
                std::to_string(u.max_latency_ms));
  if (b.max_verifier_revisions && u.verifier_revisions > *b.max_verifier_revisions)
    return make("max_verifier_revisions", std::to_string(*b.max_verifier_revisions),
                std::to_string(u.verifier_revisions));
  if (b.max_estimated_cost_micro_usd && u.cost_micro_usd >= *b.max_estimated_cost_micro_usd)
    return make("max_estimated_cost_usd", usd_text(*b.max_estimated_cost_micro_usd),
                usd_text(u.cost_micro_usd));
  return std::nullopt;
}

}  // namespace trinity::coord
