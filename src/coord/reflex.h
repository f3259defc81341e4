// Reflex: router confidence (margins) -> dispatch action.
//   high   (agent margin >= 4x agent floor AND role margin >= 4x role floor) -> direct dispatch
//   low    (either margin below its floor)                                  -> thinker then
//   verifier medium (otherwise, or when a margin is missing)                         -> normal
//   dispatch
// Floors default to the router profile's (0.24 / 1.06 -> high at 0.96 / 4.24) and can be
// overridden per run.
#pragma once

#include <optional>

#include "core/json.h"
#include "router/route.h"

namespace trinity::coord {

enum class ConfidenceBand { kHigh, kMedium, kLow };
enum class ReflexAction { kDirectDispatch, kNormalDispatch, kThinkerThenVerifier };
const char* band_name(ConfidenceBand b);  // "high" | "medium" | "low"
const char* action_name(ReflexAction a);  // "direct_dispatch" | ...

struct ReflexConfig {
  bool enabled = true;
  std::optional<double> agent_floor;  // unset: the router profile's floor
  std::optional<double> role_floor;
  double high_multiplier = 4.0;
};

struct ReflexThresholds {
  double agent_floor = 0.24, role_floor = 1.06, agent_high = 0.96, role_high = 4.24;
  OrderedJson to_json() const;
};

ReflexThresholds resolve_thresholds(const ReflexConfig& cfg, const ReflexFloors& profile);

struct ReflexDecision {
  bool enabled = true;
  ConfidenceBand band = ConfidenceBand::kMedium;
  ReflexAction action = ReflexAction::kNormalDispatch;
  const char* reason = "";
};

// Band from the margins; the action is kNormalDispatch whenever the reflex is disabled.
ReflexDecision evaluate_reflex(const RouteDecision& d, const ReflexThresholds& t, bool enabled);

}  // namespace trinity::coord
