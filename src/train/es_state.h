// The sep-CMA-ES state (everything that determines the next ask()/tell()) and its file.
//
// File format: one safetensors file (io/safetensors.h), written atomically.
//   tensors, all F64, shape [n], raw little-endian IEEE doubles, in this order:
//     "mean", "diag_c", "p_sigma", "p_c", "best_x"
//   "__metadata__" (all values are strings):
//     "format"      "trinity.sep_cmaes.v1"
//     "n", "lambda", "mu", "iteration", "seed"       unsigned decimal integers
//     "sigma", "best_f", "gen_f_best", "gen_f_worst" the IEEE-754 bits of the double as
//                                                    "0x" + 16 lowercase hex digits
//     "sha256"      lowercase hex SHA-256 of the canonical metadata text (every other key as
//                   "key=value\n", keys in byte order) followed by the five tensors' bytes
// Doubles are never printed in decimal, so a save/load round trip is bit-exact. Loading checks
// the format tag, the checksum, every field's presence and syntax, the shapes against n (and
// against the caller's expected n), finiteness of every vector and of sigma, and the ranges of
// the integers; every error names the file and the field.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace trinity::train {

inline constexpr const char* kSepCmaesFormat = "trinity.sep_cmaes.v1";

struct SepCmaesState {
  int64_t n = 0;           // dimension
  int64_t lambda = 0;      // population size
  int64_t mu = 0;          // parents (positive recombination weights)
  uint64_t seed = 0;       // with `iteration`, the whole RNG state (counter-based, core/random.h)
  uint64_t iteration = 0;  // completed tell() calls
  double sigma = 0;        // global step size
  std::vector<double> mean, diag_c, p_sigma, p_c;
  std::vector<double> best_x;  // best candidate told so far (== x0 before the first tell)
  double best_f = 0;           // its fitness (+inf before the first tell)
  double gen_f_best = 0, gen_f_worst = 0;  // last generation's fitness range (+inf before)

  bool operator==(const SepCmaesState&) const = default;
};

// Structural checks (sizes, finiteness, ranges); errors start with `what`.
Status validate_state(const SepCmaesState& s, const std::string& what);

// Writes `s` to `path` atomically in the format above (after validate_state).
Status save_state(const SepCmaesState& s, const std::string& path);

// Reads and validates a state file. expected_n > 0 also requires n == expected_n.
Result<SepCmaesState> load_state(const std::string& path, int64_t expected_n = 0);

}  // namespace trinity::train
