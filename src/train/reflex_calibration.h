// `trinity reflex calibrate`: the reference's ReflexCalibration threshold sweep over fitness
// examples (trinity.reflex.calibration_report.v1).
//
// For every high multiplier h (default 2, 4, 8) and low multiplier l (default 0.5, 1), each
// example is classed from its route.agent_margin / route.role_margin:
//   missing  a margin is not a number
//   low      agent < low_agent or role < low_role
//   high     agent >= high_agent and role >= high_role
//   medium   otherwise
// with, in profile_floor mode, high = h x floors and low = l x floors (floors 0.24 / 1.06, the
// reference's MarginDefaults), and in absolute mode high = h and low = l for both margins.
// Counts: accepted_direct (high and outcome.verifier_status accepted), high_bad (high and
// rejected / failed / revise / revised), low_accepted (low and accepted), insufficient_margin
// (missing). score = accepted_direct - 2 high_bad - 0.25 low_accepted - 0.5 insufficient.
// Candidates are sorted by score descending, then high, then low multiplier ascending; the
// first is recommended, and printed as the `--reflex-*` flags of run / serve / eval.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "train/fitness_score.h"

namespace trinity::train {

inline constexpr const char* kCalibrationReportSchema = "trinity.reflex.calibration_report.v1";

struct CalibrationOptions {
  MarginMode margin_mode = MarginMode::kProfileFloor;
  std::vector<double> high_multipliers = {2.0, 4.0, 8.0};
  std::vector<double> low_multipliers = {0.5, 1.0};
};

struct ReflexThresholdValues {
  double high_agent = 0, high_role = 0, low_agent = 0, low_role = 0;
};
ReflexThresholdValues thresholds_for(MarginMode mode, double high_multiplier,
                                     double low_multiplier);
// "--reflex-margin-mode M --reflex-high-agent-margin X --reflex-high-role-margin X
//  --reflex-low-agent-margin X --reflex-low-role-margin X" (shortest round-trip numbers).
std::string reflex_flags(MarginMode mode, const ReflexThresholdValues& t);

struct CalibrationCandidate {
  double high_multiplier = 0, low_multiplier = 0, score = 0;
  int64_t accepted_direct = 0, high_bad = 0, low_accepted = 0, insufficient_margin = 0;
  std::map<std::string, int64_t> class_counts;
  Json to_json() const;  // the reference's keys (accepted_direct_count, ...)
};

// "high" | "medium" | "low" | "missing"
std::string classify_example(const Json& example, MarginMode mode, double high, double low);
CalibrationCandidate evaluate_thresholds(const std::vector<Json>& examples, MarginMode mode,
                                         double high_multiplier, double low_multiplier);

// Every candidate, sorted, in candidates; an error for a multiplier that is not a positive
// finite number.
Result<std::vector<CalibrationCandidate>> sweep_thresholds(const std::vector<Json>& examples,
                                                           const CalibrationOptions& opts);

// The report: schema_version, fitness_path, record_count, margin_mode, candidate_count,
// recommended_thresholds {high_multiplier, low_multiplier, and trinity's high_agent,
// high_role, low_agent, low_role}, recommended_score, recommended_flags (trinity), status (ok |
// insufficient_evidence), status_reason, candidates.
Result<Json> calibrate_reflex(const std::vector<Json>& examples, const CalibrationOptions& opts,
                              const std::string& fitness_path);

}  // namespace trinity::train
