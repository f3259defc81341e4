// Builds the factors of an SvfOverlay (model/svf_overlay.h) from a base model: one
// decomposition per matrix (svf_decompose: the f64 Gram route, or sgesdd when ill-conditioned),
// done once per base model; every router vector afterwards is applied by its scales alone.
#pragma once

#include <memory>

#include "adapt/svf_targets.h"
#include "model/svf_overlay.h"
#include "model/weights.h"

namespace trinity {

struct SvfOverlayBuildStats {
  double decompose_ms = 0, factor_ms = 0, total_ms = 0;
};

// The overlay of the base model `w` for the SVF targets of `layer` (-1: num_hidden_layers - 2).
Result<std::shared_ptr<const SvfOverlay>> build_svf_overlay(const Qwen3Weights& w,
                                                            int64_t layer = -1, int threads = 0,
                                                            SvfOverlayBuildStats* stats = nullptr);

// One factor (exposed for tests): P, and Q unless `with_q` is false.
Result<SvfFactor> build_svf_factor(const Weight& w, bool with_q, int threads = 0);

}  // namespace trinity
