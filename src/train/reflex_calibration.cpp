#include "train/reflex_calibration.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "router/route.h"

namespace trinity::train {
namespace {

const Json& at(const Json& j, const char* map, const char* key) {
  static const Json kNull;
  if (!j.is_object() || !j.contains(map) || !j[map].is_object() || !j[map].contains(key))
    return kNull;
  return j[map][key];
}

std::string shortest(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, res.ptr);
}

Result<std::vector<double>> normalize_multipliers(std::vector<double> values, const char* what) {
  for (double v : values)
    if (!std::isfinite(v) || !(v > 0))
      return invalid_argument(std::string(what) + " multipliers must be positive numbers, got " +
                              shortest(v));
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return values;
}

Json thresholds_json(const CalibrationCandidate& c, MarginMode mode) {
  const ReflexThresholdValues t = thresholds_for(mode, c.high_multiplier, c.low_multiplier);
  return {{"high_multiplier", c.high_multiplier},
          {"low_multiplier", c.low_multiplier},
          {"high_agent", t.high_agent},
          {"high_role", t.high_role},
          {"low_agent", t.low_agent},
          {"low_role", t.low_role}};
}

}  // namespace

ReflexThresholdValues thresholds_for(MarginMode mode, double high, double low) {
  if (mode == MarginMode::kAbsolute) return {high, high, low, low};
  const ReflexFloors f;  // 0.24 / 1.06
  return {f.agent * high, f.role * high, f.agent * low, f.role * low};
}

std::string reflex_flags(MarginMode mode, const ReflexThresholdValues& t) {
  return std::string("--reflex-margin-mode ") + margin_mode_name(mode) +
         " --reflex-high-agent-margin " + shortest(t.high_agent) + " --reflex-high-role-margin " +
         shortest(t.high_role) + " --reflex-low-agent-margin " + shortest(t.low_agent) +
         " --reflex-low-role-margin " + shortest(t.low_role);
}

Json CalibrationCandidate::to_json() const {
  return {{"high_multiplier", high_multiplier},
          {"low_multiplier", low_multiplier},
          {"score", score},
          {"accepted_direct_count", accepted_direct},
          {"high_bad_count", high_bad},
          {"low_accepted_count", low_accepted},
          {"insufficient_margin_count", insufficient_margin},
          {"class_counts", class_counts}};
}

std::string classify_example(const Json& example, MarginMode mode, double high, double low) {
  const Json& agent = at(example, "route", "agent_margin");
  const Json& role = at(example, "route", "role_margin");
  if (!agent.is_number() || !role.is_number()) return "missing";
  const double a = agent.get<double>(), r = role.get<double>();
  const ReflexThresholdValues t = thresholds_for(mode, high, low);
  if (a < t.low_agent || r < t.low_role) return "low";
  if (a >= t.high_agent && r >= t.high_role) return "high";
  return "medium";
}

CalibrationCandidate evaluate_thresholds(const std::vector<Json>& examples, MarginMode mode,
                                         double high, double low) {
  CalibrationCandidate c;
  c.high_multiplier = high;
  c.low_multiplier = low;
  for (const Json& e : examples) {
    const std::string cls = classify_example(e, mode, high, low);
    const Json& status = at(e, "outcome", "verifier_status");
    const bool accepted = status == "accepted";
    const bool bad =
        status == "rejected" || status == "failed" || status == "revise" || status == "revised";
    ++c.class_counts[cls];
    if (cls == "high" && accepted) ++c.accepted_direct;
    if (cls == "high" && bad) ++c.high_bad;
    if (cls == "low" && accepted) ++c.low_accepted;
    if (cls == "missing") ++c.insufficient_margin;
  }
  c.score = static_cast<double>(c.accepted_direct) * 1.0 - static_cast<double>(c.high_bad) * 2.0 -
            static_cast<double>(c.low_accepted) * 0.25 -
            static_cast<double>(c.insufficient_margin) * 0.5;
  return c;
}

Result<std::vector<CalibrationCandidate>> sweep_thresholds(const std::vector<Json>& examples,
                                                           const CalibrationOptions& opts) {
  TRINITY_ASSIGN_OR_RETURN(auto highs, normalize_multipliers(opts.high_multipliers, "high"));
  TRINITY_ASSIGN_OR_RETURN(auto lows, normalize_multipliers(opts.low_multipliers, "low"));
  std::vector<CalibrationCandidate> out;
  for (double h : highs)
    for (double l : lows) out.push_back(evaluate_thresholds(examples, opts.margin_mode, h, l));
  std::stable_sort(out.begin(), out.end(), [](const auto& x, const auto& y) {
    if (x.score != y.score) return x.score > y.score;
    if (x.high_multiplier != y.high_multiplier) return x.high_multiplier < y.high_multiplier;
    return x.low_multiplier < y.low_multiplier;
  });
  return out;
}

Result<Json> calibrate_reflex(const std::vector<Json>& examples, const CalibrationOptions& opts,
                              const std::string& fitness_path) {
  TRINITY_ASSIGN_OR_RETURN(std::vector<CalibrationCandidate> candidates,
                           sweep_thresholds(examples, opts));
  const bool ok = !examples.empty() && !candidates.empty();
  Json list = Json::array();
  for (const auto& c : candidates) list.push_back(c.to_json());
  Json report = {{"schema_version", kCalibrationReportSchema},
                 {"fitness_path", fitness_path},
                 {"record_count", examples.size()},
                 {"margin_mode", margin_mode_name(opts.margin_mode)},
                 {"candidate_count", candidates.size()},
                 {"recommended_thresholds", nullptr},
                 {"recommended_score", nullptr},
                 {"recommended_flags", nullptr},
                 {"status", ok ? "ok" : "insufficient_evidence"},
                 {"status_reason", ok ? Json() : Json("no_examples_or_candidates")},
                 {"candidates", list}};
  if (!candidates.empty()) {
    const CalibrationCandidate& best = candidates.front();
    report["recommended_thresholds"] = thresholds_json(best, opts.margin_mode);
    report["recommended_score"] = best.score;
    report["recommended_flags"] =
        reflex_flags(opts.margin_mode,
                     thresholds_for(opts.margin_mode, best.high_multiplier, best.low_multiplier));
  }
  return report;
}

}  // namespace trinity::train
