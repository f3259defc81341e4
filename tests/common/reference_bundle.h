// Test helpers for the Elixir reference's bundle form: rewrites a bundle exported by trinity into
// the manifest the reference's exporter writes (compact JSON, only the keys it writes, its
// values), in either layout, and checks a bundle against the reference loader's rules
// (AdaptedQwenPatch: required keys non-null, artifact_version 1, status complete,
// export_complete true; per entry status complete, checkpoint sha256 when non-null, shape, and a
// `type` equal to Elixir's inspect of the checkpoint tensor's Nx type). Written from the
// reference's documented behaviour, independently of src/adapt.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/file_util.h"
#include "core/json.h"
#include "core/sha256.h"
#include "io/safetensors.h"

namespace trinity::testing {

// Elixir's inspect of the Nx type of a safetensors dtype.
inline std::string nx_inspect(DType t) {
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
      return "?";
  }
}

inline std::vector<std::string> reference_required_keys() {
  return {"artifact_version",
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
}

// The reference loader's verdict on a checkpoint_directory bundle: "" when it loads, else why.
inline std::string reference_loader_verdict(const std::string& dir) {
  auto text = read_file(dir + "/manifest.json");
  if (!text.ok()) return "missing_manifest";
  auto parsed = parse_json(*text, "manifest");
  if (!parsed.ok() || !parsed->is_object()) return "invalid_manifest";
  const Json& m = *parsed;
  for (const std::string& k : reference_required_keys())
    if (!m.contains(k) || m[k].is_null()) return "missing_manifest_key " + k;
  if (!m["selected_tensors"].is_array()) return "invalid_selected_tensors";
  if (m["artifact_version"] != 1) return "unsupported artifact version";
  if (m["status"] != "complete") return "manifest status is incomplete";
  if (m["export_complete"] != true) return "manifest export_complete=false";
  if (m["artifact_layout"] != "checkpoint_directory") return "layout";
  if (m["selected_tensors"].empty()) return "manifest has no selected_tensors";
  for (const Json& e : m["selected_tensors"]) {
    const std::string path = e.value("path", "");
    if (e.value("status", "complete") != "complete") return "incomplete " + path;
    const std::string file = dir + "/" + e.value("checkpoint_path", "");
    if (e.contains("checkpoint_sha256") && e["checkpoint_sha256"].is_string() &&
        !e["checkpoint_sha256"].get<std::string>().empty()) {
      auto sha = sha256_file_hex(file);
      if (!sha.ok() || *sha != e["checkpoint_sha256"]) return path + " sha256 mismatch";
    }
    auto sf = SafetensorsFile::open(file);
    if (!sf.ok()) return path + ": " + sf.status().message();
    const TensorView* t = (*sf)->find(e.value("artifact_key", path));
    if (!t) return path + ": tensor missing";
    if (e.contains("shape") && e["shape"] != Json(t->shape)) return path + " shape mismatch";
    if (e.contains("type") && !e["type"].is_null() && e["type"] != nx_inspect(t->dtype))
      return path + " type mismatch: expected " + e["type"].dump() + ", got " +
             nx_inspect(t->dtype);
  }
  return "";
}

// `[layer_name, "kernel"]`, the form of an Axon parameter path.
inline Json reference_segments(const std::string& path) {
  const size_t dot = path.rfind('.');
  return Json::array({path.substr(0, dot), path.substr(dot + 1)});
}

// Copies trinity's bundle `src` to `dst` with a manifest in the reference's exact form:
// compact JSON; the exporter's keys and values (base_model_repo "Qwen/Qwen3-0.6B", cuda12, EXLA
// backend labels, adapted_tensors.safetensors, integer timings, a null timing, segments, no
// `layer`). `layout` "single_file" writes every adapted tensor into adapted_tensors.safetensors
// instead of checkpoints/.
inline Status make_reference_bundle(const std::string& src, const std::string& dst,
                                    const std::string& layout = "checkpoint_directory") {
  namespace fs = std::filesystem;
  fs::remove_all(dst);
  TRINITY_RETURN_IF_ERROR(make_dirs(dst));
  TRINITY_ASSIGN_OR_RETURN(Json ours, load_json_file(src + "/manifest.json"));
  fs::copy_file(src + "/router_head.safetensors", dst + "/router_head.safetensors");
  Json m = Json::object();
  for (const char* k :
       {"artifact_version", "status", "created_at", "updated_at", "source_vector_path",
        "source_vector_shape", "source_vector_sha256", "scale_offset_count", "router_head_shape",
        "router_head_artifact", "router_head_tensor_key", "router_head_sha256",
        "selected_tensor_count", "selected_singular_value_count", "export_complete", "source_split",
        "split", "bumblebee_module", "architecture"})
    m[k] = ours[k];
  m["base_model_repo"] = "Qwen/Qwen3-0.6B";
  m["xla_target"] = "cuda12";
  m["export_backend"] = "elixir_nx_exla_cuda";
  m["source_vector_tensor"] = "trinity_router_es_vector";
  m["adapted_tensors_artifact"] = "adapted_tensors.safetensors";
  m["artifact_layout"] = layout;
  m["only_index"] = nullptr;
  m["skip_existing"] = true;
  const std::string label = "EXLA.Backend<cuda:0>";
  std::vector<std::shared_ptr<SafetensorsFile>> keep;
  std::vector<TensorToWrite> single;
  Json list = Json::array();
  int i = 0;
  for (const Json& e : ours["selected_tensors"]) {
    const std::string path = e["path"];
    Json x = {{"index", e["index"]},
              {"path", path},
              {"artifact_key", path},
              {"segments", reference_segments(path)},
              {"shape", e["shape"]},
              {"type", e["type"]},
              {"source_type", e["source_type"]},
              {"svd_compute_type", "source"},
              {"status", "complete"},
              {"offset_start", e["offset_start"]},
              {"offset_end", e["offset_end"]},
              {"singular_values", e["singular_values"]},
              {"backend_observed_during_export", nullptr},
              {"decompose_elapsed_ms", 1200 + i},
              {"reconstruct_elapsed_ms", i == 3 ? Json(nullptr) : Json(35 + i)},
              {"u_backend", label},
              {"s_backend", label},
              {"v_backend", label},
              {"adapted_backend", label},
              {"error", nullptr},
              {"decompose_source_type", e["type"]},
              {"reconstructed_type_before_cast", e["type"]},
              {"checkpoint_type", e["type"]}};
    const std::string from = src + "/" + e["checkpoint_path"].get<std::string>();
    if (layout == "single_file") {
      TRINITY_ASSIGN_OR_RETURN(auto sf, SafetensorsFile::open(from));
      const TensorView* t = sf->find(path);
      if (!t) return not_found(from + ": no tensor " + path);
      single.push_back({path, t->dtype, t->shape, t->data, t->nbytes});
      keep.push_back(sf);
    } else {
      x["checkpoint_path"] = e["checkpoint_path"];
      x["checkpoint_sha256"] = e["checkpoint_sha256"];
      TRINITY_RETURN_IF_ERROR(make_dirs(dst + "/checkpoints"));
      fs::copy_file(from, dst + "/" + e["checkpoint_path"].get<std::string>());
    }
    list.push_back(std::move(x));
    ++i;
  }
  m["selected_tensors"] = std::move(list);
  if (layout == "single_file") {
    const std::string file = dst + "/adapted_tensors.safetensors";
    TRINITY_RETURN_IF_ERROR(write_safetensors(file, single));
    TRINITY_ASSIGN_OR_RETURN(std::string sha, sha256_file_hex(file));
    m["adapted_tensors_sha256"] = sha;
  }
  return write_file_atomic(dst + "/manifest.json", m.dump());
}

}  // namespace trinity::testing
