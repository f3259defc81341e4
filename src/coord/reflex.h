// Reflex: router confidence (margins) -> dispatch action, as the reference's ReflexPolicy.
//
// Thresholds (mode):
//   profile_floor (default)  low = the router profile's floors (0.24 / 1.06, or
//                            --reflex-agent-floor / --reflex-role-floor), high = 4 x low
//   absolute                 high 1.0 / 1.0, low 0.1 / 0.1
//   explicit --reflex-{high,low}-{agent,role}-margin values (>= 0) replace either mode's.
// Class, first rule that applies:
//   the route's confidence band (route_confidence_band) is low  -> low
//   a margin is missing                                          -> missing_margin (medium)
//   agent < low_agent or role < low_role                         -> low
//   agent >= high_agent and role >= high_role                    -> high
//   otherwise                                                    -> medium
// Action: high -> direct_dispatch; medium -> normal_dispatch; low -> thinker_then_verifier
// (the orchestrator dispatches a Thinker on the routed agent, then forces a Verifier). A
// disabled reflex still classifies but always acts normal_dispatch (reason "disabled").
#pragma once

#include <optional>

#include "core/json.h"
#include "router/route.h"

namespace trinity::coord {

enum class ConfidenceBand { kHigh, kMedium, kLow };
enum class ReflexAction { kDirectDispatch, kNormalDispatch, kThinkerThenVerifier };
enum class ReflexMode { kProfileFloor, kAbsolute };
const char* band_name(ConfidenceBand b);  // "high" | "medium" | "low"
const char* action_name(ReflexAction a);  // "direct_dispatch" | ...
const char* reflex_mode_name(ReflexMode m);
Result<ReflexMode> parse_reflex_mode(const std::string& s);          // profile_floor | absolute
Result<ConfidenceBand> parse_confidence_band(const std::string& s);  // low | medium | high

// The reference's route confidence band (RouteDecisionDerivation): "high" when both margins are
// >= 1.0, "medium" when both are >= 0.1, else "low"; "unknown" when a margin is missing.
const char* route_confidence_band(const RouteDecision& d);

struct ReflexConfig {
  bool enabled = true;
  ReflexMode mode = ReflexMode::kProfileFloor;
  std::optional<double> agent_floor;  // profile_floor: replaces the router profile's floor
  std::optional<double> role_floor;
  std::optional<double> high_agent, high_role, low_agent, low_role;  // explicit, both modes
  ConfidenceBand missing_margin = ConfidenceBand::kMedium;
  double high_multiplier = 4.0;
  // Every threshold finite and >= 0.
  Status validate() const;
};

struct ReflexThresholds {
  double high_agent = 0.96, high_role = 4.24, low_agent = 0.24, low_role = 1.06;
  // {high_agent, high_role, low_agent, low_role} plus the older names agent_floor, role_floor,
  // agent_high, role_high.
  OrderedJson to_json() const;
};

ReflexThresholds resolve_thresholds(const ReflexConfig& cfg, const ReflexFloors& profile);

struct ReflexDecision {
  bool enabled = true;
  ConfidenceBand band = ConfidenceBand::kMedium;  // the confidence class
  ReflexAction action = ReflexAction::kNormalDispatch;
  // disabled | high_confidence | medium_confidence | low_margin | missing_margin
  const char* reason = "";
  std::optional<int> next_role_override;  // low and enabled: Thinker -> Verifier, Verifier -> none,
                                          // else Thinker
};

// `role_id` is the role the turn would take before the reflex (after any pending override).
ReflexDecision evaluate_reflex(const RouteDecision& d, int role_id, const ReflexThresholds& t,
                               const ReflexConfig& cfg);

}  // namespace trinity::coord
