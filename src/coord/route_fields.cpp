#include "coord/route_fields.h"

#include <algorithm>

namespace trinity::coord {

OrderedJson min_margin_json(const RouteDecision& d) {
  if (d.agent_margin && d.role_margin) return std::min(*d.agent_margin, *d.role_margin);
  if (d.agent_margin) return *d.agent_margin;
  if (d.role_margin) return *d.role_margin;
  return nullptr;
}

void put_reference_route_fields(OrderedJson& e, const RouteDecision& d, int role_id,
                                const RouteFieldsContext& c) {
  e["selected_agent_id"] = d.agent_id;
  e["selected_role_id"] = role_id;
  e["role_name"] = role_name(role_id);
  e["agent_margin"] = opt_json(d.agent_margin);
  e["role_margin"] = opt_json(d.role_margin);
  e["min_margin"] = min_margin_json(d);
  e["confidence_band"] = c.confidence_band;
  e["token_count"] = d.token_count;
  e["transcript_hash"] = c.transcript_hash;
  e["input_hash"] = c.transcript_hash;
  e["route_hash"] = c.route_hash;
  e["runtime_profile"] = c.runtime_profile;
  e["provider_pool"] = opt_json(c.provider_pool);
  e["route_path"] = c.route_path;
  e["artifact_ref"] =
      c.artifact.artifact_ref.empty() ? "artifact:" + c.runtime_profile : c.artifact.artifact_ref;
  e["artifact_revision"] = opt_json(c.artifact.artifact_revision);
  e["artifact_hash_ref"] = opt_json(c.artifact.artifact_hash_ref);
}

}  // namespace trinity::coord
