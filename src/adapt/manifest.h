// manifest.json of the reference (Elixir) adapted bundle: the schema, serialization and parsing.
//
// Layout of a bundle directory:
//   manifest.json
//   router_head.safetensors                         tensor `trinity_router_head`, [10, hidden] F32
//   checkpoints/000N_<path>.safetensors             one tensor keyed by <path>; the 7 layer kernels
//                                                   stored [in, out], embedder / LM head [vocab,
//                                                   hidden]
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/json.h"
#include "core/status.h"

namespace trinity {

constexpr int kArtifactVersion = 1;
constexpr const char* kManifestFile = "manifest.json";
constexpr const char* kRouterHeadFile = "router_head.safetensors";
constexpr const char* kRouterHeadTensor = "trinity_router_head";
constexpr const char* kCheckpointDir = "checkpoints";

struct ManifestEntry {
  int64_t index = 0;  // 1-based
  std::string path, artifact_key;
  std::vector<int64_t> shape;                       // bundle layout
  std::string type, source_type, svd_compute_type;  // "bf16" | "f32" | "f16"; "f32" | "source"
  std::string status = "pending";                   // pending | complete | failed
  int64_t offset_start = 0, offset_end = 0, singular_values = 0;
  std::string checkpoint_path;    // relative: checkpoints/000N_<path>.safetensors
  std::string checkpoint_sha256;  // empty until written
  double decompose_elapsed_ms = 0, reconstruct_elapsed_ms = 0;
  std::string u_backend, s_backend, v_backend, adapted_backend;
  std::optional<std::string> error;
};

struct Manifest {
  int64_t artifact_version = kArtifactVersion;
  std::string status = "pending";  // pending | complete | partial | failed
  std::string created_at, updated_at;
  std::string base_model_repo;
  std::string bumblebee_module = "Bumblebee.Text.Qwen3";
  std::string architecture = "for_causal_language_modeling";
  std::string xla_target, export_backend;
  std::string source_vector_path;
  std::optional<std::string> source_vector_tensor;  // null for .npy vectors
  std::vector<int64_t> source_vector_shape;
  std::string source_vector_sha256;
  int64_t scale_offset_count = 0;
  std::vector<int64_t> router_head_shape;
  std::string router_head_artifact = kRouterHeadFile;
  std::string router_head_tensor_key = kRouterHeadTensor;
  std::string router_head_sha256;
  std::string adapted_tensors_artifact = kCheckpointDir;
  std::string artifact_layout = "checkpoint_directory";
  int64_t selected_tensor_count = 0;
  int64_t selected_singular_value_count = 0;
  bool export_complete = false;
  int64_t hidden_size = 0, head_count = 0, output_count = 10;  // source_split / split
  int64_t layer = -1;                                          // ours: the adapted layer
  std::vector<ManifestEntry> selected_tensors;
};

// Every top-level key the Elixir loader requires, and every key of a selected_tensors entry.
const std::vector<std::string>& manifest_required_keys();
const std::vector<std::string>& manifest_entry_required_keys();

OrderedJson manifest_to_json(const Manifest& m);
std::string manifest_to_text(const Manifest& m);  // pretty JSON + newline

// Parses and validates the schema (every required key with its type). Does not look at files or
// at the status; errors name `what` and the field.
Result<Manifest> parse_manifest(const std::string& text, const std::string& what);

// "bf16" <-> DType (Nx-style type names as the reference writes them).
const char* nx_type_name(DType t);
std::optional<DType> dtype_from_nx_type(const std::string& s);

std::string utc_now_iso8601();

}  // namespace trinity
