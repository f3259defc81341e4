// Runtime profiles: named, listable ways to run the forward pass (`trinity profiles`,
// `--profile`). Each profile names a backend; its label is derived from what that backend
// actually dispatches to on this machine, never from a per-backend list.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/engine.h"

namespace trinity {

struct RuntimeProfile {
  std::string name;     // "reference", "cpu", "cuda"
  std::string backend;  // the backend family: "reference", "cpu", "cuda"
  std::string description;
  double agent_margin_floor = 0.24;  // default margin floors for evals (a profile may override)
  double role_margin_floor = 1.06;
  bool is_default = false;
  // Snapshot fixtures of the evals for this profile: fixtures/runtime_profiles/<name>/.
  std::string fixture_dir() const { return "fixtures/runtime_profiles/" + name; }
};

// Every profile, the default ("cpu") first.
const std::vector<RuntimeProfile>& runtime_profiles();
const std::string& default_profile_name();
Result<RuntimeProfile> find_runtime_profile(const std::string& name);

// Whether the profile can run in this binary on this machine; the reason when it cannot.
Status profile_available(const RuntimeProfile& p);

// The backend label (e.g. "cpu:onednn-brg:avx512_core_amx_bf16+kernels-avx512"), derived from
// the backend's dispatch on this machine without loading a model. For a loaded engine, its
// backend_label() adds the model's compute dtype.
std::string profile_backend_label(const RuntimeProfile& p);

// The engine of a profile ("" = the default). Errors name the profile and the reason.
Result<std::unique_ptr<ForwardEngine>> make_engine(const std::string& profile,
                                                   std::shared_ptr<const Qwen3Weights> w,
                                                   const EngineOptions& opt = {});

}  // namespace trinity
