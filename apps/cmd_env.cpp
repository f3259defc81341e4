// trinity env check: what this binary can run here (ISA, runtime profiles, libraries) and,
// with --artifact, whether a bundle is complete; --require turns a capability into a verdict.
#include <zlib.h>

#include <cstdio>

#include "adapt/bundle.h"
#include "cli_common.h"
#include "core/curl_http.h"
#include "model/profiles.h"

namespace trinity::cli {
namespace {

struct Options {
  std::string artifact;
  std::vector<std::string> require;
  bool json = false;
};

OrderedJson isa_json() {
  __builtin_cpu_init();
  OrderedJson j;
  j["avx2"] = static_cast<bool>(__builtin_cpu_supports("avx2"));
  j["fma"] = static_cast<bool>(__builtin_cpu_supports("fma"));
  j["avx512f"] = static_cast<bool>(__builtin_cpu_supports("avx512f"));
  j["avx512bw"] = static_cast<bool>(__builtin_cpu_supports("avx512bw"));
  j["avx512vnni"] = static_cast<bool>(__builtin_cpu_supports("avx512vnni"));
  j["avx512bf16"] = static_cast<bool>(__builtin_cpu_supports("avx512bf16"));
  return j;
}

// Fills `out` and returns the failed requirements ("cpu: ...").
std::vector<std::string> check(const Options& o, OrderedJson& out) {
  std::vector<std::string> failed;
  out["isa"] = isa_json();
  OrderedJson profiles = OrderedJson::object();
  for (const RuntimeProfile& p : runtime_profiles()) {
    Status avail = profile_available(p);
    profiles[p.name] = avail.ok() ? OrderedJson(profile_backend_label(p))
                                  : OrderedJson("unavailable: " + avail.message());
  }
  profiles["mock_tiny"] = "mock_tiny";
  out["profiles"] = profiles;
  out["libraries"] = {{"libcurl", curl_version_text()}, {"zlib", zlibVersion()}};
  std::optional<Status> artifact_status;
  if (!o.artifact.empty()) {
    auto bundle = load_bundle(o.artifact);
    artifact_status = bundle.ok() ? ok_status() : bundle.status();
    out["artifact"] = bundle.ok() ? OrderedJson{{"path", o.artifact},
                                                {"status", "complete"},
                                                {"tensors", bundle->tensors.size()},
                                                {"manifest_sha256", bundle->manifest_sha256},
                                                {"warnings", bundle->warnings}}
                                  : OrderedJson{{"path", o.artifact},
                                                {"status", "incomplete"},
                                                {"error", bundle.status().message()}};
  }
  for (const std::string& r : o.require) {
    if (r == "cpu" || r == "cuda") {
      auto p = find_runtime_profile(r);
      Status st = p.ok() ? profile_available(*p) : p.status();
      if (!st.ok()) failed.push_back(r + ": " + st.message());
    } else if (r == "artifact") {
      if (!artifact_status) {
        failed.push_back("artifact: --require artifact needs --artifact DIR");
      } else if (!artifact_status->ok()) {
        failed.push_back("artifact: " + artifact_status->message());
      }
    }
  }
  return failed;
}

int run(const Options& o) {
  OrderedJson out;
  const std::vector<std::string> failed = check(o, out);
  out["required"] = o.require;
  out["status"] = failed.empty() ? "ok" : "failed";
  out["failed"] = failed;
  if (o.json) {
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::string isa;
    for (auto it = out["isa"].begin(); it != out["isa"].end(); ++it)
      if (it.value().get<bool>()) isa += (isa.empty() ? "" : " ") + it.key();
    std::printf("isa       : %s\n", isa.c_str());
    for (auto it = out["profiles"].begin(); it != out["profiles"].end(); ++it)
      std::printf("profile   : %-10s %s\n", it.key().c_str(),
                  it.value().get<std::string>().c_str());
    std::printf("libraries : %s, zlib %s\n", curl_version_text().c_str(), zlibVersion());
    if (out.contains("artifact"))
      std::printf("artifact  : %s %s\n", o.artifact.c_str(),
                  out["artifact"]["status"].get<std::string>().c_str());
  }
  for (const std::string& f : failed)
    std::fprintf(stderr, "trinity env check: required %s\n", f.c_str());
  if (!failed.empty()) return kExitFailure;
  if (!o.json) std::printf("trinity env check: ok\n");
  return kExitOk;
}

}  // namespace

void register_env(CLI::App& app, CommandRegistry& reg) {
  CLI::App* env = app.add_subcommand("env", "Inspect the environment");
  env->require_subcommand(1);
  auto o = std::make_shared<Options>();
  CLI::App* sub = env->add_subcommand(
      "check", "ISA, runtime profiles, libraries and (with --artifact) bundle completeness");
  sub->add_option("--artifact", o->artifact, "Bundle directory to check for completeness");
  sub->add_option("--require", o->require,
                  "Fail (exit 1) unless this holds: cpu (the cpu profile runs here), artifact "
                  "(--artifact is complete), cuda (the cuda profile runs here); repeatable")
      ->check(CLI::IsMember({"cpu", "artifact", "cuda"}));
  sub->add_flag("--json", o->json, "Print a JSON object");
  reg.add(sub, [o] { return run(*o); });
}

}  // namespace trinity::cli
