// The artifact identity that route_decision events carry (artifact_ref, artifact_revision,
// artifact_hash_ref), derived from the router source as the reference derives it.
#include <cstdio>
#include <filesystem>

#include "adapt/artifact.h"
#include "cli_common.h"
#include "core/sha256.h"

namespace trinity::cli {
namespace {

// The reference's RefSanitizer: every character outside [A-Za-z0-9._-] becomes '_', runs of
// '_' collapse, '_' is trimmed at both ends.
std::string safe_ref(const std::string& s) {
  std::string out;
  for (char c : s) {
    const bool keep =
        std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    const char k = keep ? c : '_';
    if (k == '_' && !out.empty() && out.back() == '_') continue;
    out.push_back(k);
  }
  while (!out.empty() && out.front() == '_') out.erase(out.begin());
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

std::optional<Pin> find_pin(const std::filesystem::path& root) {
  for (const auto& p : {root / "artifact_pin.json", root.parent_path() / "artifact_pin.json"}) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(p, ec)) continue;
    auto pin = load_pin(p.string());
    if (pin.ok()) return *pin;
    // The identity is descriptive, so a bad pin does not stop the run; it is not silent either.
    std::fprintf(stderr, "trinity: warning: %s is not used for the trace's artifact identity: %s\n",
                 p.c_str(), pin.status().message().c_str());
  }
  return std::nullopt;
}

}  // namespace

coord::ArtifactIdentity artifact_identity(const RouterSource& src, const std::string& profile) {
  coord::ArtifactIdentity id;
  if (profile == "mock_tiny") {
    id.artifact_ref = "artifact:mock-tiny-route-runtime";
    return id;
  }
  if (src.artifact.empty()) {
    const std::string name =
        src.vector.empty() ? profile : std::filesystem::path(src.vector).filename().string();
    id.artifact_ref = "artifact:" + safe_ref(name);
    return id;
  }
  std::filesystem::path root = std::filesystem::path(src.artifact).lexically_normal();
  if (root.filename().empty()) root = root.parent_path();
  auto sha = sha256_file_hex((root / "manifest.json").string());
  if (sha.ok()) id.artifact_hash_ref = *sha;
  const std::optional<Pin> pin = find_pin(root);
  if (pin) id.artifact_revision = pin->revision;
  if (pin && sha.ok()) {
    const bool canonical = pin->repo_id == "nshkrdotcom/trinity-coordinator-adapted-qwen3-0.6b" &&
                           pin->revision == "v1.0.0" && pin->manifest_sha256 == *sha;
    id.artifact_ref = canonical ? "artifact:qwen3-0.6b-sakana"
                                : "artifact:" + safe_ref(pin->repo_id) + ":" +
                                      safe_ref(pin->revision) + ":" + sha->substr(0, 12);
  } else if (sha.ok()) {
    id.artifact_ref = "artifact:" + safe_ref(root.filename().string()) + ":" + sha->substr(0, 12);
  } else {
    id.artifact_ref = "artifact:" + safe_ref(root.filename().string());
  }
  return id;
}

}  // namespace trinity::cli
