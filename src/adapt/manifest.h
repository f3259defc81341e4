// manifest.json of the reference (Elixir) adapted bundle: the schema, serialization and parsing.
//
// Layouts of a bundle directory (`artifact_layout`):
//   checkpoint_directory (what both exporters write):
//     manifest.json
//     router_head.safetensors                       tensor `trinity_router_head`, [10, hidden] F32
//     checkpoints/000N_<path>.safetensors           one tensor keyed by the entry's artifact_key
//                                                   (= its path); the 7 layer kernels stored
//                                                   [in, out], embedder / LM head [vocab, hidden]
//   single_file:
//     manifest.json, router_head.safetensors, and every adapted tensor in one
//     `adapted_tensors_artifact` (default adapted_tensors.safetensors), keyed by artifact_key.
//
// Reading is lenient where the reference is: only the keys its loader requires
// (manifest_required_keys) must be present and non-null; tensor types are read in both
// spellings ("bf16" and Elixir's inspect form "{:bf, 16}"); timings may be integers or null;
// entries may carry `segments`, reference-only fields and backend labels. Writing uses the
// reference's spelling ("{:bf, 16}") so the Elixir loader accepts what we export.
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
constexpr const char* kAdaptedTensorsFile = "adapted_tensors.safetensors";
constexpr const char* kLayoutCheckpointDirectory = "checkpoint_directory";
constexpr const char* kLayoutSingleFile = "single_file";

struct ManifestEntry {
  int64_t index = 0;  // 1-based
  std::string path, artifact_key;
  OrderedJson segments = OrderedJson::array();  // reference: path segments ([] = split the path)
  std::vector<int64_t> shape;                   // bundle layout
  std::string type, source_type;                // as written: "{:bf, 16}" (or "bf16")
  std::string svd_compute_type;                 // "f32" | "source"
  std::string status = "pending";               // pending | running | complete | failed
  int64_t offset_start = 0, offset_end = 0, singular_values = 0;
  std::string checkpoint_path;    // relative: checkpoints/000N_<path>.safetensors
  std::string checkpoint_sha256;  // empty: not written yet, or absent (null) in the manifest
  std::optional<double> decompose_elapsed_ms, reconstruct_elapsed_ms;  // null until done
  std::string u_backend, s_backend, v_backend, adapted_backend;
  std::string checkpoint_type, decompose_source_type, reconstructed_type_before_cast;
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
  std::string source_vector_tensor;  // "" for .npy vectors (no tensor name)
  std::vector<int64_t> source_vector_shape;
  std::string source_vector_sha256;
  int64_t scale_offset_count = 0;
  std::vector<int64_t> router_head_shape;
  std::string router_head_artifact = kRouterHeadFile;
  std::string router_head_tensor_key = kRouterHeadTensor;
  std::string router_head_sha256;  // optional in the reference: empty when absent
  std::string adapted_tensors_artifact = kAdaptedTensorsFile;
  std::string adapted_tensors_sha256;  // single_file only, optional
  std::string artifact_layout = kLayoutCheckpointDirectory;
  int64_t selected_tensor_count = 0;
  int64_t selected_singular_value_count = 0;
  bool export_complete = false;
  int64_t hidden_size = 0, head_count = 0, output_count = 10;  // source_split / split
  int64_t layer = -1;  // ours; when absent, derived from the entry paths (-1: none found)
  std::vector<ManifestEntry> selected_tensors;
};

// Every top-level key the Elixir loader requires (present and non-null), in its order.
const std::vector<std::string>& manifest_required_keys();
// Every key our exporter writes in a selected_tensors entry (the reference's entry keys).
const std::vector<std::string>& manifest_entry_keys();

OrderedJson manifest_to_json(const Manifest& m);
std::string manifest_to_text(const Manifest& m);  // pretty JSON + newline

// Parses and validates the schema (required keys with their types). Does not look at files or at
// the status; errors name `what` and the field.
Result<Manifest> parse_manifest(const std::string& text, const std::string& what);

// Tensor type names. nx_type_name writes the reference's spelling, Elixir's inspect of an Nx
// type ("{:bf, 16}", "{:f, 32}", "{:f, 16}", "{:f, 64}"); dtype_from_nx_type reads that and the
// short spelling ("bf16", "f32", "f16", "f64"), spaces inside the braces optional.
const char* nx_type_name(DType t);
std::optional<DType> dtype_from_nx_type(const std::string& s);

// The layer number in a bundle path "decoder.blocks.<N>.<...>", or nullopt for other paths.
std::optional<int64_t> layer_from_bundle_path(const std::string& path);

}  // namespace trinity
