// trinity profiles: the runtime profiles, their backend labels, floors and fixture dirs.
#include <cstdio>

#include "cli_common.h"
#include "core/json.h"
#include "model/profiles.h"

namespace trinity::cli {

namespace {

int run(bool json) {
  OrderedJson all = OrderedJson::array();
  for (const RuntimeProfile& p : runtime_profiles()) {
    Status avail = profile_available(p);
    OrderedJson j;
    j["name"] = p.name;
    j["default"] = p.is_default;
    j["backend"] = p.backend;
    j["backend_label"] = profile_backend_label(p);
    j["available"] = avail.ok();
    if (!avail.ok()) j["unavailable_reason"] = avail.message();
    j["agent_margin_floor"] = p.agent_margin_floor;
    j["role_margin_floor"] = p.role_margin_floor;
    j["fixture_dir"] = p.fixture_dir();
    j["description"] = p.description;
    all.push_back(j);
  }
  OrderedJson mock;
  mock["name"] = "mock_tiny";
  mock["default"] = false;
  mock["backend"] = "none";
  mock["backend_label"] = "mock_tiny";
  mock["available"] = true;
  mock["agent_margin_floor"] = 0.24;
  mock["role_margin_floor"] = 1.06;
  mock["fixture_dir"] = "fixtures/runtime_profiles/mock_tiny";
  mock["description"] =
      "model-free router for tests and demos (decisions from the transcript hash)";
  all.push_back(mock);
  if (json) {
    std::printf("%s\n", all.dump(2).c_str());
    return kExitOk;
  }
  for (const auto& j : all) {
    std::printf(
        "%-10s %-9s %s\n", j["name"].get<std::string>().c_str(),
        j["available"].get<bool>() ? (j["default"].get<bool>() ? "default" : "available") : "n/a",
        j["backend_label"].get<std::string>().c_str());
    std::printf("           floors agent %.2f role %.2f; fixtures %s\n",
                j["agent_margin_floor"].get<double>(), j["role_margin_floor"].get<double>(),
                j["fixture_dir"].get<std::string>().c_str());
    if (j.contains("unavailable_reason"))
      std::printf("           %s\n", j["unavailable_reason"].get<std::string>().c_str());
  }
  return kExitOk;
}

}  // namespace

void register_profiles(CLI::App& app, CommandRegistry& reg) {
  auto json = std::make_shared<bool>(false);
  CLI::App* sub = app.add_subcommand("profiles", "List the runtime profiles");
  sub->add_flag("--json", *json, "Print a JSON array");
  reg.add(sub, [json] { return run(*json); });
}

}  // namespace trinity::cli
