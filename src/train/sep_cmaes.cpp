#include "train/sep_cmaes.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include "core/random.h"

namespace trinity::train {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

double expected_norm(int64_t n) {
  // pycma's chin: exact E|N(0, I_n)| for n <= 4, else the series (error < 5e-5 relative).
  constexpr double kExact[] = {0.7978845608028656, 1.2533141373156, 1.59576912160574,
                               1.87997120597326};
  if (n <= 4) return kExact[n - 1];
  const double d = static_cast<double>(n);
  return std::sqrt(d) * (1.0 - 1.0 / (4.0 * d) + 1.0 / (26.0 * d * d));
}

// The selected candidates' statistics, all of size n.
struct Recombination {
  std::vector<double> z_w;   // sum w_i z_i
  std::vector<double> y_w;   // sum w_i sqrt(C) z_i
  std::vector<double> y2_w;  // sum w_i (sqrt(C) z_i)^2
};

double sample_z(const SepCmaesState& s, int64_t k, int64_t j) {
  return counter_normal(s.seed, s.iteration, static_cast<uint64_t>(k * s.n + j));
}

// Recombines the mu best candidates (order[0..mu)) from their regenerated z.
Recombination recombine(const SepCmaesState& s, const SepCmaesConstants& c,
                        const std::vector<int64_t>& order) {
  const size_t n = static_cast<size_t>(s.n);
  Recombination r{std::vector<double>(n, 0.0), std::vector<double>(n, 0.0),
                  std::vector<double>(n, 0.0)};
  std::vector<double> sqrt_c(n);
  for (size_t j = 0; j < n; ++j) sqrt_c[j] = std::sqrt(s.diag_c[j]);
  for (int64_t i = 0; i < s.mu; ++i) {
    const double w = c.weights[i];
    for (size_t j = 0; j < n; ++j) {
      const double zj = sample_z(s, order[i], static_cast<int64_t>(j)), yj = sqrt_c[j] * zj;
      r.z_w[j] += w * zj;
      r.y_w[j] += w * yj;
      r.y2_w[j] += w * yj * yj;
    }
  }
  return r;
}

// Moves `next` (a copy of s with the iteration already incremented) to the updated distribution.
void update_distribution(const SepCmaesState& s, const SepCmaesConstants& c, const Recombination& r,
                         SepCmaesState& next) {
  const std::vector<double>& z_w = r.z_w;
  const std::vector<double>& y_w = r.y_w;
  const std::vector<double>& y2_w = r.y2_w;
  const size_t n = static_cast<size_t>(s.n);
  const double cs = c.c_sigma, cc = c.c_c, me = c.mu_eff;
  const double ps_coef = std::sqrt(cs * (2.0 - cs) * me);
  double ps2 = 0;
  for (size_t j = 0; j < n; ++j) {
    next.mean[j] = s.mean[j] + s.sigma * y_w[j];
    next.p_sigma[j] = (1.0 - cs) * s.p_sigma[j] + ps_coef * z_w[j];
    ps2 += next.p_sigma[j] * next.p_sigma[j];
  }
  const double t = static_cast<double>(next.iteration), nd = static_cast<double>(n);
  const double ps2_unbiased = ps2 / (1.0 - std::pow(1.0 - cs, 2.0 * t));
  const bool h_sigma = ps2_unbiased / nd - 1.0 < 1.0 + 4.0 / (nd + 1.0);
  const double pc_coef = h_sigma ? std::sqrt(cc * (2.0 - cc) * me) : 0.0;
  const double c_decay =
      1.0 - c.c_1 - c.c_mu + (h_sigma ? 0.0 : c.c_1 * cc * (2.0 - cc));  // sum w_i = 1
  for (size_t j = 0; j < n; ++j) {
    next.p_c[j] = (1.0 - cc) * s.p_c[j] + pc_coef * y_w[j];
    next.diag_c[j] = c_decay * s.diag_c[j] + c.c_1 * next.p_c[j] * next.p_c[j] + c.c_mu * y2_w[j];
  }
  const double log_step = (cs / c.d_sigma) * (std::sqrt(ps2) / c.chi_n - 1.0);
  next.sigma = s.sigma * std::exp(std::clamp(log_step, -1.0, 1.0));
}

}  // namespace

int64_t default_population(int64_t n) {
  return 4 + static_cast<int64_t>(std::floor(3.0 * std::log(static_cast<double>(n))));
}

SepCmaesConstants sep_cmaes_constants(int64_t n_int, int64_t lambda, int64_t mu) {
  SepCmaesConstants c;
  const double n = static_cast<double>(n_int), lam = static_cast<double>(lambda);
  c.weights.resize(static_cast<size_t>(mu));
  double sum = 0, sum2 = 0;
  for (int64_t i = 0; i < mu; ++i) {
    c.weights[i] = std::log((lam + 1.0) / 2.0) - std::log(static_cast<double>(i + 1));
    sum += c.weights[i];
  }
  for (double& w : c.weights) {
    w /= sum;
    sum2 += w * w;
  }
  const double me = 1.0 / sum2;
  c.mu_eff = me;
  c.c_sigma = (me + 2.0) / (n + me + 3.0);
  c.d_sigma = 1.0 + 2.0 * std::max(0.0, std::sqrt((me - 1.0) / (n + 1.0)) - 1.0) + c.c_sigma;
  c.c_c = (4.0 + me / n) / (n + 4.0 + 2.0 * me / n);
  const double c1 = std::min(1.0, lam / 6.0) * 2.0 / ((n + 1.3) * (n + 1.3) + me);
  const double cmu = std::min(1.0 - c1, 2.0 * (me - 2.0 + 1.0 / me) / ((n + 2.0) * (n + 2.0) + me));
  const double sep = (n + 2.0) / 3.0;
  c.c_1 = std::min(1.0, c1 * sep);
  c.c_mu = std::max(0.0, std::min(1.0 - c.c_1, cmu * sep));
  c.chi_n = expected_norm(n_int);
  return c;
}

const char* stop_name(SepCmaesStop s) {
  switch (s) {
    case SepCmaesStop::kNone:
      return "none";
    case SepCmaesStop::kTolX:
      return "tolx";
    case SepCmaesStop::kTolFun:
      return "tolfun";
    case SepCmaesStop::kCondition:
      return "condition";
  }
  return "?";
}

Result<SepCmaes> SepCmaes::create(std::vector<double> x0, const SepCmaesOptions& options) {
  SepCmaesState s;
  s.n = static_cast<int64_t>(x0.size());
  if (s.n < 1) return invalid_argument("sep-CMA-ES: x0 is empty");
  if (!std::isfinite(options.sigma0) || options.sigma0 <= 0) {
    return invalid_argument("sep-CMA-ES: sigma0 must be finite and > 0, got " +
                            std::to_string(options.sigma0));
  }
  if (options.population < 0 || options.population == 1) {
    return invalid_argument("sep-CMA-ES: population must be 0 (default) or >= 2, got " +
                            std::to_string(options.population));
  }
  s.lambda = options.population > 0 ? options.population : default_population(s.n);
  s.mu = s.lambda / 2;
  s.seed = options.seed;
  s.sigma = options.sigma0;
  s.diag_c.assign(x0.size(), 1.0);
  s.p_sigma.assign(x0.size(), 0.0);
  s.p_c.assign(x0.size(), 0.0);
  s.best_x = x0;
  s.mean = std::move(x0);
  s.best_f = s.gen_f_best = s.gen_f_worst = kInf;
  return from_state(std::move(s), "sep-CMA-ES options");
}

Result<SepCmaes> SepCmaes::from_state(SepCmaesState state, const std::string& what) {
  TRINITY_RETURN_IF_ERROR(validate_state(state, what));
  SepCmaesConstants c = sep_cmaes_constants(state.n, state.lambda, state.mu);
  return SepCmaes(std::move(state), std::move(c));
}

Result<SepCmaes> SepCmaes::load(const std::string& path, int64_t expected_n) {
  TRINITY_ASSIGN_OR_RETURN(SepCmaesState s, load_state(path, expected_n));
  return from_state(std::move(s), path);
}

Status SepCmaes::save(const std::string& path) const {
  return save_state(s_, path);
}

double SepCmaes::z(int64_t k, int64_t j) const {
  return sample_z(s_, k, j);
}

void SepCmaes::sample(int64_t k, std::span<double> x) const {
  TRINITY_CHECK(k >= 0 && k < s_.lambda, "sep-CMA-ES: candidate index out of range");
  TRINITY_CHECK(static_cast<int64_t>(x.size()) == s_.n, "sep-CMA-ES: sample buffer size != n");
  for (int64_t j = 0; j < s_.n; ++j) {
    x[j] = s_.mean[j] + s_.sigma * (std::sqrt(s_.diag_c[j]) * z(k, j));
  }
}

std::vector<std::vector<double>> SepCmaes::ask() const {
  std::vector<std::vector<double>> xs(static_cast<size_t>(s_.lambda),
                                      std::vector<double>(static_cast<size_t>(s_.n)));
  for (int64_t k = 0; k < s_.lambda; ++k) sample(k, xs[k]);
  return xs;
}

Status SepCmaes::tell(std::span<const double> f) {
  if (static_cast<int64_t>(f.size()) != s_.lambda) {
    return invalid_argument("sep-CMA-ES tell: got " + std::to_string(f.size()) +
                            " fitness values, want lambda = " + std::to_string(s_.lambda));
  }
  for (size_t k = 0; k < f.size(); ++k) {
    if (!std::isfinite(f[k])) {
      return invalid_argument("sep-CMA-ES tell: fitness of candidate " + std::to_string(k) +
                              " is " + std::to_string(f[k]) + " (must be finite)");
    }
  }
  // Rank: ascending fitness, ties by candidate index (deterministic).
  std::vector<int64_t> order(f.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return f[a] < f[b]; });

  SepCmaesState next = s_;
  next.gen_f_best = f[order.front()];
  next.gen_f_worst = f[order.back()];
  if (f[order.front()] < s_.best_f) {
    next.best_f = f[order.front()];
    sample(order.front(), next.best_x);
  }

  const Recombination r = recombine(s_, c_, order);
  next.iteration = s_.iteration + 1;
  update_distribution(s_, c_, r, next);
  Status valid = validate_state(next, "sep-CMA-ES tell");
  if (!valid.ok()) {
    return internal_error(valid.message() + " after iteration " + std::to_string(next.iteration) +
                          " (numerical breakdown; the state is unchanged)");
  }
  s_ = std::move(next);
  return ok_status();
}

SepCmaesStop SepCmaes::should_stop(const SepCmaesStopOptions& options) const {
  double c_min = kInf, c_max = 0, x_max = 0;
  for (int64_t j = 0; j < s_.n; ++j) {
    c_min = std::min(c_min, s_.diag_c[j]);
    c_max = std::max(c_max, s_.diag_c[j]);
    x_max = std::max(x_max, s_.sigma * std::max(std::sqrt(s_.diag_c[j]), std::fabs(s_.p_c[j])));
  }
  if (options.tolx > 0 && x_max < options.tolx) return SepCmaesStop::kTolX;
  if (options.tolfun > 0 && s_.iteration > 0 && s_.gen_f_worst - s_.gen_f_best < options.tolfun) {
    return SepCmaesStop::kTolFun;
  }
  if (options.max_condition > 0 && c_max > options.max_condition * c_min) {
    return SepCmaesStop::kCondition;
  }
  return SepCmaesStop::kNone;
}

}  // namespace trinity::train
