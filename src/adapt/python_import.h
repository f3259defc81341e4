// Import of the Python (Sakana) exporter's output directory:
//   trinity_sakana_export_manifest.json   {format: "trinity_sakana_safetensors_export",
//                                          version: 1, routing: {head_tensor, head_shape,
//                                          head_offset_start, head_offset_end, ...},
//                                          svf: {scale_parameter_count, entries: [{
//                                          source_parameter, scale_tensor, component_tensors
//                                          {u, s, v}, offset_start, offset_end,
//                                          num_singular_values}]}}
//   trinity_svf_scale_offsets.safetensors  svf.scale_offsets.<param> [k] per entry
//   trinity_router_head.safetensors        trinity.router_head.linear.weight [10, hidden]
//   trinity_svf_components.safetensors     svd.U/S/V.<param> (headers checked, not loaded)
// into the flat router vector: the nine offset blocks in offset order, then the head row-major.
#pragma once

#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"

namespace trinity {

inline constexpr const char* kPythonManifest = "trinity_sakana_export_manifest.json";
inline constexpr const char* kPythonScaleOffsets = "trinity_svf_scale_offsets.safetensors";
inline constexpr const char* kPythonRouterHead = "trinity_router_head.safetensors";
inline constexpr const char* kPythonComponents = "trinity_svf_components.safetensors";

struct PythonManifestEntry {
  std::string parameter, scale_tensor, u, s, v;  // u, s, v: the component tensor names
  int64_t offset_start = 0, offset_end = 0, num_singular_values = 0;
};

struct PythonManifest {
  std::string head_tensor = "trinity.router_head.linear.weight";
  int64_t rows = 0, hidden = 0, offset_count = 0;
  std::vector<PythonManifestEntry> entries;  // sorted by offset; they tile 0..offset_count
};

// Validates trinity_sakana_export_manifest.json (`what` names it in errors).
Result<PythonManifest> parse_python_manifest(const Json& manifest, const std::string& what);

struct PythonExport {
  std::vector<float> vector;  // offset_count + rows * hidden
  int64_t offset_count = 0, rows = 0, hidden = 0;
  std::vector<std::string> parameters;  // source parameters in offset order
};

// Every error names the file and the field or tensor.
Result<PythonExport> import_python_export(const std::string& dir);

}  // namespace trinity
