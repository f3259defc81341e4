// The shape of the TRINITY router head, shared by every layer that touches it.
#pragma once

namespace trinity {

inline constexpr int kNumAgents = 7;  // head rows 0-6: agent slots
inline constexpr int kNumRoles = 3;   // head rows 7-9: Worker, Thinker, Verifier
inline constexpr int kRouterHeadRows = 10;

}  // namespace trinity
