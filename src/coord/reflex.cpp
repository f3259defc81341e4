#include "coord/reflex.h"

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

OrderedJson ReflexThresholds::to_json() const {
  return OrderedJson{{"agent_floor", agent_floor},
                     {"role_floor", role_floor},
                     {"agent_high", agent_high},
                     {"role_high", role_high}};
}

ReflexThresholds resolve_thresholds(const ReflexConfig& cfg, const ReflexFloors& profile) {
  ReflexThresholds t;
  t.agent_floor = cfg.agent_floor.value_or(profile.agent);
  t.role_floor = cfg.role_floor.value_or(profile.role);
  t.agent_high = t.agent_floor * cfg.high_multiplier;
  t.role_high = t.role_floor * cfg.high_multiplier;
  return t;
}

ReflexDecision evaluate_reflex(const RouteDecision& d, const ReflexThresholds& t, bool enabled) {
  ReflexDecision r;
  r.enabled = enabled;
  if (!d.agent_margin || !d.role_margin) {
    r.band = ConfidenceBand::kMedium;
    r.reason = "missing_margins";
  } else if (*d.agent_margin < t.agent_floor || *d.role_margin < t.role_floor) {
    r.band = ConfidenceBand::kLow;
    r.reason = "margin_below_floor";
  } else if (*d.agent_margin >= t.agent_high && *d.role_margin >= t.role_high) {
    r.band = ConfidenceBand::kHigh;
    r.reason = "margins_at_or_above_high";
  } else {
    r.band = ConfidenceBand::kMedium;
    r.reason = "margins_between_floor_and_high";
  }
  if (!enabled) {
    r.action = ReflexAction::kNormalDispatch;
    r.reason = "reflex_disabled";
  } else if (r.band == ConfidenceBand::kHigh) {
    r.action = ReflexAction::kDirectDispatch;
  } else if (r.band == ConfidenceBand::kLow) {
    r.action = ReflexAction::kThinkerThenVerifier;
  } else {
    r.action = ReflexAction::kNormalDispatch;
  }
  return r;
}

}  // namespace trinity::coord
