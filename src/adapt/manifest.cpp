#include "adapt/manifest.h"

#include <ctime>

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

Result<std::optional<std::string>> nullable_string(const Json& obj, const std::string& key,
                                                   const std::string& ctx) {
  TRINITY_ASSIGN_OR_RETURN(const Json* v, json_field(obj, key, ctx));
  if (v->is_null()) return std::optional<std::string>();
  if (!v->is_string()) return parse_error(ctx + ": field '" + key + "' must be a string or null");
  return std::optional<std::string>(v->get<std::string>());
}

OrderedJson nullable(const std::optional<std::string>& s) {
  return s ? OrderedJson(*s) : OrderedJson(nullptr);
}

Result<ManifestEntry> parse_entry(const Json& j, const std::string& ctx) {
  ManifestEntry e;
  if (!j.is_object()) return parse_error(ctx + ": expected a JSON object");
  for (const auto& k : manifest_entry_required_keys())
    TRINITY_RETURN_IF_ERROR(json_field(j, k, ctx).status());
  TRINITY_ASSIGN_OR_RETURN(e.index, json_int(j, "index", ctx));
  TRINITY_ASSIGN_OR_RETURN(e.path, json_string(j, "path", ctx));
  TRINITY_ASSIGN_OR_RETURN(e.artifact_key, json_string(j, "artifact_key", ctx));
  TRINITY_ASSIGN_OR_RETURN(e.shape, int_list(j, "shape", ctx));
  TRINITY_ASSIGN_OR_RETURN(e.type, json_string(j, "type", ctx));
  TRINITY_ASSIGN_OR_RETURN(e.source_type, json_string(j, "source_type", ctx));
  TRINITY_ASSIGN_OR_RETURN(e.svd_compute_type, json_string(j, "svd_compute_type", ctx));
  TRINITY_ASSIGN_OR_RETURN(e.status, json_string(j, "status", ctx));
  TRINITY_ASSIGN_OR_RETURN(e.offset_start, json_int(j, "offset_start", ctx));
  TRINITY_ASSIGN_OR_RETURN(e.offset_end, json_int(j, "offset_end", ctx));
  TRINITY_ASSIGN_OR_RETURN(e.singular_values, json_int(j, "singular_values", ctx));
  TRINITY_ASSIGN_OR_RETURN(e.checkpoint_path, json_string(j, "checkpoint_path", ctx));
  TRINITY_ASSIGN_OR_RETURN(auto sha, nullable_string(j, "checkpoint_sha256", ctx));
  e.checkpoint_sha256 = sha.value_or("");
  TRINITY_ASSIGN_OR_RETURN(e.decompose_elapsed_ms, json_number(j, "decompose_elapsed_ms", ctx));
  TRINITY_ASSIGN_OR_RETURN(e.reconstruct_elapsed_ms, json_number(j, "reconstruct_elapsed_ms", ctx));
  TRINITY_ASSIGN_OR_RETURN(auto u, nullable_string(j, "u_backend", ctx));
  TRINITY_ASSIGN_OR_RETURN(auto s, nullable_string(j, "s_backend", ctx));
  TRINITY_ASSIGN_OR_RETURN(auto v, nullable_string(j, "v_backend", ctx));
  TRINITY_ASSIGN_OR_RETURN(auto a, nullable_string(j, "adapted_backend", ctx));
  e.u_backend = u.value_or(""), e.s_backend = s.value_or(""), e.v_backend = v.value_or("");
  e.adapted_backend = a.value_or("");
  TRINITY_ASSIGN_OR_RETURN(e.error, nullable_string(j, "error", ctx));
  if (e.offset_end < e.offset_start) return parse_error(ctx + ": offset_end < offset_start");
  return e;
}

}  // namespace

const std::vector<std::string>& manifest_required_keys() {
  static const std::vector<std::string> k = {"artifact_version",
                                             "status",
                                             "created_at",
                                             "updated_at",
                                             "base_model_repo",
                                             "bumblebee_module",
                                             "architecture",
                                             "xla_target",
                                             "export_backend",
                                             "source_vector_path",
                                             "source_vector_tensor",
                                             "source_vector_shape",
                                             "source_vector_sha256",
                                             "scale_offset_count",
                                             "router_head_shape",
                                             "router_head_artifact",
                                             "router_head_tensor_key",
                                             "router_head_sha256",
                                             "adapted_tensors_artifact",
                                             "artifact_layout",
                                             "selected_tensor_count",
                                             "selected_singular_value_count",
                                             "export_complete",
                                             "source_split",
                                             "split",
                                             "selected_tensors"};
  return k;
}

const std::vector<std::string>& manifest_entry_required_keys() {
  static const std::vector<std::string> k = {"index",
                                             "path",
                                             "artifact_key",
                                             "shape",
                                             "type",
                                             "source_type",
                                             "svd_compute_type",
                                             "status",
                                             "offset_start",
                                             "offset_end",
                                             "singular_values",
                                             "checkpoint_path",
                                             "checkpoint_sha256",
                                             "decompose_elapsed_ms",
                                             "reconstruct_elapsed_ms",
                                             "u_backend",
                                             "s_backend",
                                             "v_backend",
                                             "adapted_backend",
                                             "error"};
  return k;
}

const char* nx_type_name(DType t) {
  switch (t) {
    case DType::kF32:
      return "f32";
    case DType::kBF16:
      return "bf16";
    case DType::kF16:
      return "f16";
    case DType::kF64:
      return "f64";
    default:
      return "unsupported";
  }
}

std::optional<DType> dtype_from_nx_type(const std::string& s) {
  if (s == "f32") return DType::kF32;
  if (s == "bf16") return DType::kBF16;
  if (s == "f16") return DType::kF16;
  if (s == "f64") return DType::kF64;
  return std::nullopt;
}

std::string utc_now_iso8601() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
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
  j["source_vector_tensor"] = nullable(m.source_vector_tensor);
  j["source_vector_shape"] = m.source_vector_shape;
  j["source_vector_sha256"] = m.source_vector_sha256;
  j["scale_offset_count"] = m.scale_offset_count;
  j["router_head_shape"] = m.router_head_shape;
  j["router_head_artifact"] = m.router_head_artifact;
  j["router_head_tensor_key"] = m.router_head_tensor_key;
  j["router_head_sha256"] = m.router_head_sha256;
  j["adapted_tensors_artifact"] = m.adapted_tensors_artifact;
  j["artifact_layout"] = m.artifact_layout;
  j["selected_tensor_count"] = m.selected_tensor_count;
  j["selected_singular_value_count"] = m.selected_singular_value_count;
  j["export_complete"] = m.export_complete;
  j["source_split"] = {{"scale_count", m.scale_offset_count},
                       {"hidden_size", m.hidden_size},
                       {"output_count", m.output_count}};
  j["split"] = {{"scale_count", m.scale_offset_count}, {"head_count", m.head_count}};
  j["layer"] = m.layer;
  OrderedJson list = OrderedJson::array();
  for (const ManifestEntry& e : m.selected_tensors) {
    OrderedJson x;
    x["index"] = e.index;
    x["path"] = e.path;
    x["artifact_key"] = e.artifact_key;
    x["shape"] = e.shape;
    x["type"] = e.type;
    x["source_type"] = e.source_type;
    x["svd_compute_type"] = e.svd_compute_type;
    x["status"] = e.status;
    x["offset_start"] = e.offset_start;
    x["offset_end"] = e.offset_end;
    x["singular_values"] = e.singular_values;
    x["checkpoint_path"] = e.checkpoint_path;
    x["checkpoint_sha256"] =
        e.checkpoint_sha256.empty() ? OrderedJson(nullptr) : OrderedJson(e.checkpoint_sha256);
    x["decompose_elapsed_ms"] = e.decompose_elapsed_ms;
    x["reconstruct_elapsed_ms"] = e.reconstruct_elapsed_ms;
    auto opt = [](const std::string& s) {
      return s.empty() ? OrderedJson(nullptr) : OrderedJson(s);
    };
    x["u_backend"] = opt(e.u_backend);
    x["s_backend"] = opt(e.s_backend);
    x["v_backend"] = opt(e.v_backend);
    x["adapted_backend"] = opt(e.adapted_backend);
    x["error"] = nullable(e.error);
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
  for (const auto& k : manifest_required_keys())
    if (!j.contains(k)) return parse_error(what + ": required key '" + k + "' is missing");
  Manifest m;
  const std::string& c = what;
  TRINITY_ASSIGN_OR_RETURN(m.artifact_version, json_int(j, "artifact_version", c));
  TRINITY_ASSIGN_OR_RETURN(m.status, json_string(j, "status", c));
  TRINITY_ASSIGN_OR_RETURN(m.created_at, json_string(j, "created_at", c));
  TRINITY_ASSIGN_OR_RETURN(m.updated_at, json_string(j, "updated_at", c));
  TRINITY_ASSIGN_OR_RETURN(m.base_model_repo, json_string(j, "base_model_repo", c));
  TRINITY_ASSIGN_OR_RETURN(m.bumblebee_module, json_string(j, "bumblebee_module", c));
  TRINITY_ASSIGN_OR_RETURN(m.architecture, json_string(j, "architecture", c));
  TRINITY_ASSIGN_OR_RETURN(m.xla_target, json_string(j, "xla_target", c));
  TRINITY_ASSIGN_OR_RETURN(m.export_backend, json_string(j, "export_backend", c));
  TRINITY_ASSIGN_OR_RETURN(m.source_vector_path, json_string(j, "source_vector_path", c));
  TRINITY_ASSIGN_OR_RETURN(m.source_vector_tensor, nullable_string(j, "source_vector_tensor", c));
  TRINITY_ASSIGN_OR_RETURN(m.source_vector_shape, int_list(j, "source_vector_shape", c));
  TRINITY_ASSIGN_OR_RETURN(m.source_vector_sha256, json_string(j, "source_vector_sha256", c));
  TRINITY_ASSIGN_OR_RETURN(m.scale_offset_count, json_int(j, "scale_offset_count", c));
  TRINITY_ASSIGN_OR_RETURN(m.router_head_shape, int_list(j, "router_head_shape", c));
  TRINITY_ASSIGN_OR_RETURN(m.router_head_artifact, json_string(j, "router_head_artifact", c));
  TRINITY_ASSIGN_OR_RETURN(m.router_head_tensor_key, json_string(j, "router_head_tensor_key", c));
  TRINITY_ASSIGN_OR_RETURN(m.router_head_sha256, json_string(j, "router_head_sha256", c));
  TRINITY_ASSIGN_OR_RETURN(m.adapted_tensors_artifact,
                           json_string(j, "adapted_tensors_artifact", c));
  TRINITY_ASSIGN_OR_RETURN(m.artifact_layout, json_string(j, "artifact_layout", c));
  TRINITY_ASSIGN_OR_RETURN(m.selected_tensor_count, json_int(j, "selected_tensor_count", c));
  TRINITY_ASSIGN_OR_RETURN(m.selected_singular_value_count,
                           json_int(j, "selected_singular_value_count", c));
  TRINITY_ASSIGN_OR_RETURN(m.export_complete, json_bool(j, "export_complete", c));
  const Json& ss = j["source_split"];
  TRINITY_ASSIGN_OR_RETURN(m.hidden_size, json_int(ss, "hidden_size", c + ": source_split"));
  TRINITY_ASSIGN_OR_RETURN(m.output_count, json_int(ss, "output_count", c + ": source_split"));
  TRINITY_ASSIGN_OR_RETURN(int64_t sc, json_int(ss, "scale_count", c + ": source_split"));
  const Json& sp = j["split"];
  TRINITY_ASSIGN_OR_RETURN(m.head_count, json_int(sp, "head_count", c + ": split"));
  TRINITY_ASSIGN_OR_RETURN(int64_t sc2, json_int(sp, "scale_count", c + ": split"));
  if (sc != m.scale_offset_count || sc2 != m.scale_offset_count)
    return parse_error(c + ": split scale_count disagrees with scale_offset_count");
  if (j.contains("layer") && j["layer"].is_number_integer()) m.layer = j["layer"].get<int64_t>();
  const Json& list = j["selected_tensors"];
  if (!list.is_array()) return parse_error(c + ": field 'selected_tensors' must be an array");
  for (size_t i = 0; i < list.size(); ++i) {
    TRINITY_ASSIGN_OR_RETURN(
        ManifestEntry e, parse_entry(list[i], c + ": selected_tensors[" + std::to_string(i) + "]"));
    m.selected_tensors.push_back(std::move(e));
  }
  return m;
}

}  // namespace trinity
