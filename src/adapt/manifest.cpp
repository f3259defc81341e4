#include "adapt/manifest.h"

namespace trinity {

namespace {

Result<std::vector<int64_t>> int_list(const Json& obj, const std::string& key,
                                      const std::string& ctx) {
  TRINITY_ASSIGN_OR_RETURN(const Json* v, json_field(obj, key, ctx));
  if (!v->is_array()) return parse_error(ctx + ": field '" + key + "' must be an array");
  std::vector<int64_t> out;
  for (const Json& x : *v) {
    if (!x.is_number_integer() || x.get<int64_t>() < 0)
      return parse_error(ctx + ": field '" + key + "' must hold non-negative integers");
    out.push_back(x.get<int64_t>());
  }
  return out;
}

const Json* present(const Json& obj, const std::string& key) {
  auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

// An optional string: absent or null -> `fallback`.
Result<std::string> opt_string(const Json& obj, const std::string& key, const std::string& ctx,
                               const std::string& fallback = "") {
  const Json* v = present(obj, key);
  if (!v) return fallback;
  if (!v->is_string()) return parse_error(ctx + ": field '" + key + "' must be a string or null");
  return v->get<std::string>();
}

// An optional number (integer or float): absent or null -> nullopt.
Result<std::optional<double>> opt_number(const Json& obj, const std::string& key,
                                         const std::string& ctx) {
  const Json* v = present(obj, key);
  if (!v) return std::optional<double>();
  if (!v->is_number()) return parse_error(ctx + ": field '" + key + "' must be a number or null");
  return std::optional<double>(v->get<double>());
}

Result<int64_t> opt_int(const Json& obj, const std::string& key, const std::string& ctx,
                        int64_t fallback) {
  if (!present(obj, key)) return fallback;
  return json_int(obj, key, ctx);
}

OrderedJson or_null(const std::string& s) {
  return s.empty() ? OrderedJson(nullptr) : OrderedJson(s);
}
OrderedJson or_null(const std::optional<double>& v) {
  return v ? OrderedJson(*v) : OrderedJson(nullptr);
}

Status check_type_name(const std::string& type, const std::string& key, const std::string& ctx) {
  if (type.empty() || dtype_from_nx_type(type)) return ok_status();
  return parse_error(ctx + ": field '" + key + "' is '" + type +
                     "': expected a tensor type such as \"{:bf, 16}\", \"{:f, 32}\" or \"bf16\"");
}

Result<ManifestEntry> parse_entry(const Json& j, size_t position, const std::string& ctx) {
  ManifestEntry e;
  if (!j.is_object()) return parse_error(ctx + ": expected a JSON object");
  TRINITY_ASSIGN_OR_RETURN(e.index, opt_int(j, "index", ctx, static_cast<int64_t>(position) + 1));
  TRINITY_ASSIGN_OR_RETURN(e.path, json_string(j, "path", ctx));
  TRINITY_ASSIGN_OR_RETURN(e.artifact_key, opt_string(j, "artifact_key", ctx, e.path));
  if (const Json* s = present(j, "segments")) {
    if (!s->is_array()) return parse_error(ctx + ": field 'segments' must be an array or null");
    for (const Json& x : *s)
      if (!x.is_string() && !x.is_number_integer())
        return parse_error(ctx + ": field 'segments' must hold strings and integers");
    e.segments = OrderedJson::parse(s->dump());
  }
  TRINITY_ASSIGN_OR_RETURN(e.shape, int_list(j, "shape", ctx));
  TRINITY_ASSIGN_OR_RETURN(e.type, json_string(j, "type", ctx));
  TRINITY_ASSIGN_OR_RETURN(e.source_type, opt_string(j, "source_type", ctx, e.type));
  TRINITY_ASSIGN_OR_RETURN(e.svd_compute_type, opt_string(j, "svd_compute_type", ctx));
  TRINITY_ASSIGN_OR_RETURN(e.status, opt_string(j, "status", ctx, "complete"));  // as the loader
  TRINITY_ASSIGN_OR_RETURN(e.offset_start, opt_int(j, "offset_start", ctx, 0));
  TRINITY_ASSIGN_OR_RETURN(e.offset_end, opt_int(j, "offset_end", ctx, 0));
  TRINITY_ASSIGN_OR_RETURN(e.singular_values, opt_int(j, "singular_values", ctx, 0));
  TRINITY_ASSIGN_OR_RETURN(e.checkpoint_path, opt_string(j, "checkpoint_path", ctx));
  TRINITY_ASSIGN_OR_RETURN(e.checkpoint_sha256, opt_string(j, "checkpoint_sha256", ctx));
  TRINITY_ASSIGN_OR_RETURN(e.decompose_elapsed_ms, opt_number(j, "decompose_elapsed_ms", ctx));
  TRINITY_ASSIGN_OR_RETURN(e.reconstruct_elapsed_ms, opt_number(j, "reconstruct_elapsed_ms", ctx));
  TRINITY_ASSIGN_OR_RETURN(e.u_backend, opt_string(j, "u_backend", ctx));
  TRINITY_ASSIGN_OR_RETURN(e.s_backend, opt_string(j, "s_backend", ctx));
  TRINITY_ASSIGN_OR_RETURN(e.v_backend, opt_string(j, "v_backend", ctx));
  TRINITY_ASSIGN_OR_RETURN(e.adapted_backend, opt_string(j, "adapted_backend", ctx));
  TRINITY_ASSIGN_OR_RETURN(e.checkpoint_type, opt_string(j, "checkpoint_type", ctx));
  TRINITY_ASSIGN_OR_RETURN(e.decompose_source_type, opt_string(j, "decompose_source_type", ctx));
  TRINITY_ASSIGN_OR_RETURN(e.reconstructed_type_before_cast,
                           opt_string(j, "reconstructed_type_before_cast", ctx));
  if (const Json* err = present(j, "error")) {
    if (!err->is_string()) return parse_error(ctx + ": field 'error' must be a string or null");
    e.error = err->get<std::string>();
  }
  for (const auto& [key, value] :
       {std::pair<const char*, const std::string*>{"type", &e.type},
        {"source_type", &e.source_type},
        {"checkpoint_type", &e.checkpoint_type},
        {"decompose_source_type", &e.decompose_source_type},
        {"reconstructed_type_before_cast", &e.reconstructed_type_before_cast}})
    TRINITY_RETURN_IF_ERROR(check_type_name(*value, key, ctx));
  if (e.offset_end < e.offset_start) return parse_error(ctx + ": offset_end < offset_start");
  return e;
}

Status parse_splits(const Json& j, const std::string& c, Manifest& m) {
  const Json& ss = j["source_split"];
  const Json& sp = j["split"];
  if (!ss.is_object()) return parse_error(c + ": field 'source_split' must be an object");
  if (!sp.is_object()) return parse_error(c + ": field 'split' must be an object");
  TRINITY_ASSIGN_OR_RETURN(m.hidden_size, json_int(ss, "hidden_size", c + ": source_split"));
  TRINITY_ASSIGN_OR_RETURN(m.output_count, json_int(ss, "output_count", c + ": source_split"));
  TRINITY_ASSIGN_OR_RETURN(int64_t sc, json_int(ss, "scale_count", c + ": source_split"));
  TRINITY_ASSIGN_OR_RETURN(m.head_count, json_int(sp, "head_count", c + ": split"));
  TRINITY_ASSIGN_OR_RETURN(int64_t sc2, json_int(sp, "scale_count", c + ": split"));
  if (sc != m.scale_offset_count || sc2 != m.scale_offset_count)
    return parse_error(c + ": split scale_count disagrees with scale_offset_count");
  return ok_status();
}

// The layer: the manifest's own key when present, else the one every layer path names.
Result<int64_t> resolve_layer(const Json& j, const Manifest& m, const std::string& c) {
  if (const Json* l = present(j, "layer")) {
    if (!l->is_number_integer()) return parse_error(c + ": field 'layer' must be an integer");
    return l->get<int64_t>();
  }
  std::optional<int64_t> layer;
  for (const ManifestEntry& e : m.selected_tensors) {
    auto l = layer_from_bundle_path(e.path);
    if (!l) continue;
    if (layer && *layer != *l)
      return parse_error(c + ": selected_tensors adapt two layers (" + std::to_string(*layer) +
                         " and " + std::to_string(*l) + ")");
    layer = l;
  }
  return layer.value_or(-1);
}

}  // namespace

const std::vector<std::string>& manifest_required_keys() {
  static const std::vector<std::string> k = {"artifact_version",
                                             "status",
                                             "selected_tensors",
                                             "adapted_tensors_artifact",
                                             "router_head_artifact",
                                             "router_head_shape",
                                             "artifact_layout",
                                             "selected_tensor_count",
                                             "selected_singular_value_count",
                                             "source_vector_shape",
                                             "source_vector_sha256",
                                             "scale_offset_count",
                                             "router_head_tensor_key",
                                             "base_model_repo",
                                             "bumblebee_module",
                                             "architecture",
                                             "xla_target",
                                             "export_backend",
                                             "source_vector_path",
                                             "source_vector_tensor",
                                             "export_complete",
                                             "source_split",
                                             "split"};
  return k;
}

const std::vector<std::string>& manifest_entry_keys() {
  static const std::vector<std::string> k = {"index",
                                             "path",
                                             "artifact_key",
                                             "segments",
                                             "shape",
                                             "type",
                                             "source_type",
                                             "svd_compute_type",
                                             "status",
                                             "offset_start",
                                             "offset_end",
                                             "singular_values",
                                             "checkpoint_path",
                                             "backend_observed_during_export",
                                             "decompose_elapsed_ms",
                                             "reconstruct_elapsed_ms",
                                             "u_backend",
                                             "s_backend",
                                             "v_backend",
                                             "adapted_backend",
                                             "error",
                                             "checkpoint_sha256"};
  return k;
}

const char* nx_type_name(DType t) {
  switch (t) {
    case DType::kF32:
      return "{:f, 32}";
    case DType::kBF16:
      return "{:bf, 16}";
    case DType::kF16:
      return "{:f, 16}";
    case DType::kF64:
      return "{:f, 64}";
    default:
      return "unsupported";
  }
}

std::optional<DType> dtype_from_nx_type(const std::string& s) {
  std::string k;
  for (char ch : s)
    if (ch != ' ') k += ch;
  if (k == "f32" || k == "{:f,32}") return DType::kF32;
  if (k == "bf16" || k == "{:bf,16}") return DType::kBF16;
  if (k == "f16" || k == "{:f,16}") return DType::kF16;
  if (k == "f64" || k == "{:f,64}") return DType::kF64;
  return std::nullopt;
}

std::optional<int64_t> layer_from_bundle_path(const std::string& path) {
  const std::string pre = "decoder.blocks.";
  if (path.rfind(pre, 0) != 0) return std::nullopt;
  size_t i = pre.size();
  int64_t n = 0;
  const size_t digits_start = i;
  while (i < path.size() && path[i] >= '0' && path[i] <= '9' && i - digits_start < 9)
    n = n * 10 + (path[i++] - '0');
  if (i == digits_start || i >= path.size() || path[i] != '.') return std::nullopt;
  return n;
}

OrderedJson manifest_to_json(const Manifest& m) {
  OrderedJson j;
  j["artifact_version"] = m.artifact_version;
  j["status"] = m.status;
  j["created_at"] = m.created_at;
  j["updated_at"] = m.updated_at;
  j["base_model_repo"] = m.base_model_repo;
  j["bumblebee_module"] = m.bumblebee_module;
  j["architecture"] = m.architecture;
  j["xla_target"] = m.xla_target;
  j["export_backend"] = m.export_backend;
  j["source_vector_path"] = m.source_vector_path;
  j["source_vector_tensor"] = m.source_vector_tensor;
  j["source_vector_shape"] = m.source_vector_shape;
  j["source_vector_sha256"] = m.source_vector_sha256;
  j["scale_offset_count"] = m.scale_offset_count;
  j["router_head_shape"] = m.router_head_shape;
  j["router_head_artifact"] = m.router_head_artifact;
  j["router_head_tensor_key"] = m.router_head_tensor_key;
  j["router_head_sha256"] = or_null(m.router_head_sha256);
  j["adapted_tensors_artifact"] = m.adapted_tensors_artifact;
  if (!m.adapted_tensors_sha256.empty()) j["adapted_tensors_sha256"] = m.adapted_tensors_sha256;
  j["artifact_layout"] = m.artifact_layout;
  j["selected_tensor_count"] = m.selected_tensor_count;
  j["selected_singular_value_count"] = m.selected_singular_value_count;
  j["export_complete"] = m.export_complete;
  j["source_split"] = {{"scale_count", m.scale_offset_count},
                       {"hidden_size", m.hidden_size},
                       {"output_count", m.output_count}};
  j["split"] = {{"scale_count", m.scale_offset_count}, {"head_count", m.head_count}};
  if (m.layer >= 0) j["layer"] = m.layer;
  OrderedJson list = OrderedJson::array();
  for (const ManifestEntry& e : m.selected_tensors) {
    OrderedJson x;
    x["index"] = e.index;
    x["path"] = e.path;
    x["artifact_key"] = e.artifact_key;
    x["segments"] = e.segments;
    x["shape"] = e.shape;
    x["type"] = e.type;
    x["source_type"] = e.source_type;
    x["svd_compute_type"] = e.svd_compute_type;
    x["status"] = e.status;
    x["offset_start"] = e.offset_start;
    x["offset_end"] = e.offset_end;
    x["singular_values"] = e.singular_values;
    x["checkpoint_path"] = e.checkpoint_path;
    x["backend_observed_during_export"] = nullptr;
    x["decompose_elapsed_ms"] = or_null(e.decompose_elapsed_ms);
    x["reconstruct_elapsed_ms"] = or_null(e.reconstruct_elapsed_ms);
    x["u_backend"] = or_null(e.u_backend);
    x["s_backend"] = or_null(e.s_backend);
    x["v_backend"] = or_null(e.v_backend);
    x["adapted_backend"] = or_null(e.adapted_backend);
    x["error"] = e.error ? OrderedJson(*e.error) : OrderedJson(nullptr);
    x["checkpoint_sha256"] = or_null(e.checkpoint_sha256);
    if (!e.decompose_source_type.empty()) x["decompose_source_type"] = e.decompose_source_type;
    if (!e.reconstructed_type_before_cast.empty())
      x["reconstructed_type_before_cast"] = e.reconstructed_type_before_cast;
    if (!e.checkpoint_type.empty()) x["checkpoint_type"] = e.checkpoint_type;
    list.push_back(std::move(x));
  }
  j["selected_tensors"] = std::move(list);
  return j;
}

std::string manifest_to_text(const Manifest& m) {
  return manifest_to_json(m).dump(2) + "\n";
}

Result<Manifest> parse_manifest(const std::string& text, const std::string& what) {
  TRINITY_ASSIGN_OR_RETURN(Json j, parse_json(text, what));
  if (!j.is_object()) return parse_error(what + ": manifest must be a JSON object");
  for (const auto& k : manifest_required_keys()) {
    if (!j.contains(k)) return parse_error(what + ": required key '" + k + "' is missing");
    if (j[k].is_null() && k != "source_vector_tensor")  // older trinity bundles wrote null there
      return parse_error(what + ": required key '" + k + "' is null");
  }
  Manifest m;
  const std::string& c = what;
  TRINITY_ASSIGN_OR_RETURN(m.artifact_version, json_int(j, "artifact_version", c));
  TRINITY_ASSIGN_OR_RETURN(m.status, json_string(j, "status", c));
  TRINITY_ASSIGN_OR_RETURN(m.created_at, opt_string(j, "created_at", c));
  TRINITY_ASSIGN_OR_RETURN(m.updated_at, opt_string(j, "updated_at", c));
  TRINITY_ASSIGN_OR_RETURN(m.base_model_repo, json_string(j, "base_model_repo", c));
  TRINITY_ASSIGN_OR_RETURN(m.bumblebee_module, json_string(j, "bumblebee_module", c));
  TRINITY_ASSIGN_OR_RETURN(m.architecture, json_string(j, "architecture", c));
  TRINITY_ASSIGN_OR_RETURN(m.xla_target, json_string(j, "xla_target", c));
  TRINITY_ASSIGN_OR_RETURN(m.export_backend, json_string(j, "export_backend", c));
  TRINITY_ASSIGN_OR_RETURN(m.source_vector_path, json_string(j, "source_vector_path", c));
  TRINITY_ASSIGN_OR_RETURN(m.source_vector_tensor, opt_string(j, "source_vector_tensor", c));
  TRINITY_ASSIGN_OR_RETURN(m.source_vector_shape, int_list(j, "source_vector_shape", c));
  TRINITY_ASSIGN_OR_RETURN(m.source_vector_sha256, json_string(j, "source_vector_sha256", c));
  TRINITY_ASSIGN_OR_RETURN(m.scale_offset_count, json_int(j, "scale_offset_count", c));
  TRINITY_ASSIGN_OR_RETURN(m.router_head_shape, int_list(j, "router_head_shape", c));
  TRINITY_ASSIGN_OR_RETURN(m.router_head_artifact, json_string(j, "router_head_artifact", c));
  TRINITY_ASSIGN_OR_RETURN(m.router_head_tensor_key, json_string(j, "router_head_tensor_key", c));
  TRINITY_ASSIGN_OR_RETURN(m.router_head_sha256, opt_string(j, "router_head_sha256", c));
  TRINITY_ASSIGN_OR_RETURN(m.adapted_tensors_artifact,
                           json_string(j, "adapted_tensors_artifact", c));
  TRINITY_ASSIGN_OR_RETURN(m.adapted_tensors_sha256, opt_string(j, "adapted_tensors_sha256", c));
  TRINITY_ASSIGN_OR_RETURN(m.artifact_layout, json_string(j, "artifact_layout", c));
  TRINITY_ASSIGN_OR_RETURN(m.selected_tensor_count, json_int(j, "selected_tensor_count", c));
  TRINITY_ASSIGN_OR_RETURN(m.selected_singular_value_count,
                           json_int(j, "selected_singular_value_count", c));
  TRINITY_ASSIGN_OR_RETURN(m.export_complete, json_bool(j, "export_complete", c));
  TRINITY_RETURN_IF_ERROR(parse_splits(j, c, m));
  const Json& list = j["selected_tensors"];
  if (!list.is_array()) return parse_error(c + ": field 'selected_tensors' must be an array");
  for (size_t i = 0; i < list.size(); ++i) {
    TRINITY_ASSIGN_OR_RETURN(
        ManifestEntry e,
        parse_entry(list[i], i, c + ": selected_tensors[" + std::to_string(i) + "]"));
    m.selected_tensors.push_back(std::move(e));
  }
  TRINITY_ASSIGN_OR_RETURN(m.layer, resolve_layer(j, m, c));
  return m;
}

}  // namespace trinity
