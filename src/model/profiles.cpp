#include "model/profiles.h"

#include "model/engine_cpu.h"
#include "ops/cpu/kernels.h"
#include "ops/cpu/matmul.h"

namespace trinity {

const std::vector<RuntimeProfile>& runtime_profiles() {
  static const std::vector<RuntimeProfile> profiles = [] {
    std::vector<RuntimeProfile> v(4);
    v[0].name = v[0].backend = "cpu";
    v[0].description =
        "fast CPU: oneDNN GEMMs on the stored weights (AMX / AVX512-BF16 / AVX-512 by cpuid) with "
        "bf16 inputs split hi+lo and f32 K/V (~1e-5 of float64), fused kernels, batched routing, "
        "token-prefix KV cache";
    v[0].is_default = true;
    v[1].name = "cpu-bf16";
    v[1].backend = "cpu";
    v[1].description =
        "as cpu, but GEMM inputs and K/V rounded to bf16: ~2x less GEMM work, half the KV memory, "
        "~4e-3 of float64";
    v[2].name = v[2].backend = "reference";
    v[2].description = "scalar twin: f32 activations, f64 dot products; slow, for verification";
    v[3].name = v[3].backend = "cuda";
    v[3].description = "NVIDIA GPU backend (placeholder until the CUDA backend exists)";
    return v;
  }();
  return profiles;
}

const std::string& default_profile_name() {
  return runtime_profiles().front().name;
}

Result<RuntimeProfile> find_runtime_profile(const std::string& name) {
  const std::string& want = name.empty() ? default_profile_name() : name;
  std::string known;
  for (const auto& p : runtime_profiles()) {
    if (p.name == want) return p;
    known += (known.empty() ? "" : ", ") + p.name;
  }
  return invalid_argument("unknown runtime profile '" + want + "' (known: " + known + ")");
}

Status profile_available(const RuntimeProfile& p) {
  if (p.backend == "cuda")
    return unsupported(
        "runtime profile 'cuda': this binary has no CUDA backend yet (use "
        "--profile cpu)");
  return ok_status();
}

std::string profile_backend_label(const RuntimeProfile& p) {
  if (p.backend == "cpu")
    return "cpu:onednn-" + cpu::probe_bf16_matmul_impl() + "+kernels-" + cpu::kernel_isa();
  if (p.backend == "reference") return "reference:scalar-f32";
  Status st = profile_available(p);
  return p.backend + (st.ok() ? "" : ":unavailable");
}

Result<std::unique_ptr<ForwardEngine>> make_engine(const std::string& profile,
                                                   std::shared_ptr<const Qwen3Weights> w,
                                                   const EngineOptions& opt) {
  TRINITY_ASSIGN_OR_RETURN(RuntimeProfile p, find_runtime_profile(profile));
  TRINITY_RETURN_IF_ERROR(profile_available(p));
  if (p.backend == "reference") return make_reference_engine(std::move(w));
  if (p.backend == "cpu") return make_cpu_engine(std::move(w), opt, p.name);
  return internal_error("runtime profile '" + p.name + "' has no engine factory");
}

}  // namespace trinity
