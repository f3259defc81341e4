#include "adapt/python_import.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/file_util.h"
#include "core/json.h"
#include "io/safetensors.h"

namespace trinity {
namespace {

using Entry = PythonManifestEntry;

Result<int64_t> get_int(const Json& j, const char* key, const std::string& ctx) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number_integer() ||
      j[key].get<int64_t>() < 0)
    return parse_error(ctx + "." + key + ": must be a non-negative integer");
  return j[key].get<int64_t>();
}

Result<std::string> get_string(const Json& j, const char* key, const std::string& ctx) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string() ||
      j[key].get<std::string>().empty())
    return parse_error(ctx + "." + key + ": must be a non-empty string");
  return j[key].get<std::string>();
}

Result<Entry> parse_entry(const Json& e, const std::string& ctx) {
  Entry out;
  TRINITY_ASSIGN_OR_RETURN(out.parameter, get_string(e, "source_parameter", ctx));
  TRINITY_ASSIGN_OR_RETURN(out.scale_tensor, get_string(e, "scale_tensor", ctx));
  TRINITY_ASSIGN_OR_RETURN(out.offset_start, get_int(e, "offset_start", ctx));
  TRINITY_ASSIGN_OR_RETURN(out.offset_end, get_int(e, "offset_end", ctx));
  TRINITY_ASSIGN_OR_RETURN(out.num_singular_values, get_int(e, "num_singular_values", ctx));
  if (out.offset_end - out.offset_start != out.num_singular_values || out.num_singular_values == 0)
    return parse_error(ctx + ": offset_end - offset_start must equal num_singular_values (> 0)");
  const Json* c = e.contains("component_tensors") ? &e["component_tensors"] : nullptr;
  if (!c || !c->is_object()) return parse_error(ctx + ".component_tensors: must be {u, s, v}");
  TRINITY_ASSIGN_OR_RETURN(out.u, get_string(*c, "u", ctx + ".component_tensors"));
  TRINITY_ASSIGN_OR_RETURN(out.s, get_string(*c, "s", ctx + ".component_tensors"));
  TRINITY_ASSIGN_OR_RETURN(out.v, get_string(*c, "v", ctx + ".component_tensors"));
  return out;
}

Result<const TensorView*> tensor(const SafetensorsFile& f, const std::string& name,
                                 const std::vector<int64_t>& shape) {
  const TensorView* t = f.find(name);
  if (!t) return parse_error(f.path() + ": tensor " + name + " is missing");
  if (!(t->dtype == DType::kF32 || t->dtype == DType::kF64 || t->dtype == DType::kBF16 ||
        t->dtype == DType::kF16))
    return parse_error(f.path() + ": tensor " + name + " must be a float tensor");
  if (!shape.empty() && t->shape != shape)
    return parse_error(f.path() + ": tensor " + name + " has shape " + shape_to_string(t->shape) +
                       ", expected " + shape_to_string(shape));
  return t;
}

// The component tensors must exist with the entry's singular-value count (U [m, k], S [k],
// V [n, k], torch's V, not Vh). They are not needed to rebuild the vector.
Status check_components(const SafetensorsFile& f, const Entry& e) {
  const int64_t k = e.num_singular_values;
  TRINITY_ASSIGN_OR_RETURN(const TensorView* s, tensor(f, e.s, {k}));
  (void)s;
  for (const std::string& name : {e.u, e.v}) {
    TRINITY_ASSIGN_OR_RETURN(const TensorView* t, tensor(f, name, {}));
    if (t->shape.size() != 2 || t->shape[1] != k)
      return parse_error(f.path() + ": tensor " + name + " has shape " + shape_to_string(t->shape) +
                         ", expected [*, " + std::to_string(k) + "]");
  }
  return ok_status();
}

}  // namespace

Result<PythonManifest> parse_python_manifest(const Json& m, const std::string& ctx) {
  if (!m.is_object() || !m.contains("format") || m["format"] != "trinity_sakana_safetensors_export")
    return parse_error(ctx + ": format: must be \"trinity_sakana_safetensors_export\"");
  if (!m.contains("version") || m["version"] != 1) return parse_error(ctx + ": version: must be 1");
  const Json routing = m.contains("routing") ? m["routing"] : Json::object();
  const Json svf = m.contains("svf") ? m["svf"] : Json::object();
  if (!routing.is_object() || !svf.is_object())
    return parse_error(ctx + ": routing and svf must be objects");
  PythonManifest out;
  if (routing.contains("head_tensor")) {
    TRINITY_ASSIGN_OR_RETURN(out.head_tensor,
                             get_string(routing, "head_tensor", ctx + ": routing"));
  }
  const Json* shape = routing.contains("head_shape") ? &routing["head_shape"] : nullptr;
  if (!shape || !shape->is_array() || shape->size() != 2 || !(*shape)[0].is_number_integer() ||
      !(*shape)[1].is_number_integer())
    return parse_error(ctx + ": routing.head_shape: must be [rows, hidden]");
  out.rows = (*shape)[0].get<int64_t>();
  out.hidden = (*shape)[1].get<int64_t>();
  if (out.rows != 10 || out.hidden <= 0 || out.hidden > (int64_t{1} << 20))
    return parse_error(ctx + ": routing.head_shape: must be [10, hidden] (7 agents + 3 roles)");
  TRINITY_ASSIGN_OR_RETURN(out.offset_count, get_int(svf, "scale_parameter_count", ctx + ": svf"));
  TRINITY_ASSIGN_OR_RETURN(int64_t head_start,
                           get_int(routing, "head_offset_start", ctx + ": routing"));
  TRINITY_ASSIGN_OR_RETURN(int64_t head_end,
                           get_int(routing, "head_offset_end", ctx + ": routing"));
  if (out.offset_count > (int64_t{1} << 28) || head_start != out.offset_count ||
      head_end != head_start + out.rows * out.hidden)
    return parse_error(ctx +
                       ": routing.head_offset_start/end must be scale_parameter_count and "
                       "scale_parameter_count + rows * hidden");
  if (!svf.contains("entries") || !svf["entries"].is_array() || svf["entries"].empty())
    return parse_error(ctx + ": svf.entries: must be a non-empty array");
  for (size_t i = 0; i < svf["entries"].size(); ++i) {
    TRINITY_ASSIGN_OR_RETURN(
        Entry e, parse_entry(svf["entries"][i], ctx + ": svf.entries[" + std::to_string(i) + "]"));
    out.entries.push_back(std::move(e));
  }
  std::sort(out.entries.begin(), out.entries.end(),
            [](const Entry& a, const Entry& b) { return a.offset_start < b.offset_start; });
  int64_t next = 0;
  for (const Entry& e : out.entries) {
    if (e.offset_start != next)
      return parse_error(ctx + ": svf.entries: offsets of " + e.parameter + " start at " +
                         std::to_string(e.offset_start) + ", expected " + std::to_string(next) +
                         " (entries must tile 0..scale_parameter_count)");
    next = e.offset_end;
  }
  if (next != out.offset_count)
    return parse_error(ctx + ": svf.entries cover " + std::to_string(next) +
                       " offsets, scale_parameter_count is " + std::to_string(out.offset_count));
  return out;
}

Result<PythonExport> import_python_export(const std::string& dir) {
  const std::filesystem::path root(dir);
  const std::string manifest_path = (root / kPythonManifest).string();
  TRINITY_ASSIGN_OR_RETURN(Json json, load_json_file(manifest_path));
  TRINITY_ASSIGN_OR_RETURN(PythonManifest m, parse_python_manifest(json, manifest_path));
  PythonExport out;
  out.offset_count = m.offset_count;
  out.rows = m.rows;
  out.hidden = m.hidden;
  const int64_t head_start = m.offset_count;
  TRINITY_ASSIGN_OR_RETURN(auto scales,
                           SafetensorsFile::open((root / kPythonScaleOffsets).string()));
  TRINITY_ASSIGN_OR_RETURN(auto head, SafetensorsFile::open((root / kPythonRouterHead).string()));
  TRINITY_ASSIGN_OR_RETURN(auto components,
                           SafetensorsFile::open((root / kPythonComponents).string()));
  out.vector.resize(static_cast<size_t>(head_start + m.rows * m.hidden));
  for (const Entry& e : m.entries) {
    TRINITY_ASSIGN_OR_RETURN(const TensorView* t,
                             tensor(*scales, e.scale_tensor, {e.num_singular_values}));
    tensor_to_f32(*t, out.vector.data() + e.offset_start);
    TRINITY_RETURN_IF_ERROR(check_components(*components, e));
    out.parameters.push_back(e.parameter);
  }
  TRINITY_ASSIGN_OR_RETURN(const TensorView* h, tensor(*head, m.head_tensor, {m.rows, m.hidden}));
  tensor_to_f32(*h, out.vector.data() + head_start);
  for (float x : out.vector)
    if (!std::isfinite(x)) return parse_error(dir + ": the imported vector holds NaN or Inf");
  return out;
}

}  // namespace trinity
