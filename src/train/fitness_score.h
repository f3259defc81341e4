// Fitness score v1 of a route, as the reference's Trinity.Sakana.FitnessScore.score_v1:
//
//   score = clamp(0.5 + verifier + 0.2·margin_strength − 0.1·min(revisions, 3)
//                 + latency + cost + budget, 0, 1)
//   verifier        accepted / ok +0.3, revise / revised −0.2, rejected / failed −0.35, else 0
//   margin_strength profile_floor: clamp(log2(max(min(agent/0.24, role/1.06), 1)) / 4, 0, 1)
//                   (a missing margin counts as ratio 0, so strength 0)
//                   absolute: clamp(min(agent, role) / margin_scale, 0, 1) (missing = 0)
//   latency, cost   0.05·clamp(1 − observed/target, −1, 1) when both are numbers and target > 0
//   budget          −0.25 when budget_exceeded is truthy (anything but null / false)
//   revisions       a non-negative JSON integer, else 0
// Labels: positive when score >= 0.67, negative when score <= 0.33, else neutral.
// The floors are the reference's MarginDefaults (0.24 / 1.06 for every runtime profile).
#pragma once

#include <optional>
#include <string>

#include "core/json.h"
#include "core/status.h"

namespace trinity::train {

inline constexpr const char* kScoreFormula = "v1";
inline constexpr int kScoreFormulaVersion = 1;

enum class MarginMode { kProfileFloor, kAbsolute };
const char* margin_mode_name(MarginMode m);  // "profile_floor" | "absolute"
Result<MarginMode> parse_margin_mode(const std::string& s);

struct ScoreOptions {
  MarginMode margin_mode = MarginMode::kProfileFloor;
  double margin_scale = 1.0;  // absolute mode only; > 0
  std::optional<double> latency_target_ms, cost_target_usd;
  double positive_threshold = 0.67, negative_threshold = 0.33;
  // margin_scale > 0 and finite, negative_threshold <= positive_threshold, targets finite.
  Status validate() const;
  // {margin_mode, margin_scale, latency_target_ms, cost_target_usd, positive_threshold,
  //  negative_threshold} (targets null when absent): stored with every example.
  Json to_json() const;
  // The inverse of to_json(); `ctx` names the file / line in errors.
  static Result<ScoreOptions> from_json(const Json& j, const std::string& ctx);
};

// What the score reads, as JSON values (a number, null, a string...), exactly as stored in an
// example's route / outcome maps.
struct ScoreInputs {
  Json verifier_status, agent_margin, role_margin, revision_count, observed_latency_ms,
      estimated_cost_usd, budget_exceeded;
  // From an example: route.{agent_margin, role_margin}, outcome.{verifier_status,
  // revision_count, observed_latency_ms, estimated_cost_usd, budget_exceeded}.
  static ScoreInputs from_example(const Json& example);
};

struct ScoreComponents {
  double base = 0.5, verifier = 0, margin = 0, margin_strength = 0, revision = 0, latency = 0,
         cost = 0, budget = 0;
  Json to_json() const;  // the reference's component names
};

struct ScoreResult {
  double score = 0;
  std::string label;  // positive | neutral | negative
  ScoreComponents components;
};

ScoreResult score_v1(const ScoreInputs& in, const ScoreOptions& opts);
const char* score_label(double score, const ScoreOptions& opts);
double verifier_contribution(const Json& status);
double margin_strength(const Json& agent_margin, const Json& role_margin, const ScoreOptions& o);

}  // namespace trinity::train
