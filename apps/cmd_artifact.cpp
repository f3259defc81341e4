// trinity artifact verify | fetch: check an adapted bundle (and its pin), download a pinned one.
#include <cstdio>
#include <cstdlib>

#include "adapt/artifact.h"
#include "adapt/bundle.h"
#include "cli_common.h"
#include "core/json.h"

namespace trinity::cli {

namespace {

struct VerifyOptions {
  std::string artifact, pin;
  bool json = false;
};

struct FetchCliOptions {
  std::string pin, dest, endpoint;
  bool offline = false;
};

int run_verify(const VerifyOptions& o) {
  const std::string cmd = "artifact verify";
  Json out;
  out["artifact"] = o.artifact;
  if (!o.pin.empty()) {
    auto pin = load_pin(o.pin);
    if (!pin.ok()) return report_error(cmd, pin.status());
    auto checks = check_against_pin(o.artifact, *pin);
    if (!checks.ok()) return report_error(cmd, checks.status());
    std::string bad;
    for (const PinCheck& c : *checks) {
      if (c.state == "ok") continue;
      bad += "\n  " + c.path + ": " + c.state +
             (c.state == "mismatch" ? " (pin " + c.expected + ", file " + c.actual + ")" : "");
    }
    if (!bad.empty())
      return report_error(cmd,
                          mismatch(o.artifact + " does not match the pin " + o.pin + ":" + bad));
    out["pin"] = {
        {"repo_id", pin->repo_id}, {"revision", pin->revision}, {"files", pin->files.size()}};
  }
  auto bundle = load_bundle(o.artifact);
  if (!bundle.ok()) return report_error(cmd, bundle.status());
  for (const std::string& w : bundle->warnings)
    std::fprintf(stderr, "trinity artifact verify: warning: %s\n", w.c_str());
  out["status"] = "ok";
  out["warnings"] = bundle->warnings;
  out["artifact_layout"] = bundle->manifest.artifact_layout;
  out["manifest_sha256"] = bundle->manifest_sha256;
  out["tensors"] = bundle->tensors.size();
  out["hidden_size"] = bundle->hidden;
  if (o.json) {
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf(
        "%s: ok: manifest complete, %zu adapted tensors (%s) and the router head verified "
        "(%sshape, type)%s\n",
        o.artifact.c_str(), bundle->tensors.size(), bundle->manifest.artifact_layout.c_str(),
        bundle->warnings.empty() ? "sha256, " : "sha256 where the manifest has one, ",
        o.pin.empty() ? "" : ", every pinned file matches");
    std::printf("manifest sha256 %s\n", bundle->manifest_sha256.c_str());
  }
  return kExitOk;
}

int run_fetch(const FetchCliOptions& o) {
  const std::string cmd = "artifact fetch";
  auto pin = load_pin(o.pin);
  if (!pin.ok()) return report_error(cmd, pin.status());
  FetchOptions fo;
  fo.endpoint = resolve_hf_endpoint(o.endpoint);
  const char* token = std::getenv("HF_TOKEN");
  if (token) fo.token = token;
  fo.offline = o.offline;
  fo.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  if (!o.offline)
    std::fprintf(stderr, "fetching %s@%s from %s%s\n", pin->repo_id.c_str(), pin->revision.c_str(),
                 fo.endpoint.c_str(), fo.token.empty() ? "" : " (with HF_TOKEN)");
  auto rep = fetch_pinned(*pin, o.dest, fo);
  if (!rep.ok()) return report_error(cmd, rep.status());
  uint64_t bytes = 0;
  for (const auto& r : *rep) bytes += r.bytes;
  std::printf("%s: %zu pinned files verified (%llu bytes downloaded)\n", o.dest.c_str(),
              rep->size(), static_cast<unsigned long long>(bytes));
  return kExitOk;
}

}  // namespace

void register_artifact(CLI::App& app, CommandRegistry& reg) {
  CLI::App* art = app.add_subcommand("artifact", "Verify or download an adapted bundle");
  art->require_subcommand(1);
  auto v = std::make_shared<VerifyOptions>();
  CLI::App* verify = art->add_subcommand("verify", "Verify a bundle (and optionally its pin)");
  verify->add_option("--artifact", v->artifact, "Bundle directory")->required();
  verify->add_option("--pin", v->pin, "Pin file ({version, repo_id, revision, files})");
  verify->add_flag("--json", v->json, "Print a JSON summary");
  reg.add(verify, [v] { return run_verify(*v); });
  auto f = std::make_shared<FetchCliOptions>();
  CLI::App* fetch = art->add_subcommand("fetch", "Download a pinned bundle (HF-compatible)");
  fetch->add_option("--pin", f->pin, "Pin file")->required();
  fetch->add_option("--dest", f->dest, "Destination directory")->required();
  fetch->add_option("--endpoint", f->endpoint,
                    "Endpoint (default: $HF_ENDPOINT or https://huggingface.co)");
  fetch->add_flag("--offline", f->offline, "Only verify the files already in --dest");
  reg.add(fetch, [f] { return run_fetch(*f); });
}

}  // namespace trinity::cli
