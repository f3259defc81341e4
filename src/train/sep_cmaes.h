// sep-CMA-ES (Ros & Hansen 2008): CMA-ES with a diagonal covariance matrix C, O(n) memory and
// time per candidate. It MINIMIZES: lower fitness is better (a trainer maximizing a reward
// passes -reward).
//
// Ask/tell: ask() (or sample(k) for one candidate at a time) gives the lambda candidates of the
// current iteration, x_k = m + sigma * sqrt(diag C) * z_k; tell(f) takes their fitnesses in the
// same order and updates m, sigma, C and the evolution paths.
//
// Sampling is counter-based (core/random.h): z_k[j] = counter_normal(seed, iteration, k*n + j).
// The candidates are thus a pure function of the state (no RNG object): ask() is const and
// repeatable, tell() regenerates the z of the selected candidates instead of storing them, and
// a state saved with save() (format in train/es_state.h) resumes bit-exactly.
//
// Constants (pycma defaults, sep scaling of Ros & Hansen; n = dimension):
//   lambda = 4 + floor(3 ln n) (or given), mu = floor(lambda / 2)
//   w_i ∝ ln((lambda + 1) / 2) - ln i, i = 1..mu, sum w_i = 1; mu_eff = 1 / sum w_i^2
//   c_sigma = (mu_eff + 2) / (n + mu_eff + 3)
//   d_sigma = 1 + 2 max(0, sqrt((mu_eff - 1) / (n + 1)) - 1) + c_sigma
//   c_c     = (4 + mu_eff / n) / (n + 4 + 2 mu_eff / n)
//   c_1     = min(1, lambda / 6) * 2 / ((n + 1.3)^2 + mu_eff)
//   c_mu    = min(1 - c_1, 2 (mu_eff - 2 + 1 / mu_eff) / ((n + 2)^2 + mu_eff))
//   sep:      c_1 *= (n + 2) / 3;  c_mu = min(1 - c_1, c_mu * (n + 2) / 3)
//   chi_n   = E|N(0, I)| = sqrt(n) (1 - 1 / (4n) + 1 / (26 n^2)) (exact values for n <= 4)
// Update (t = iteration after the increment, y_i = sqrt(C) z_{i:lambda}, z_w = sum w_i
// z_{i:lambda}):
//   m     += sigma * y_w
//   p_s    = (1 - c_s) p_s + sqrt(c_s (2 - c_s) mu_eff) z_w
//   h_s    = |p_s|^2 / (1 - (1 - c_s)^(2t)) / n - 1 < 1 + 4 / (n + 1)
//   p_c    = (1 - c_c) p_c + h_s sqrt(c_c (2 - c_c) mu_eff) y_w
//   C      = (1 - c_1 - c_mu + (1 - h_s) c_1 c_c (2 - c_c)) C + c_1 p_c^2 + c_mu sum w_i y_i^2
//   sigma *= exp(clip((c_s / d_s) (|p_s| / chi_n - 1), -1, 1))
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "train/es_state.h"

namespace trinity::train {

struct SepCmaesOptions {
  double sigma0 = 0;       // initial step size, required (> 0)
  uint64_t seed = 0;       // RNG seed
  int64_t population = 0;  // lambda; 0 = 4 + floor(3 ln n)
};

// Derived from (n, lambda, mu) alone, so they are recomputed on load, never stored.
struct SepCmaesConstants {
  std::vector<double> weights;  // mu positive weights, decreasing, sum 1
  double mu_eff = 0, c_sigma = 0, d_sigma = 0, c_c = 0, c_1 = 0, c_mu = 0, chi_n = 0;
};
SepCmaesConstants sep_cmaes_constants(int64_t n, int64_t lambda, int64_t mu);
int64_t default_population(int64_t n);  // 4 + floor(3 ln n)

// Optional stopping tests; a test with tolerance <= 0 is off.
struct SepCmaesStopOptions {
  double tolx = 0;              // sigma * sqrt(C_i) < tolx and sigma * |p_c,i| < tolx for every i
  double tolfun = 0;            // the last generation's fitness range (worst - best) < tolfun
  double max_condition = 1e14;  // max C_i / min C_i above this (numerical limit)
};
enum class SepCmaesStop { kNone, kTolX, kTolFun, kCondition };
const char* stop_name(SepCmaesStop s);

class SepCmaes {
 public:
  // Starts at mean x0 with C = I, sigma = options.sigma0.
  static Result<SepCmaes> create(std::vector<double> x0, const SepCmaesOptions& options);
  // Resumes from a state (validated; `what` names its source in errors).
  static Result<SepCmaes> from_state(SepCmaesState state, const std::string& what = "state");
  // save()/load(): the state file of train/es_state.h; expected_n > 0 also checks n.
  static Result<SepCmaes> load(const std::string& path, int64_t expected_n = 0);
  Status save(const std::string& path) const;

  int64_t dim() const { return s_.n; }
  int64_t population_size() const { return s_.lambda; }
  uint64_t iteration() const { return s_.iteration; }
  uint64_t evaluations() const { return s_.iteration * static_cast<uint64_t>(s_.lambda); }
  const SepCmaesState& state() const { return s_; }
  const SepCmaesConstants& constants() const { return c_; }

  // Candidate k (0 <= k < lambda) of the current iteration into x (size n).
  void sample(int64_t k, std::span<double> x) const;
  // All lambda candidates of the current iteration (lambda * n doubles; for very large n
  // prefer sample()).
  std::vector<std::vector<double>> ask() const;
  // Fitnesses of the current candidates, f[k] for candidate k; lower is better. Rejects a
  // wrong count and any NaN or infinite value (the state is then unchanged).
  Status tell(std::span<const double> f);

  SepCmaesStop should_stop(const SepCmaesStopOptions& options) const;

 private:
  SepCmaes(SepCmaesState s, SepCmaesConstants c) : s_(std::move(s)), c_(std::move(c)) {}
  double z(int64_t k, int64_t j) const;  // z_k[j] of the current iteration

  SepCmaesState s_;
  SepCmaesConstants c_;
};

}  // namespace trinity::train
