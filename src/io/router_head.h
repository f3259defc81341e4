// The shape of the TRINITY routing head: [kRouterHeadRows, hidden] f32, agent rows then role rows.
// Lives in io: the router-vector format (io/router_vector.h) is the lowest layer that defines the
// head, and adapt (bundle export/load) and router/coord/eval above all read it from here.
#pragma once

namespace trinity {

inline constexpr int kNumAgents = 7;  // head rows 0-6: agent slots
inline constexpr int kNumRoles = 3;   // head rows 7-9: Worker, Thinker, Verifier
inline constexpr int kRouterHeadRows = 10;
static_assert(kNumAgents + kNumRoles == kRouterHeadRows);

}  // namespace trinity
