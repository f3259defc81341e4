// `trinity export`: adapts the nine SVF targets of a base model with a router vector and writes
// the reference bundle (manifest.json, router_head.safetensors, checkpoints/). The manifest is
// rewritten atomically after every tensor; it says `complete` only when every checkpoint is on
// disk and verified, so a crash or Ctrl-C leaves `pending`/`partial`, never `complete`.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "adapt/manifest.h"
#include "adapt/svf.h"

namespace trinity {

struct ExportEvent {
  enum class Kind { kTensorStart, kPhase, kTensorDone };
  Kind kind = Kind::kTensorStart;
  int64_t index = 0, count = 0;
  std::string path, phase;  // phase: "decompose" | "reconstruct" | "write"
  double fraction = 0;      // of the estimated total work, 0..1
  double elapsed_s = 0, eta_s = -1;
};

struct ExportOptions {
  std::string base, vector, out;
  int64_t layer = -1;  // -1: num_hidden_layers - 2
  SvdComputeType compute = SvdComputeType::kF32;
  bool force = false, resume = false, dry_run = false;
  int64_t only_index = 0;                     // 0: all nine
  const std::atomic<bool>* cancel = nullptr;  // checked between tensors
  std::function<void(const ExportEvent&)> on_event;
};

struct ExportTensorReport {
  int64_t index = 0;
  std::string path, type, action;  // action: computed | kept | skipped | planned
  std::vector<int64_t> shape;      // bundle layout
  double decompose_ms = 0, reconstruct_ms = 0, write_ms = 0;
  // Stages (computed tensors): decompose = gram + eigh (+ direct, the sgesdd fallback);
  // reconstruct excludes cast; write = cast-free appends to the page cache with the sha256;
  // sync = the one fsync + rename.
  double gram_ms = 0, eigh_ms = 0, direct_ms = 0, cast_ms = 0, sync_ms = 0;
  std::string checkpoint;
};

struct ExportReport {
  std::string out, status;  // status: complete | partial | planned
  bool dry_run = false;
  int64_t layer = 0, vector_length = 0;
  double total_ms = 0, load_ms = 0;
  int threads = 0;
  std::string manifest_sha256;
  std::vector<ExportTensorReport> tensors;
};

Result<ExportReport> run_export(const ExportOptions& opt);

Json export_report_to_json(const ExportReport& r);

}  // namespace trinity
