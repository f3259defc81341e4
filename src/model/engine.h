// ForwardEngine: the seam between the router and a compute backend (runtime profile).
// `reference` is the scalar twin in forward_ref.cpp; `cpu` (oneDNN/AVX-512) and later `cuda`
// implement the same interface. Engines are safe to call from several threads (they serialize
// or partition internally).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/disk_cache.h"
#include "core/status.h"
#include "model/prefix_cache.h"
#include "model/svf_overlay.h"
#include "model/weights.h"

namespace trinity {

struct EngineOptions {
  int threads = 0;                 // <= 0: all cores
  int64_t prefix_cache_mb = 1024;  // KV prefix cache budget (engines that have one)
  // Packed-weights cache (engines that pack): used when both are set. `weights_identity` names
  // the weights' contents (base checkpoint and adaptation), see packed_cache.h.
  const DiskCache* cache = nullptr;
  std::string weights_identity;
};

class ForwardEngine {
 public:
  virtual ~ForwardEngine() = default;
  virtual std::string profile() const = 0;
  // Generic label derived from the backend, e.g. "reference:f32-scalar",
  // "cpu:onednn-avx512_core_amx".
  virtual std::string backend_label() const = 0;

  // Final-RMSNorm hidden states of every position: out is [ids.size(), hidden].
  virtual Status forward_all(std::span<const int32_t> ids, float* out) = 0;

  // For each sequence s, the final-RMSNorm hidden state at position rows[s]: out is
  // [seqs.size(), hidden]. Engines may batch the sequences into one pass and skip work that
  // the requested rows do not need (lm_head, last-layer rows after the requested one).
  virtual Status forward_rows(const std::vector<std::span<const int32_t>>& seqs,
                              const std::vector<int64_t>& rows, float* out) = 0;

  // Prefix (KV) cache counters and budget; all zero for engines without a cache.
  virtual PrefixCacheStats prefix_cache_stats() const { return {}; }
  // Drops every cached prefix (e.g. to measure cold latency).
  virtual void clear_prefix_cache() {}

  // Wall time spent per stage of the forward (gemm, attention, norms, ...) since the last
  // reset, in a fixed order; empty for engines that do not measure it. A profile of where a
  // route's time goes, cheap enough to stay on (a clock read per stage per layer).
  virtual std::vector<std::pair<std::string, double>> stage_ms() const { return {}; }
  virtual void reset_stage_ms() {}

  // Router-vector switching (svf_overlay.h; training and `candidate eval`). With an overlay
  // installed, every pass computes the embedding and the overlay layer's seven matrices from
  // its factors and the scales of the offsets set last (none set: unit scales, the base
  // weights). Call between passes, never during one; both drop the prefix cache. Engines
  // without support return kUnsupported.
  virtual Status set_svf_overlay(std::shared_ptr<const SvfOverlay> overlay) {
    (void)overlay;
    return unsupported("profile " + profile() + " cannot switch router vectors");
  }
  // `offsets`: the router vector's SVF offsets (at least overlay->offset_count() values).
  virtual Status set_svf_offsets(std::span<const float> offsets) {
    (void)offsets;
    return unsupported("profile " + profile() + " cannot switch router vectors");
  }

  const Qwen3Weights& weights() const { return *weights_; }

 protected:
  explicit ForwardEngine(std::shared_ptr<const Qwen3Weights> w) : weights_(std::move(w)) {}
  std::shared_ptr<const Qwen3Weights> weights_;
};

// The reference engine (scalar twin).
std::unique_ptr<ForwardEngine> make_reference_engine(std::shared_ptr<const Qwen3Weights> w);

}  // namespace trinity
