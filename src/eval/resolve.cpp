#include "eval/resolve.h"

#include <filesystem>

#include "core/file_util.h"

namespace trinity::eval {

const char* snapshot_source_name(SnapshotSource s) {
  switch (s) {
    case SnapshotSource::kNone:
      return "none";
    case SnapshotSource::kFlag:
      return "--snapshot";
    case SnapshotSource::kProfileFixture:
      return "profile fixture";
  }
  return "?";
}

Result<std::string> profile_snapshot_relpath(const std::string& profile,
                                             const std::string& cases_path) {
  if (profile.empty() || profile == "." || profile == ".." ||
      profile.find_first_of("/\\") != std::string::npos) {
    return invalid_argument("profile name '" + profile + "' is not a plain name");
  }
  const std::string stem = std::filesystem::path(cases_path).stem().string();
  if (stem.empty()) return invalid_argument("cases path '" + cases_path + "' has no file name");
  return "fixtures/runtime_profiles/" + profile + "/" + stem + "_logits.json";
}

Result<SnapshotChoice> resolve_snapshot(const std::string& flag_path, const std::string& profile,
                                        const std::string& cases_path,
                                        const std::vector<std::string>& roots) {
  SnapshotChoice c;
  if (!flag_path.empty()) {
    if (!file_exists(flag_path)) return not_found("--snapshot " + flag_path + ": no such file");
    c.source = SnapshotSource::kFlag;
    c.path = flag_path;
    return c;
  }
  TRINITY_ASSIGN_OR_RETURN(std::string own, profile_snapshot_relpath(profile, cases_path));
  const std::string reference =
      std::filesystem::path(own).parent_path().string() + "/" + kReferenceSnapshotName;
  c.looked_for = own + " or " + reference;
  // Our name under every root first, then the reference's name under every root.
  for (const std::string& rel : {own, reference}) {
    for (const auto& root : roots) {
      const std::string p = root.empty() || root == "." ? rel : join_path(root, rel);
      if (file_exists(p) && !is_directory(p)) {
        c.source = SnapshotSource::kProfileFixture;
        c.path = p;
        return c;
      }
    }
  }
  return c;
}

}  // namespace trinity::eval
