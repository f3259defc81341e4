// Which snapshot an eval checks against:
//   1. --snapshot FILE, if given;
//   2. else fixtures/runtime_profiles/<profile>/<cases-stem>_logits.json, then the reference's
//      own name in the same directory, fixtures/runtime_profiles/<profile>/
//      qwen_router_prompt_eval_logits.json: each name under each root in order (the CLI passes
//      the current directory first, then the project source directory), our name under every
//      root before the reference's; the first existing file wins;
//   3. else none (no snapshot check).
// Only the running profile's directory is ever consulted: never another profile's snapshot.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace trinity::eval {

enum class SnapshotSource { kNone, kFlag, kProfileFixture };
const char* snapshot_source_name(SnapshotSource s);  // "none" / "--snapshot" / "profile fixture"

struct SnapshotChoice {
  SnapshotSource source = SnapshotSource::kNone;
  std::string path;        // empty when none
  std::string looked_for;  // the profile-relative paths searched, " or "-joined (for the header)
};

inline constexpr const char* kReferenceSnapshotName = "qwen_router_prompt_eval_logits.json";

// "fixtures/runtime_profiles/<profile>/<stem>_logits.json" (stem = cases file name without its
// last extension). The profile must be a plain name (no '/', not "." or "..").
Result<std::string> profile_snapshot_relpath(const std::string& profile,
                                             const std::string& cases_path);

Result<SnapshotChoice> resolve_snapshot(const std::string& flag_path, const std::string& profile,
                                        const std::string& cases_path,
                                        const std::vector<std::string>& roots);

}  // namespace trinity::eval
