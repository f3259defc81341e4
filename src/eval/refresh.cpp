#include "eval/refresh.h"

#include "core/time_util.h"

namespace trinity::eval {

Snapshot snapshot_from_run(const EvalRun& run) {
  Snapshot s;
  s.generated_at = utc_now(UtcFormat::kIso8601Micros);
  for (const auto& r : run.results) s.cases.push_back(snapshot_entry(r.id, r.decision));
  return s;
}

CasesFile with_returned_expectations(const CasesFile& file, const EvalRun& run) {
  CasesFile out = file;
  for (const auto& r : run.results) {
    const int i = find_case(out, r.id);
    if (i < 0) continue;
    out.cases[size_t(i)].expected = ExpectedRoute{r.decision.agent_id, r.decision.role_id};
  }
  return out;
}

}  // namespace trinity::eval
