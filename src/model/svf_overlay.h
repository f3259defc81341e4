// Router-vector switching without rebuilding weights (training, `candidate eval`).
//
// SVF adapts W = U diag(S) Vh to W' = U diag(S (1 + z)) Vh * sum(S) / sum(S (1 + z)). Written
// with two thin factors, Q = U diag(S) or U and P = V or V diag(S) (whichever the Gram route
// yields without dividing by S), every adapted matrix is
//
//   W' = Q diag(s) P^T,   s = (1 + z) * sum(S) / sum(S (1 + z))     (s_i = 1: W' = W)
//
// so the forward computes y = x W'^T as ((x P) * s) Q^T: two thin GEMMs whose only
// per-candidate input is the vector s. Switching candidates costs computing s (microseconds)
// instead of an SVF reconstruction of 7 matrices and the embedding (seconds at 0.6B). The
// extra arithmetic is k^2 per token per matrix (k = min(rows, cols)): about 2% of a 0.6B
// forward. The embedding is tall, so Q = E P: rows are adapted as ((E[t] P) * s) P^T for the
// tokens actually seen, never for the whole vocabulary. lm_head is never read on this path.
//
// The factors come from adapt/svf_overlay_build.h (one Gram eigendecomposition per matrix,
// once per base model).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"

namespace trinity {

// One adapted matrix W [rows, cols] (HF orientation) as W' = Q diag(s) P^T.
struct SvfFactor {
  int64_t rows = 0, cols = 0, k = 0;
  std::vector<float> p;   // [cols, k] row-major
  std::vector<float> q;   // [rows, k] row-major; empty for the embedding (Q = E P)
  std::vector<double> s;  // the k singular values, descending (for the scale)
};

// The seven layer matrices, in SVF offset order after the embedding.
enum SvfMatrix { kSvfQ, kSvfK, kSvfV, kSvfO, kSvfGate, kSvfUp, kSvfDown, kSvfMatrixCount };

struct SvfOverlay {
  int64_t layer = 0;  // the adapted decoder layer
  SvfFactor embed;    // P = V of the embedding (q empty)
  std::array<SvfFactor, kSvfMatrixCount> mats;

  // Offsets consumed by the embedding and the seven matrices (the router vector's first part
  // minus the LM head's share).
  int64_t offset_count() const;
};

// The per-candidate column scales s of the embedding and the seven matrices.
struct SvfScales {
  std::vector<float> embed;
  std::array<std::vector<float>, kSvfMatrixCount> mats;
};

// s = (1 + z) * sum(S) / sum(S (1 + z)) per factor, from the offsets z laid out as the router
// vector's: embedding, q, k, v, o, gate, up, down (offset_count() values; the LM head's offsets
// follow in the vector and are not read). Errors: a size mismatch, a non-finite offset, or
// sum(S (1 + z)) <= 0 (the reconstruction's scale would be undefined).
Result<SvfScales> svf_scales(const SvfOverlay& overlay, std::span<const float> offsets);

// What a forward needs to apply an overlay: both must outlive the call.
struct SvfApplied {
  const SvfOverlay* overlay = nullptr;
  const SvfScales* scales = nullptr;
};

}  // namespace trinity
