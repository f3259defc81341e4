// Runs an eval: routes the cases (batched), checks each decision against its expected route,
// the margin floors and an optional snapshot, repeats the pass for determinism, and sums up.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "eval/cases.h"
#include "eval/snapshot.h"
#include "router/route.h"

namespace trinity::eval {

enum class Verdict { kPass, kFail, kReportOnly };
// "PASS" / "FAIL" / "REPORT ONLY"
const char* verdict_name(Verdict v);

struct CaseResult {
  size_t index = 0;  // 0-based position in the run
  std::string id;
  std::optional<ExpectedRoute> expected;
  RouteDecision decision;
  // Every failed check ("agent 3 != expected 4", "token_count 12 != snapshot 13", ...). With
  // --no-assert they are still listed but the verdict is REPORT ONLY.
  std::vector<std::string> failures;
  bool snapshot_checked = false;  // a snapshot was in use and had an entry for this case
  bool snapshot_missing = false;  // a snapshot was in use but had no entry for this case
  std::vector<std::string> snapshot_mismatches;  // fields that differ from the snapshot entry
  Verdict verdict = Verdict::kPass;
};

// A route_hash of run `run` (1-based; run 1 is the main pass) that differs from run 1.
struct DeterminismMismatch {
  std::string id;
  int run = 0;
  std::string first_route_hash;
  std::string route_hash;
};

struct EvalSummary {
  int total = 0, passed = 0, failed = 0, report_only = 0;
  std::array<int, kNumRoles> roles_selected{};
  std::array<int, kNumAgents> agents_selected{};
  std::optional<double> min_agent_margin, min_role_margin;
  std::string min_agent_margin_id, min_role_margin_id;
  double route_ms = 0;        // the main (batched) pass
  double determinism_ms = 0;  // the extra passes (each recomputes: prefix cache cleared)
  std::vector<std::string> failed_ids;
};

struct EvalOptions {
  ReflexFloors floors;
  const Snapshot* snapshot = nullptr;  // not owned; null: no snapshot check
  // Total passes (>= 1); > 1 checks route_hash stability. Each extra pass starts with the
  // router's prefix cache cleared (Router::clear_prefix_cache), so it computes every token again.
  int determinism_runs = 1;
  bool assert_results = true;  // false (--no-assert): verdicts are REPORT ONLY
};

struct EvalRun {
  std::vector<CaseResult> results;
  int determinism_runs = 1;
  std::vector<DeterminismMismatch> determinism;
  EvalSummary summary;
};

// The checks of one case (see CaseResult::failures). Logits and route_hash are never compared
// with the snapshot: only agent_id, role_id, token_count and transcript_hash.
void check_case(const EvalCase& c, const RouteDecision& d, const ReflexFloors& floors,
                const Snapshot* snapshot, CaseResult& out);

// Routes `cases` (in order) with router.route_batch; a router error names the failing case.
// The determinism passes clear the router's prefix cache first (not concurrent with other
// routes on the same router).
Result<EvalRun> run_eval(const Router& router, const std::vector<EvalCase>& cases,
                         const EvalOptions& options);

// Recomputes run.summary from run.results (+ determinism).
void summarize(EvalRun& run);

}  // namespace trinity::eval
