// Writes a directory in the Python (Sakana) exporter's layout (tests of `import python`): the
// manifest, scale offsets and router head holding `vector` (9 blocks of 1024 offsets, then the
// [10, hidden] head), and small component tensors with the right singular-value count. Entries
// are listed out of order (placed by offset). `patch` is merged into the manifest.
#pragma once

#include <string>
#include <vector>

#include "adapt/python_import.h"
#include "core/file_util.h"
#include "core/json.h"
#include "io/safetensors.h"

namespace trinity {

inline Status write_python_export(const std::string& dir, const std::vector<float>& vector,
                                  int64_t hidden, const Json& patch = Json::object()) {
  static const char* const kParams[9] = {"model.embed_tokens.weight",
                                         "model.layers.26.self_attn.q_proj.weight",
                                         "model.layers.26.self_attn.k_proj.weight",
                                         "model.layers.26.self_attn.v_proj.weight",
                                         "model.layers.26.self_attn.o_proj.weight",
                                         "model.layers.26.mlp.gate_proj.weight",
                                         "model.layers.26.mlp.up_proj.weight",
                                         "model.layers.26.mlp.down_proj.weight",
                                         "lm_head.weight"};
  constexpr int64_t kK = 1024;
  if (vector.size() != static_cast<size_t>(9 * kK + 10 * hidden))
    return invalid_argument("write_python_export: vector length");
  static const std::vector<float> u(4 * kK, 0.5f), s(kK, 1.0f);
  Json entries = Json::array();
  std::vector<TensorToWrite> scales, components;
  for (int i = 8; i >= 0; --i) {
    const std::string p = kParams[i];
    entries.push_back(
        {{"source_parameter", p},
         {"safe_parameter", p},
         {"scale_tensor", "svf.scale_offsets." + p},
         {"component_tensors", {{"u", "svd.U." + p}, {"s", "svd.S." + p}, {"v", "svd.V." + p}}},
         {"offset_start", i * kK},
         {"offset_end", (i + 1) * kK},
         {"num_singular_values", kK},
         {"shape", {kK}}});
    scales.push_back({"svf.scale_offsets." + p,
                      DType::kF32,
                      {kK},
                      vector.data() + static_cast<size_t>(i * kK),
                      kK * sizeof(float)});
    for (const char* c : {"U", "V"})
      components.push_back({std::string("svd.") + c + "." + p,
                            DType::kF32,
                            {4, kK},
                            u.data(),
                            u.size() * sizeof(float)});
    components.push_back({"svd.S." + p, DType::kF32, {kK}, s.data(), kK * sizeof(float)});
  }
  const int64_t head_start = 9 * kK, head_end = head_start + 10 * hidden;
  Json m = {{"format", "trinity_sakana_safetensors_export"},
            {"version", 1},
            {"model", {{"hidden_size", hidden}, {"opt_layer_indices", {26}}}},
            {"routing",
             {{"output_count", 10},
              {"head_type", "linear"},
              {"head_tensor", "trinity.router_head.linear.weight"},
              {"head_shape", {10, hidden}},
              {"head_offset_start", head_start},
              {"head_offset_end", head_end}}},
            {"svf", {{"scale_parameter_count", head_start}, {"entries", entries}}}};
  m.merge_patch(patch);
  TRINITY_RETURN_IF_ERROR(write_file_atomic(dir + "/" + kPythonManifest, m.dump(2) + "\n"));
  TRINITY_RETURN_IF_ERROR(write_safetensors(dir + "/" + kPythonScaleOffsets, scales));
  TRINITY_RETURN_IF_ERROR(write_safetensors(dir + "/" + kPythonComponents, components));
  return write_safetensors(dir + "/" + kPythonRouterHead,
                           {{"trinity.router_head.linear.weight",
                             DType::kF32,
                             {10, hidden},
                             vector.data() + head_start,
                             static_cast<size_t>(10 * hidden) * sizeof(float)}});
}

}  // namespace trinity
