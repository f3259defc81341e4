// The route fields the reference writes into every route_decision event, shared by the
// orchestrator's traces and the eval's (--trace-out, --reflex-trace-out).
#pragma once

#include <optional>
#include <string>

#include "core/json.h"
#include "router/route.h"

namespace trinity::coord {

// Where the routes come from, as the reference's traces name it.
struct ArtifactIdentity {
  std::string artifact_ref;                      // empty: "artifact:<router profile>"
  std::optional<std::string> artifact_revision;  // the pin's revision
  std::optional<std::string> artifact_hash_ref;  // sha256 hex of the bundle's manifest.json
};

// What differs between the orchestrator's route_decision and the eval's.
struct RouteFieldsContext {
  std::string transcript_hash;  // orchestrator: Form B; eval: the router's own
  std::string route_hash;       // orchestrator: map form; eval: the router's own
  std::string confidence_band;
  std::string runtime_profile;
  std::optional<std::string> provider_pool;
  std::string route_path;  // "orchestrator" | "qwen_router_prompt_eval"
  ArtifactIdentity artifact;
};

// The reference's min_margin: the smaller margin, or the one that exists, or null.
OrderedJson min_margin_json(const RouteDecision& d);

// Appends selected_agent_id, selected_role_id, role_name, agent_margin, role_margin,
// min_margin, confidence_band, token_count, transcript_hash, input_hash, route_hash,
// runtime_profile, provider_pool, route_path, artifact_ref, artifact_revision,
// artifact_hash_ref. `role_id` is the role the turn takes before the reflex.
void put_reference_route_fields(OrderedJson& e, const RouteDecision& d, int role_id,
                                const RouteFieldsContext& c);

}  // namespace trinity::coord
