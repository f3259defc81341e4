// Loading and verifying an adapted bundle (the reference layout, see manifest.h), and applying it
// to a loaded base model.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "adapt/manifest.h"
#include "core/disk_cache.h"
#include "io/safetensors.h"
#include "model/weights.h"

namespace trinity {

struct BundleTensor {
  ManifestEntry entry;
  std::shared_ptr<SafetensorsFile> file;  // the checkpoint, or the shared single_file artifact
  const TensorView* tensor = nullptr;     // keyed by entry.artifact_key, shape entry.shape (bundle
                                          // layout)
};

struct Bundle {
  std::string dir;
  Manifest manifest;
  std::string manifest_sha256;
  std::vector<float> head;  // [10, hidden] row-major f32
  int64_t hidden = 0;
  std::vector<BundleTensor> tensors;  // in manifest order
  // What was accepted but not verified: a null/absent sha256 (the reference loader skips the
  // check then). Every caller shows these to the user.
  std::vector<std::string> warnings;
};

// Verifies one checkpoint file (checkpoint_directory layout) against its manifest entry: the
// file's sha256 (an absent sha256 adds a line to `warnings`, or fails when `warnings` is null),
// the tensor keyed by the entry's artifact_key, its shape and dtype. Returns the opened file.
// With a cache, a file's sha256 comes from the memo of its identity when it has one
// (sha256_file_memoized); `trinity artifact verify` passes none and hashes everything.
Result<std::shared_ptr<SafetensorsFile>> verify_checkpoint(
    const std::string& bundle_dir, const ManifestEntry& e,
    std::vector<std::string>* warnings = nullptr, const DiskCache* cache = nullptr);

// Reads manifest.json and verifies the whole bundle: required keys, artifact_version 1, status
// complete, export_complete true, every adapted tensor (both layouts: sha256, tensor, shape,
// type) and the router head (sha256, tensor, shape [10, hidden] F32). Each failure is an error
// naming the file/field.
Result<Bundle> load_bundle(const std::string& dir, const DiskCache* cache = nullptr);

// Replaces the base weights with the bundle's adapted ones: the embedding and the seven layer
// matrices (kernels stored [in, out] are transposed back to HF [out, in]). Adapted tensors in
// another dtype than the base are converted to the base dtype. The LM head is left as it is
// (routing never uses it; a tied model keeps the original embedding there). The routing head is
// `bundle.head`. Shapes are checked against the base config.
Status apply_bundle(Qwen3Weights& w, const Bundle& bundle);

}  // namespace trinity
