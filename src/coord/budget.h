// Run budgets. All optional; checked in this order at every checkpoint:
//   max_wall_time_ms         exceeded when elapsed >= limit
//   max_provider_calls       exceeded when calls > limit (N allows exactly N calls)
//   max_provider_latency_ms  exceeded when one call took longer than the limit
//   max_verifier_revisions   exceeded when revisions > limit (N allows exactly N)
//   max_estimated_cost_usd   exceeded when the cumulative cost >= limit (kept in micro-dollars;
//                            as in the reference, a limit of 0 stops the run before any call)
// Checkpoints: turn_start, before_dispatch, after_dispatch_latency, after_dispatch,
// after_verifier_revision. As in the reference, after_verifier_revision reports only
// max_verifier_revisions; the others are reported at the next checkpoint.
// Each budget also has the reference's key (budget_exceeded_key in traces): wall_time_ms,
// provider_calls, provider_latency_ms, verifier_revisions, estimated_cost_usd.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/json.h"
#include "core/status.h"

namespace trinity::coord {

struct Budgets {
  std::optional<int64_t> max_wall_time_ms;
  std::optional<int64_t> max_provider_calls;
  std::optional<int64_t> max_provider_latency_ms;
  std::optional<int64_t> max_verifier_revisions;
  std::optional<int64_t> max_estimated_cost_micro_usd;  // from --max-estimated-cost-usd X
  OrderedJson limits_json() const;
  bool any() const {
    return max_wall_time_ms || max_provider_calls || max_provider_latency_ms ||
           max_verifier_revisions || max_estimated_cost_micro_usd;
  }
};

// USD -> micro-dollars, rounded to nearest; error on negative / non-finite values.
Result<int64_t> usd_to_micro(double usd);
double micro_to_usd(int64_t micro);

struct BudgetUsage {
  int64_t elapsed_ms = 0;
  int64_t provider_calls = 0;
  int64_t last_latency_ms = 0;
  int64_t max_latency_ms = 0;
  int64_t verifier_revisions = 0;
  int64_t cost_micro_usd = 0;
};

struct BudgetViolation {
  std::string budget;      // "max_provider_calls", ...
  std::string key;         // the reference's name: "provider_calls", ...
  std::string checkpoint;  // "before_dispatch", ...
  std::string limit;       // as text ("2", "0.010000")
  std::string observed;
  OrderedJson to_json() const;
  // "budget exceeded: max_provider_calls (limit 2, observed 3) at checkpoint before_dispatch"
  std::string message() const;
};

// The first budget (in the documented order) that `usage` exceeds, if any.
std::optional<BudgetViolation> check_budgets(const Budgets& b, const BudgetUsage& u,
                                             const std::string& checkpoint);

}  // namespace trinity::coord
