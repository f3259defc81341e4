#include "train/fitness_score.h"

#include <algorithm>
#include <cmath>

#include "router/route.h"

namespace trinity::train {
namespace {

double clamp(double v, double lo, double hi) {
  return std::min(std::max(v, lo), hi);
}

// The reference's safe_ratio: value / floor for a number, else 0.
double safe_ratio(const Json& v, double floor) {
  return v.is_number() ? v.get<double>() / floor : 0.0;
}

double number_or_zero(const Json& v) {
  return v.is_number() ? v.get<double>() : 0.0;
}

double target_contribution(const Json& observed, const std::optional<double>& target) {
  if (!observed.is_number() || !target || !(*target > 0)) return 0.0;
  return 0.05 * clamp(1.0 - observed.get<double>() / *target, -1.0, 1.0);
}

// Elixir truthiness: everything but nil and false.
bool truthy(const Json& v) {
  return !v.is_null() && !(v.is_boolean() && !v.get<bool>());
}

// The reference's non_negative_integer: a JSON integer >= 0, else 0 (capped at 3 by the caller).
int64_t revisions(const Json& v) {
  if (v.is_number_unsigned()) return static_cast<int64_t>(std::min<uint64_t>(v.get<uint64_t>(), 3));
  if (v.is_number_integer()) return std::max<int64_t>(v.get<int64_t>(), 0);
  return 0;
}

Json optional_number(const std::optional<double>& v) {
  return v ? Json(*v) : Json(nullptr);
}

Result<std::optional<double>> optional_field(const Json& j, const char* key,
                                             const std::string& ctx) {
  if (!j.contains(key) || j[key].is_null()) return std::optional<double>();
  if (!j[key].is_number()) return parse_error(ctx + ": field '" + key + "' must be a number");
  return std::optional<double>(j[key].get<double>());
}

}  // namespace

const char* margin_mode_name(MarginMode m) {
  return m == MarginMode::kAbsolute ? "absolute" : "profile_floor";
}

Result<MarginMode> parse_margin_mode(const std::string& s) {
  if (s == "profile_floor") return MarginMode::kProfileFloor;
  if (s == "absolute") return MarginMode::kAbsolute;
  return invalid_argument("margin mode must be profile_floor or absolute, got '" + s + "'");
}

Status ScoreOptions::validate() const {
  if (!std::isfinite(margin_scale) || !(margin_scale > 0))
    return invalid_argument("margin scale must be a positive number");
  if (!std::isfinite(positive_threshold) || !std::isfinite(negative_threshold) ||
      negative_threshold > positive_threshold)
    return invalid_argument("fitness thresholds: need negative <= positive, got positive=" +
                            std::to_string(positive_threshold) +
                            " negative=" + std::to_string(negative_threshold));
  if ((latency_target_ms && !std::isfinite(*latency_target_ms)) ||
      (cost_target_usd && !std::isfinite(*cost_target_usd)))
    return invalid_argument("latency and cost targets must be finite numbers");
  return ok_status();
}

Json ScoreOptions::to_json() const {
  return {{"margin_mode", margin_mode_name(margin_mode)},
          {"margin_scale", margin_scale},
          {"latency_target_ms", optional_number(latency_target_ms)},
          {"cost_target_usd", optional_number(cost_target_usd)},
          {"positive_threshold", positive_threshold},
          {"negative_threshold", negative_threshold}};
}

Result<ScoreOptions> ScoreOptions::from_json(const Json& j, const std::string& ctx) {
  if (!j.is_object()) return parse_error(ctx + ": score options must be an object");
  ScoreOptions o;
  TRINITY_ASSIGN_OR_RETURN(std::string mode, json_string(j, "margin_mode", ctx));
  auto parsed = parse_margin_mode(mode);
  if (!parsed.ok()) return parsed.status().with_context(ctx);
  o.margin_mode = *parsed;
  TRINITY_ASSIGN_OR_RETURN(o.margin_scale, json_number(j, "margin_scale", ctx));
  TRINITY_ASSIGN_OR_RETURN(o.positive_threshold, json_number(j, "positive_threshold", ctx));
  TRINITY_ASSIGN_OR_RETURN(o.negative_threshold, json_number(j, "negative_threshold", ctx));
  TRINITY_ASSIGN_OR_RETURN(o.latency_target_ms, optional_field(j, "latency_target_ms", ctx));
  TRINITY_ASSIGN_OR_RETURN(o.cost_target_usd, optional_field(j, "cost_target_usd", ctx));
  TRINITY_RETURN_IF_ERROR(o.validate().with_context(ctx));
  return o;
}

ScoreInputs ScoreInputs::from_example(const Json& example) {
  auto get = [&](const char* map, const char* key) {
    if (!example.is_object() || !example.contains(map)) return Json(nullptr);
    const Json& m = example[map];
    return m.is_object() && m.contains(key) ? m[key] : Json(nullptr);
  };
  ScoreInputs in;
  in.verifier_status = get("outcome", "verifier_status");
  in.agent_margin = get("route", "agent_margin");
  in.role_margin = get("route", "role_margin");
  in.revision_count = get("outcome", "revision_count");
  in.observed_latency_ms = get("outcome", "observed_latency_ms");
  in.estimated_cost_usd = get("outcome", "estimated_cost_usd");
  in.budget_exceeded = get("outcome", "budget_exceeded");
  return in;
}

Json ScoreComponents::to_json() const {
  return {{"base", base},         {"verifier", verifier},
          {"margin", margin},     {"margin_strength", margin_strength},
          {"revision", revision}, {"latency", latency},
          {"cost", cost},         {"budget", budget}};
}

double verifier_contribution(const Json& status) {
  if (!status.is_string()) return 0.0;
  const std::string s = status.get<std::string>();
  if (s == "accepted" || s == "ok") return 0.3;
  if (s == "revise" || s == "revised") return -0.2;
  if (s == "rejected" || s == "failed") return -0.35;
  return 0.0;
}

double margin_strength(const Json& agent_margin, const Json& role_margin, const ScoreOptions& o) {
  if (o.margin_mode == MarginMode::kAbsolute) {
    const double m = std::min(number_or_zero(agent_margin), number_or_zero(role_margin));
    return clamp(m / o.margin_scale, 0.0, 1.0);
  }
  const ReflexFloors floors;  // the reference's MarginDefaults: 0.24 / 1.06
  const double ratio =
      std::min(safe_ratio(agent_margin, floors.agent), safe_ratio(role_margin, floors.role));
  return clamp(std::log2(std::max(ratio, 1.0)) / 4.0, 0.0, 1.0);
}

const char* score_label(double score, const ScoreOptions& opts) {
  if (score >= opts.positive_threshold) return "positive";
  if (score <= opts.negative_threshold) return "negative";
  return "neutral";
}

ScoreResult score_v1(const ScoreInputs& in, const ScoreOptions& opts) {
  ScoreResult r;
  ScoreComponents& c = r.components;
  c.verifier = verifier_contribution(in.verifier_status);
  c.margin_strength = margin_strength(in.agent_margin, in.role_margin, opts);
  c.margin = 0.2 * c.margin_strength;
  c.revision = -0.1 * static_cast<double>(std::min<int64_t>(revisions(in.revision_count), 3));
  c.latency = target_contribution(in.observed_latency_ms, opts.latency_target_ms);
  c.cost = target_contribution(in.estimated_cost_usd, opts.cost_target_usd);
  c.budget = truthy(in.budget_exceeded) ? -0.25 : 0.0;
  // The reference sums the terms in its map's key order (base, budget, cost, latency, margin,
  // revision, verifier); the same order gives the same bits.
  const double sum = c.base + c.budget + c.cost + c.latency + c.margin + c.revision + c.verifier;
  r.score = clamp(sum, 0.0, 1.0);
  r.label = score_label(r.score, opts);
  return r;
}

}  // namespace trinity::train
