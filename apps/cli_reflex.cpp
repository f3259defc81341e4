// The --reflex-* flags shared by run, serve and eval.
#include "cli_common.h"

namespace trinity::cli {

void add_reflex_options(CLI::App* sub, ReflexFlags& f) {
  sub->add_flag("--no-reflex", f.disabled, "Disable the confidence reflex");
  sub->add_option("--reflex-margin-mode", f.mode,
                  "Reflex thresholds: profile_floor (default; low = the profile's floors, high = "
                  "4x) or absolute (high 1.0/1.0, low 0.1/0.1)")
      ->check(CLI::IsMember({"profile_floor", "absolute"}));
  sub->add_option("--reflex-agent-floor", f.agent_floor,
                  "profile_floor mode: the agent-margin floor (default: the profile's)");
  sub->add_option("--reflex-role-floor", f.role_floor,
                  "profile_floor mode: the role-margin floor (default: the profile's)");
  sub->add_option("--reflex-high-agent-margin", f.high_agent,
                  "Agent margin at or above which a route is high confidence (>= 0)");
  sub->add_option("--reflex-high-role-margin", f.high_role,
                  "Role margin at or above which a route is high confidence (>= 0)");
  sub->add_option("--reflex-low-agent-margin", f.low_agent,
                  "Agent margin below which a route is low confidence (>= 0)");
  sub->add_option("--reflex-low-role-margin", f.low_role,
                  "Role margin below which a route is low confidence (>= 0)");
  sub->add_option("--reflex-missing-margin", f.missing_margin,
                  "Class of a route without margins: low, medium (default) or high")
      ->check(CLI::IsMember({"low", "medium", "high"}));
}

Result<coord::ReflexConfig> ReflexFlags::to_config() const {
  coord::ReflexConfig c;
  c.enabled = !disabled;
  TRINITY_ASSIGN_OR_RETURN(c.mode, coord::parse_reflex_mode(mode));
  TRINITY_ASSIGN_OR_RETURN(c.missing_margin, coord::parse_confidence_band(missing_margin));
  c.agent_floor = agent_floor;
  c.role_floor = role_floor;
  c.high_agent = high_agent;
  c.high_role = high_role;
  c.low_agent = low_agent;
  c.low_role = low_role;
  TRINITY_RETURN_IF_ERROR(c.validate());
  return c;
}

}  // namespace trinity::cli
