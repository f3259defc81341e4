#include "coord/reflex.h"

#include <cmath>
#include <string_view>

namespace trinity::coord {

const char* band_name(ConfidenceBand b) {
  switch (b) {
    case ConfidenceBand::kHigh:
      return "high";
    case ConfidenceBand::kMedium:
      return "medium";
    case ConfidenceBand::kLow:
      return "low";
  }
  return "medium";
}

const char* action_name(ReflexAction a) {
  switch (a) {
    case ReflexAction::kDirectDispatch:
      return "direct_dispatch";
    case ReflexAction::kNormalDispatch:
      return "normal_dispatch";
    case ReflexAction::kThinkerThenVerifier:
      return "thinker_then_verifier";
  }
  return "normal_dispatch";
}

const char* reflex_mode_name(ReflexMode m) {
  return m == ReflexMode::kAbsolute ? "absolute" : "profile_floor";
}

Result<ReflexMode> parse_reflex_mode(const std::string& s) {
  if (s == "profile_floor") return ReflexMode::kProfileFloor;
  if (s == "absolute") return ReflexMode::kAbsolute;
  return invalid_argument("reflex margin mode must be profile_floor or absolute, got '" + s + "'");
}

Result<ConfidenceBand> parse_confidence_band(const std::string& s) {
  if (s == "low") return ConfidenceBand::kLow;
  if (s == "medium") return ConfidenceBand::kMedium;
  if (s == "high") return ConfidenceBand::kHigh;
  return invalid_argument("confidence class must be low, medium or high, got '" + s + "'");
}

const char* route_confidence_band(const RouteDecision& d) {
  if (!d.agent_margin || !d.role_margin) return "unknown";
  if (*d.agent_margin >= 1.0 && *d.role_margin >= 1.0) return "high";
  if (*d.agent_margin >= 0.1 && *d.role_margin >= 0.1) return "medium";
  return "low";
}

Status ReflexConfig::validate() const {
  const std::pair<const char*, const std::optional<double>*> values[] = {
      {"reflex agent floor", &agent_floor},      {"reflex role floor", &role_floor},
      {"reflex high agent margin", &high_agent}, {"reflex high role margin", &high_role},
      {"reflex low agent margin", &low_agent},   {"reflex low role margin", &low_role}};
  for (const auto& [name, v] : values)
    if (*v && (!std::isfinite(**v) || **v < 0))
      return invalid_argument(std::string(name) + " must be a finite number >= 0");
  return ok_status();
}

OrderedJson ReflexThresholds::to_json() const {
  return OrderedJson{{"high_agent", high_agent}, {"high_role", high_role},
                     {"low_agent", low_agent},   {"low_role", low_role},
                     {"agent_floor", low_agent}, {"role_floor", low_role},
                     {"agent_high", high_agent}, {"role_high", high_role}};
}

ReflexThresholds resolve_thresholds(const ReflexConfig& cfg, const ReflexFloors& profile) {
  ReflexThresholds t;
  if (cfg.mode == ReflexMode::kAbsolute) {
    t = ReflexThresholds{1.0, 1.0, 0.1, 0.1};
  } else {
    t.low_agent = cfg.agent_floor.value_or(profile.agent);
    t.low_role = cfg.role_floor.value_or(profile.role);
    t.high_agent = t.low_agent * cfg.high_multiplier;
    t.high_role = t.low_role * cfg.high_multiplier;
  }
  t.high_agent = cfg.high_agent.value_or(t.high_agent);
  t.high_role = cfg.high_role.value_or(t.high_role);
  t.low_agent = cfg.low_agent.value_or(t.low_agent);
  t.low_role = cfg.low_role.value_or(t.low_role);
  return t;
}

namespace {

ConfidenceBand classify(const RouteDecision& d, const ReflexThresholds& t,
                        const ReflexConfig& cfg) {
  if (std::string_view(route_confidence_band(d)) == "low") return ConfidenceBand::kLow;
  if (!d.agent_margin || !d.role_margin) return cfg.missing_margin;
  if (*d.agent_margin < t.low_agent || *d.role_margin < t.low_role) return ConfidenceBand::kLow;
  if (*d.agent_margin >= t.high_agent && *d.role_margin >= t.high_role)
    return ConfidenceBand::kHigh;
  return ConfidenceBand::kMedium;
}

}  // namespace

ReflexDecision evaluate_reflex(const RouteDecision& d, int role_id, const ReflexThresholds& t,
                               const ReflexConfig& cfg) {
  ReflexDecision r;
  r.enabled = cfg.enabled;
  r.band = classify(d, t, cfg);
  const bool margins = d.agent_margin && d.role_margin;
  switch (r.band) {
    case ConfidenceBand::kHigh:
      r.action = ReflexAction::kDirectDispatch;
      r.reason = "high_confidence";
      break;
    case ConfidenceBand::kMedium:
      r.action = ReflexAction::kNormalDispatch;
      r.reason = "medium_confidence";
      break;
    case ConfidenceBand::kLow:
      r.action = ReflexAction::kThinkerThenVerifier;
      r.reason = margins ? "low_margin" : "missing_margin";
      if (role_id == kRoleThinker) {
        r.next_role_override = kRoleVerifier;
      } else if (role_id != kRoleVerifier) {
        r.next_role_override = kRoleThinker;
      }
      break;
  }
  if (!cfg.enabled) {
    r.action = ReflexAction::kNormalDispatch;
    r.reason = "disabled";
    r.next_role_override.reset();
  }
  return r;
}

}  // namespace trinity::coord
