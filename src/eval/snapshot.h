// The eval snapshot file (the reference's schema, read and written unchanged):
//   {"schema_version": 1, "generated_at": "<ISO-8601 UTC>", "cases": [{"id", "agent_id",
//    "role_id", "token_count", "agent_margin", "role_margin", "agent_logits_rounded",
//    "role_logits_rounded", "transcript_hash", "route_hash"}]}
// Reading needs only the keys the reference requires of an entry: id, agent_id, role_id,
// token_count, transcript_hash; margins, rounded logits and route_hash are optional (recorded
// for diagnosis, never compared, as in the reference).
// Written with sorted keys, 2-space indentation and a trailing newline (the reference's
// `json.dumps(..., indent=2, sort_keys=True)` layout), atomically. Logits are rounded to 6
// decimals with elixir_round.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "router/route.h"

namespace trinity::eval {

inline constexpr int kSnapshotSchemaVersion = 1;

struct SnapshotEntry {
  std::string id;
  int agent_id = 0;
  int role_id = 0;
  int64_t token_count = 0;
  std::optional<double> agent_margin;  // null when the router gives none
  std::optional<double> role_margin;
  std::vector<double> agent_logits_rounded;  // empty when absent
  std::vector<double> role_logits_rounded;   // empty when absent
  std::string transcript_hash;
  std::string route_hash;  // empty when absent
};

struct Snapshot {
  int schema_version = kSnapshotSchemaVersion;
  std::string generated_at;
  std::vector<SnapshotEntry> cases;

  const SnapshotEntry* find(const std::string& id) const;
};

// The entry recording a decision (logits rounded to 6 decimals).
SnapshotEntry snapshot_entry(const std::string& id, const RouteDecision& d);

Result<Snapshot> parse_snapshot(const std::string& text, const std::string& what);
Result<Snapshot> load_snapshot_file(const std::string& path);

Json snapshot_to_json(const Snapshot& s);
std::string snapshot_to_text(const Snapshot& s);
Status write_snapshot_file(const std::string& path, const Snapshot& s);

}  // namespace trinity::eval
