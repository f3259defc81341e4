#include "adapt/bundle.h"

#include <algorithm>
#include <cstring>

#include "adapt/svf_targets.h"
#include "core/file_util.h"
#include "core/huge_alloc.h"
#include "core/sha256.h"

namespace trinity {

namespace {

// dst[c, r] = src[r, c] for a [rows, cols] matrix of T, in 64 x 64 tiles (both sides stay in
// cache lines; the per-element loop it replaces was ~20x slower on 1024 x 3072).
template <typename T>
void transpose_tiled(const T* src, int64_t rows, int64_t cols, T* dst) {
  constexpr int64_t kTile = 64;
  for (int64_t r0 = 0; r0 < rows; r0 += kTile)
    for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
      const int64_t r1 = std::min(rows, r0 + kTile), c1 = std::min(cols, c0 + kTile);
      for (int64_t c = c0; c < c1; ++c)
        for (int64_t r = r0; r < r1; ++r) dst[c * rows + r] = src[r * cols + c];
    }
}

// A buffer of `bytes` bytes on huge pages (huge_alloc), freed with its last owner.
std::shared_ptr<uint8_t> huge_buffer(size_t bytes) {
  return std::shared_ptr<uint8_t>(static_cast<uint8_t*>(huge_alloc(bytes)),
                                  [bytes](uint8_t* p) { huge_free(p, bytes); });
}

// Transposes a [rows, cols] matrix of `elem`-byte elements into a new buffer.
std::shared_ptr<uint8_t> transpose_bytes(const uint8_t* src, int64_t rows, int64_t cols,
                                         size_t elem) {
  auto out = huge_buffer(static_cast<size_t>(rows * cols) * elem);
  const bool aligned = reinterpret_cast<uintptr_t>(src) % elem == 0;
  if (aligned && elem == 2) {
    transpose_tiled(reinterpret_cast<const uint16_t*>(src), rows, cols,
                    reinterpret_cast<uint16_t*>(out.get()));
  } else if (aligned && elem == 4) {
    transpose_tiled(reinterpret_cast<const uint32_t*>(src), rows, cols,
                    reinterpret_cast<uint32_t*>(out.get()));
  } else {  // other sizes or an unaligned file: element by element
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        std::memcpy(out.get() + static_cast<size_t>(c * rows + r) * elem,
                    src + static_cast<size_t>(r * cols + c) * elem, elem);
  }
  return out;
}

}  // namespace

namespace {

bool inside_bundle(const std::string& rel) {
  return !rel.empty() && rel[0] != '/' && rel.find("..") == std::string::npos;
}

// sha256 of `file` against `expected`; an empty `expected` (null or absent in the manifest) is
// recorded in `warnings`, or an error when there is nowhere to record it.
Status check_sha256(const std::string& file, const std::string& expected, const std::string& ctx,
                    const std::string& field, std::vector<std::string>* warnings,
                    const DiskCache* cache) {
  if (expected.empty()) {
    if (!warnings) return mismatch(ctx + ": " + field + " is null; cannot verify the file");
    warnings->push_back(ctx + ": " + field +
                        " is null in the manifest; the file's content was not verified");
    return ok_status();
  }
  TRINITY_ASSIGN_OR_RETURN(std::string sha, sha256_file_memoized(file, cache));
  if (sha != expected)
    return mismatch(ctx + ": sha256 mismatch: manifest " + field + " is " + expected +
                    ", file has " + sha);
  return ok_status();
}

// The entry's tensor in an opened safetensors file: present under artifact_key, with the
// manifest's shape and type.
Result<const TensorView*> entry_tensor(const SafetensorsFile& sf, const ManifestEntry& e,
                                       const std::string& ctx) {
  const TensorView* t = sf.find(e.artifact_key);
  if (!t) return not_found(ctx + ": tensor '" + e.artifact_key + "' is missing");
  if (t->shape != e.shape)
    return mismatch(ctx + ": tensor " + e.artifact_key + " has shape " + shape_to_string(t->shape) +
                    ", manifest says " + shape_to_string(e.shape));
  auto want = dtype_from_nx_type(e.type);
  if (!want || *want != t->dtype)
    return mismatch(ctx + ": tensor " + e.artifact_key + " is " + dtype_name(t->dtype) + " (" +
                    nx_type_name(t->dtype) + "), manifest type is '" + e.type + "'");
  return t;
}

Status check_manifest_state(const Manifest& m, const std::string& mpath) {
  if (m.artifact_version != kArtifactVersion)
    return unsupported(mpath + ": artifact_version is " + std::to_string(m.artifact_version) +
                       ", expected 1");
  if (m.status != "complete")
    return invalid_argument(
        mpath + ": status is '" + m.status +
        "', expected 'complete' (an unfinished export; rerun it with --resume)");
  if (!m.export_complete) return invalid_argument(mpath + ": export_complete is false");
  if (m.artifact_layout != kLayoutCheckpointDirectory && m.artifact_layout != kLayoutSingleFile)
    return unsupported(mpath + ": artifact_layout '" + m.artifact_layout + "' (expected " +
                       kLayoutCheckpointDirectory + " or " + kLayoutSingleFile + ")");
  if (static_cast<int64_t>(m.selected_tensors.size()) != m.selected_tensor_count)
    return mismatch(mpath + ": selected_tensor_count is " +
                    std::to_string(m.selected_tensor_count) + " but selected_tensors has " +
                    std::to_string(m.selected_tensors.size()));
  if (m.selected_tensors.empty()) return invalid_argument(mpath + ": selected_tensors is empty");
  for (const ManifestEntry& e : m.selected_tensors)
    if (e.status != "complete")
      return invalid_argument(mpath + ": selected_tensors index " + std::to_string(e.index) +
                              " has status '" + e.status + "'");
  return ok_status();
}

// single_file: every adapted tensor in one safetensors file, keyed by artifact_key.
Status load_single_file(Bundle& b, const std::string& mpath, const DiskCache* cache) {
  const Manifest& m = b.manifest;
  if (!inside_bundle(m.adapted_tensors_artifact))
    return invalid_argument(mpath + ": adapted_tensors_artifact must stay inside the bundle");
  const std::string file = join_path(b.dir, m.adapted_tensors_artifact);
  if (!file_exists(file)) return not_found(file + ": adapted tensors file is missing");
  TRINITY_RETURN_IF_ERROR(check_sha256(file, m.adapted_tensors_sha256, file,
                                       "adapted_tensors_sha256", &b.warnings, cache));
  TRINITY_ASSIGN_OR_RETURN(auto sf, SafetensorsFile::open(file));
  for (const ManifestEntry& e : m.selected_tensors) {
    const std::string ctx = file + " (selected_tensors index " + std::to_string(e.index) + ")";
    TRINITY_ASSIGN_OR_RETURN(const TensorView* t, entry_tensor(*sf, e, ctx));
    b.tensors.push_back({e, sf, t});
  }
  return ok_status();
}

Status load_router_head(Bundle& b, const std::string& mpath, const DiskCache* cache) {
  const Manifest& m = b.manifest;
  if (!inside_bundle(m.router_head_artifact))
    return invalid_argument(mpath + ": router_head_artifact must stay inside the bundle");
  const std::string hpath = join_path(b.dir, m.router_head_artifact);
  if (!file_exists(hpath)) return not_found(hpath + ": router head is missing");
  TRINITY_RETURN_IF_ERROR(
      check_sha256(hpath, m.router_head_sha256, hpath, "router_head_sha256", &b.warnings, cache));
  TRINITY_ASSIGN_OR_RETURN(auto hf, SafetensorsFile::open(hpath));
  const TensorView* ht = hf->find(m.router_head_tensor_key);
  if (!ht) return not_found(hpath + ": tensor '" + m.router_head_tensor_key + "' is missing");
  if (ht->dtype != DType::kF32 || ht->shape.size() != 2 || ht->shape[0] != kRouterHeadRows ||
      ht->shape != m.router_head_shape)
    return mismatch(hpath + ": tensor " + m.router_head_tensor_key + " must be F32 " +
                    shape_to_string(m.router_head_shape) + " with 10 rows, got " +
                    dtype_name(ht->dtype) + " " + shape_to_string(ht->shape));
  b.hidden = ht->shape[1];
  b.head.resize(static_cast<size_t>(ht->numel()));
  std::memcpy(b.head.data(), ht->data, b.head.size() * 4);
  return ok_status();
}

}  // namespace

Result<std::shared_ptr<SafetensorsFile>> verify_checkpoint(const std::string& bundle_dir,
                                                           const ManifestEntry& e,
                                                           std::vector<std::string>* warnings,
                                                           const DiskCache* cache) {
  const std::string file = join_path(bundle_dir, e.checkpoint_path);
  const std::string ctx = file + " (selected_tensors index " + std::to_string(e.index) + ")";
  if (!inside_bundle(e.checkpoint_path))
    return invalid_argument(ctx + ": checkpoint_path must be relative to the bundle");
  if (!file_exists(file)) return not_found(ctx + ": checkpoint file is missing");
  TRINITY_RETURN_IF_ERROR(
      check_sha256(file, e.checkpoint_sha256, ctx, "checkpoint_sha256", warnings, cache));
  TRINITY_ASSIGN_OR_RETURN(auto sf, SafetensorsFile::open(file));
  TRINITY_RETURN_IF_ERROR(entry_tensor(*sf, e, ctx).status());
  return sf;
}

Result<Bundle> load_bundle(const std::string& dir, const DiskCache* cache) {
  Bundle b;
  b.dir = dir;
  const std::string mpath = join_path(dir, kManifestFile);
  if (!file_exists(mpath)) return not_found(mpath + ": manifest is missing");
  TRINITY_ASSIGN_OR_RETURN(std::string text, read_file(mpath));
  b.manifest_sha256 = sha256_hex(text);
  TRINITY_ASSIGN_OR_RETURN(b.manifest, parse_manifest(text, mpath));
  TRINITY_RETURN_IF_ERROR(check_manifest_state(b.manifest, mpath));
  if (b.manifest.artifact_layout == kLayoutSingleFile) {
    TRINITY_RETURN_IF_ERROR(load_single_file(b, mpath, cache));
  } else {
    for (const ManifestEntry& e : b.manifest.selected_tensors) {
      TRINITY_ASSIGN_OR_RETURN(auto sf, verify_checkpoint(dir, e, &b.warnings, cache));
      b.tensors.push_back({e, sf, sf->find(e.artifact_key)});
    }
  }
  TRINITY_RETURN_IF_ERROR(load_router_head(b, mpath, cache));
  return b;
}

Status apply_bundle(Qwen3Weights& w, const Bundle& bundle) {
  const Qwen3Config& c = w.config;
  if (bundle.hidden != c.hidden_size)
    return mismatch(bundle.dir + ": router head has hidden " + std::to_string(bundle.hidden) +
                    ", base model has " + std::to_string(c.hidden_size));
  const int64_t layer = bundle.manifest.layer;
  if (layer < 0 || layer >= c.num_hidden_layers)
    return mismatch(bundle.dir + ": bundle adapts layer " + std::to_string(layer) +
                    ", base model has " + std::to_string(c.num_hidden_layers) + " layers");
  const auto targets = svf_targets(c, layer);
  for (const SvfTarget& t : targets) {
    const BundleTensor* bt = nullptr;
    for (const BundleTensor& x : bundle.tensors)
      if (x.entry.path == t.path) bt = &x;
    if (!bt) return not_found(bundle.dir + ": bundle has no tensor " + t.path);
    if (bt->tensor->shape != t.bundle_shape())
      return mismatch(bundle.dir + ": " + t.path + " is " + shape_to_string(bt->tensor->shape) +
                      ", base model needs " + shape_to_string(t.bundle_shape()));
    if (t.index == 9) continue;  // LM head: not used by routing
    Weight* slot = nullptr;
    if (t.index == 1) {
      slot = &w.embed;
    } else {
      for (auto& s : w.slots())
        if (s.hf_name == t.hf_name) slot = s.weight;
    }
    if (!slot) return not_found("base model has no tensor " + t.hf_name);
    const TensorView& tv = *bt->tensor;
    Weight nw;
    nw.dtype = tv.dtype;
    nw.shape = t.hf_shape;
    if (t.transposed_in_bundle) {
      auto buf = transpose_bytes(tv.data, tv.shape[0], tv.shape[1], dtype_size(tv.dtype));
      nw.data = buf.get();
      nw.owner = buf;
    } else {  // zero-copy view; the file mapping stays alive through `owner`
      nw.data = tv.data;
      nw.owner = bt->file;
    }
    if (nw.dtype != slot->dtype) {
      std::vector<float> vals(static_cast<size_t>(nw.numel()));
      for (int64_t r = 0; r < nw.rows(); ++r) nw.row_to_f32(r, vals.data() + r * nw.cols());
      nw = make_owned_weight(vals, t.hf_shape, slot->dtype);
    }
    *slot = std::move(nw);
  }
  return ok_status();
}

}  // namespace trinity
