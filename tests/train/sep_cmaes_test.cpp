// sep-CMA-ES: convergence on sphere / axis-parallel ellipsoid / Rosenbrock within stated
// evaluation budgets, determinism of ask(), bit-exact save/load/resume, and rejection of bad
// input (NaN fitness, corrupted or truncated or mismatched state files).
#include "train/sep_cmaes.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>

#include "core/file_util.h"
#include "core/random.h"
#include "core/sha256.h"
#include "io/safetensors.h"

namespace trinity::train {
namespace {

using Fn = std::function<double(std::span<const double>)>;

double sphere(std::span<const double> x) {
  double s = 0;
  for (double v : x) s += v * v;
  return s;
}

// Axis-parallel ellipsoid, condition 1e6: sum 10^(6 i / (n - 1)) x_i^2.
double ellipsoid(std::span<const double> x) {
  const double n = static_cast<double>(x.size());
  double s = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    s += std::pow(10.0, 6.0 * static_cast<double>(i) / (n - 1)) * x[i] * x[i];
  }
  return s;
}

double rosenbrock(std::span<const double> x) {
  double s = 0;
  for (size_t i = 0; i + 1 < x.size(); ++i) {
    const double a = x[i] * x[i] - x[i + 1], b = 1.0 - x[i];
    s += 100.0 * a * a + b * b;
  }
  return s;
}

struct RunStats {
  uint64_t evals = 0;  // evaluations up to and including the first one <= target
  double best = std::numeric_limits<double>::infinity();
  bool reached = false;
};

// Runs until some candidate reaches `target` or `budget` evaluations are spent.
RunStats optimize(const Fn& f, std::vector<double> x0, double sigma0, uint64_t seed, double target,
                  uint64_t budget) {
  Result<SepCmaes> es = SepCmaes::create(std::move(x0), {sigma0, seed, 0});
  EXPECT_TRUE(es.ok()) << es.status().to_string();
  RunStats run;
  if (!es.ok()) return run;
  std::vector<double> x(static_cast<size_t>(es->dim()));
  std::vector<double> fit(static_cast<size_t>(es->population_size()));
  while (run.evals < budget) {
    for (int64_t k = 0; k < es->population_size(); ++k) {
      es->sample(k, x);
      fit[k] = f(x);
      ++run.evals;
      if (!std::isfinite(fit[k])) {
        ADD_FAILURE() << "non-finite fitness " << fit[k] << " at evaluation " << run.evals;
        return run;
      }
      if (fit[k] <= target) {
        run.best = fit[k];
        run.reached = true;
        return run;
      }
    }
    Status st = es->tell(fit);
    EXPECT_TRUE(st.ok()) << st.to_string();
    if (!st.ok()) return run;
    run.best = es->state().best_f;
  }
  return run;
}

void expect_converges(const Fn& f, int64_t n, double x0, double sigma0, double target,
                      uint64_t budget) {
  RunStats run =
      optimize(f, std::vector<double>(static_cast<size_t>(n), x0), sigma0, 1, target, budget);
  EXPECT_TRUE(run.reached) << "n=" << n << ": best f " << run.best << " after " << run.evals
                           << " evaluations (budget " << budget << ")";
  EXPECT_LE(run.best, target);
  std::printf("[ measured ] n=%lld: %s f <= %g after %llu evaluations (budget %llu)\n",
              static_cast<long long>(n), run.reached ? "reached" : "did NOT reach", target,
              static_cast<unsigned long long>(run.evals), static_cast<unsigned long long>(budget));
}

// Budgets. Sphere, from theory: at the optimal step size the (mu/mu_w, lambda)-ES gains
// phi* = mu_eff (sum_i w_i E[N_{i:lambda}])^2 / 2 per generation in normalized progress
// (large-n limit; E[N_{i:lambda}] = expected i-th largest of lambda standard normals), i.e.
// ln f drops by 2 phi* / n per generation, one e-fold of f costs lambda n / (2 phi*) evaluations:
//   n = 10 (lambda 10, mu_eff 3.17, phi* 1.97):    25.4 evaluations per e-fold
//   n = 100 (lambda 17, mu_eff 5.10, phi* 3.65):   233
//   n = 1000 (lambda 24, mu_eff 7.03, phi* 5.35):  2242
// From f0 = n (x0 = 1, sigma0 = 0.5) to 1e-8 takes ln(n / 1e-8) e-folds: the ideal is 526, 5358
// and 56.8k evaluations. Cumulative step-size adaptation runs below the optimal rate: seeds
// 1..20 need a median 2.1x, 1.86x, 1.70x the ideal (1125, 9956, 96.5k; worst 1263, 10282,
// 97378; see the calibration test below). Budget 2.5x the ideal for n = 100 and 1000 (13.4k,
// 142k); 3.2x at n = 10 (1700), where the large-n phi* overestimates the progress (its finite-n
// correction is of order sigma*^2 / n). Each budget is 1.3x-1.46x the worst seed.
TEST(SepCmaesConvergence, Sphere) {
  expect_converges(sphere, 10, 1.0, 0.5, 1e-8, 1700);
  expect_converges(sphere, 100, 1.0, 0.5, 1e-8, 13400);
  expect_converges(sphere, 1000, 1.0, 0.5, 1e-8, 142000);
}

// Ellipsoid (condition 1e6, axis-parallel): the sphere cost plus learning diag C. The variances
// must spread by 1e6 = e^13.8; with the rank-mu rate c_mu (sep: 0.081 at n = 10, 0.0215 at
// n = 100) that takes of the order of 13.8 / c_mu generations, 1.7k and 10.9k evaluations. The
// measured cost is 0.9x (n = 10) and 1.4x (n = 100) that estimate plus the sphere's: median
// 2.5k, 29.6k, worst of 20 seeds 2.8k, 31.3k. Budget: 1.4x the worst, 4000 and 44000.
// n = 1000: c_mu = 3.44e-3, so 13.8 / c_mu = 4.0k generations of lambda 24 (96k evaluations)
// plus the sphere's 96.5k: 193k; measured 2.1x that (seeds 1..3: 409.5k, 404.4k, 401.9k; about
// 30 s of one core each, so not in the 20-seed calibration). Budget 1.3x the worst, 532000.
TEST(SepCmaesConvergence, Ellipsoid) {
  expect_converges(ellipsoid, 10, 1.0, 0.5, 1e-8, 4000);
  expect_converges(ellipsoid, 100, 1.0, 0.5, 1e-8, 44000);
  expect_converges(ellipsoid, 1000, 1.0, 0.5, 1e-8, 532000);
}

// Rosenbrock is not separable: its curved valley is not axis-parallel, so the diagonal C can
// not learn it and the mean follows the valley in many short steps (full CMA-ES needs ~6k
// evaluations at n = 10; sep-CMA-ES ~10x more). Empirical budget: seeds 1..20 reach 1e-6 from
// x0 = 0, sigma0 = 0.5 in 59.9k..69.5k evaluations (median 63.5k); budget 1.3x the worst, 90000.
// (n = 30: median 105k, but 3 of 20 seeds end in the local minimum near x_1 = -1, so it is
// not asserted.)
TEST(SepCmaesConvergence, Rosenbrock) {
  expect_converges(rosenbrock, 10, 0.0, 0.5, 1e-6, 90000);
}

// The constants against the formulas written out independently (n = 10: lambda 10, mu 5).
TEST(SepCmaesConstants, MatchTheFormulas) {
  EXPECT_EQ(default_population(10), 10);
  EXPECT_EQ(default_population(100), 17);
  EXPECT_EQ(default_population(1000), 24);
  const SepCmaesConstants c = sep_cmaes_constants(10, 10, 5);
  ASSERT_EQ(c.weights.size(), 5u);
  double sum = 0, sum2 = 0;
  for (size_t i = 0; i < 5; ++i) {
    const double raw = std::log(5.5) - std::log(static_cast<double>(i + 1));
    EXPECT_NEAR(c.weights[i] / c.weights[0], raw / std::log(5.5), 1e-15);
    sum += c.weights[i];
    sum2 += c.weights[i] * c.weights[i];
  }
  EXPECT_NEAR(sum, 1.0, 1e-15);
  const double me = 1.0 / sum2;
  EXPECT_NEAR(c.mu_eff, 3.1672992814107017, 1e-12);
  EXPECT_NEAR(c.c_sigma, (me + 2) / (10 + me + 3), 1e-15);
  EXPECT_NEAR(c.d_sigma, 1 + c.c_sigma, 1e-15);  // sqrt((me - 1) / 11) < 1
  EXPECT_NEAR(c.c_c, (4 + me / 10) / (14 + 2 * me / 10), 1e-15);
  EXPECT_NEAR(c.c_1, 4.0 * 2 / (11.3 * 11.3 + me), 1e-15);  // (n + 2) / 3 = 4
  EXPECT_NEAR(c.c_mu, 4.0 * 2 * (me - 2 + 1 / me) / (144 + me), 1e-15);
  EXPECT_NEAR(c.chi_n, std::sqrt(10.0) * (1 - 1 / 40.0 + 1 / 2600.0), 1e-15);
  // Small n: the sep factor must not push c_1 + c_mu above 1; every rate in (0, 1].
  for (int64_t n = 1; n <= 40; ++n) {
    const int64_t lam = default_population(n);
    const SepCmaesConstants k = sep_cmaes_constants(n, lam, lam / 2);
    EXPECT_LE(k.c_1 + k.c_mu, 1.0) << "n=" << n;
    EXPECT_GT(k.c_1, 0.0) << "n=" << n;
    EXPECT_GE(k.c_mu, 0.0) << "n=" << n;
    EXPECT_GT(k.c_sigma, 0.0);
    EXPECT_LT(k.c_sigma, 1.0);
    EXPECT_LE(k.c_c, 1.0);
  }
}

// The RNG scheme: candidate k of iteration t is m + sigma sqrt(C) z, z_j =
// counter_normal(seed, t, k n + j); ask() repeats itself and equals sample(k).
TEST(SepCmaesSampling, DeterministicCounterBased) {
  const std::vector<double> x0 = {0.5, -1.0, 2.0, 0.0, 3.0};
  SepCmaes a = *SepCmaes::create(x0, {0.3, 42, 0});
  SepCmaes b = *SepCmaes::create(x0, {0.3, 42, 0});
  SepCmaes other = *SepCmaes::create(x0, {0.3, 43, 0});
  const auto xa = a.ask(), xb = b.ask(), xo = other.ask();
  ASSERT_EQ(xa.size(), static_cast<size_t>(a.population_size()));
  EXPECT_EQ(xa, a.ask());
  EXPECT_EQ(xa, xb);
  EXPECT_NE(xa, xo);
  std::vector<double> x(5);
  for (int64_t k = 0; k < a.population_size(); ++k) {
    a.sample(k, x);
    EXPECT_EQ(x, xa[k]);
    for (size_t j = 0; j < 5; ++j) {
      EXPECT_EQ(xa[k][j], x0[j] + 0.3 * (1.0 * counter_normal(42, 0, k * 5 + j)));
    }
  }
  // The next iteration draws fresh numbers.
  std::vector<double> f(xa.size());
  for (size_t k = 0; k < f.size(); ++k) f[k] = sphere(xa[k]);
  ASSERT_TRUE(a.tell(f).ok());
  ASSERT_TRUE(b.tell(f).ok());
  EXPECT_NE(a.ask(), xa);
  EXPECT_EQ(a.ask(), b.ask());
}

// z over many iterations and coordinates looks standard normal (mean 0, variance 1).
TEST(SepCmaesSampling, StandardNormal) {
  SepCmaes es = *SepCmaes::create(std::vector<double>(50, 0.0), {1.0, 7, 0});
  double sum = 0, sum2 = 0;
  size_t count = 0;
  for (const auto& x : es.ask()) {
    for (double v : x) {
      sum += v;
      sum2 += v * v;
      ++count;
    }
  }
  const double mean = sum / count, var = sum2 / count - mean * mean;
  // count = 50 * lambda(50) = 750: 4-sigma bounds for mean and variance.
  EXPECT_LT(std::fabs(mean), 4.0 / std::sqrt(count));
  EXPECT_LT(std::fabs(var - 1.0), 4.0 * std::sqrt(2.0 / count));
}

TEST(SepCmaesTell, RejectsNonFiniteAndWrongCount) {
  SepCmaes es = *SepCmaes::create(std::vector<double>(4, 1.0), {0.5, 3, 0});
  const SepCmaesState before = es.state();
  std::vector<double> f(static_cast<size_t>(es.population_size()), 1.0);
  f[2] = std::nan("");
  Status st = es.tell(f);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("candidate 2"), std::string::npos) << st.message();
  f[2] = std::numeric_limits<double>::infinity();
  EXPECT_FALSE(es.tell(f).ok());
  f.pop_back();
  st = es.tell(f);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("want lambda"), std::string::npos) << st.message();
  EXPECT_EQ(es.state(), before);  // nothing moved
  EXPECT_FALSE(SepCmaes::create({}, {0.5, 0, 0}).ok());
  EXPECT_FALSE(SepCmaes::create({1.0}, {0.0, 0, 0}).ok());
  EXPECT_FALSE(SepCmaes::create({1.0}, {std::nan(""), 0, 0}).ok());
  EXPECT_FALSE(SepCmaes::create({1.0}, {1.0, 0, 1}).ok());
}

// best_x / best_f: the best candidate ever told, and f(best_x) == best_f.
TEST(SepCmaesTell, KeepsBestSoFar) {
  SepCmaes es = *SepCmaes::create(std::vector<double>(6, 2.0), {1.0, 9, 0});
  double best = std::numeric_limits<double>::infinity();
  for (int it = 0; it < 30; ++it) {
    const auto xs = es.ask();
    std::vector<double> f(xs.size());
    for (size_t k = 0; k < xs.size(); ++k) {
      f[k] = ellipsoid(xs[k]);
      best = std::min(best, f[k]);
    }
    ASSERT_TRUE(es.tell(f).ok());
    EXPECT_EQ(es.state().best_f, best);
    EXPECT_EQ(ellipsoid(es.state().best_x), best);
  }
  EXPECT_EQ(es.iteration(), 30u);
  EXPECT_EQ(es.evaluations(), 30u * es.population_size());
}

TEST(SepCmaesStopping, TolXAndTolFun) {
  SepCmaes es = *SepCmaes::create(std::vector<double>(8, 1.0), {0.5, 5, 0});
  EXPECT_EQ(es.should_stop({1e-12, 1e-12, 1e14}), SepCmaesStop::kNone);
  SepCmaesStop why = SepCmaesStop::kNone;
  while (why == SepCmaesStop::kNone && es.iteration() < 5000) {
    const auto xs = es.ask();
    std::vector<double> f(xs.size());
    for (size_t k = 0; k < xs.size(); ++k) f[k] = sphere(xs[k]);
    ASSERT_TRUE(es.tell(f).ok());
    why = es.should_stop({1e-9, 0, 1e14});
  }
  EXPECT_EQ(why, SepCmaesStop::kTolX) << stop_name(why);
  EXPECT_LT(es.state().best_f, 1e-12);  // steps of 1e-9 around the optimum: f ~ n 1e-18
  EXPECT_EQ(es.should_stop({0, 1e-9, 0}), SepCmaesStop::kTolFun);
}

bool same_bits(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}
bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}
void expect_bit_equal(const SepCmaesState& a, const SepCmaesState& b) {
  EXPECT_EQ(a.n, b.n);
  EXPECT_EQ(a.lambda, b.lambda);
  EXPECT_EQ(a.mu, b.mu);
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(a.iteration, b.iteration);
  EXPECT_TRUE(same_bits(a.sigma, b.sigma));
  EXPECT_TRUE(same_bits(a.best_f, b.best_f));
  EXPECT_TRUE(same_bits(a.gen_f_best, b.gen_f_best));
  EXPECT_TRUE(same_bits(a.gen_f_worst, b.gen_f_worst));
  EXPECT_TRUE(same_bits(a.mean, b.mean));
  EXPECT_TRUE(same_bits(a.diag_c, b.diag_c));
  EXPECT_TRUE(same_bits(a.p_sigma, b.p_sigma));
  EXPECT_TRUE(same_bits(a.p_c, b.p_c));
  EXPECT_TRUE(same_bits(a.best_x, b.best_x));
}

void step(SepCmaes& es, const Fn& f, int iterations) {
  std::vector<double> x(static_cast<size_t>(es.dim()));
  std::vector<double> fit(static_cast<size_t>(es.population_size()));
  for (int it = 0; it < iterations; ++it) {
    for (int64_t k = 0; k < es.population_size(); ++k) {
      es.sample(k, x);
      fit[k] = f(x);
    }
    ASSERT_TRUE(es.tell(fit).ok());
  }
}

class SepCmaesStateFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("trinity_cmaes_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "es.safetensors").string();
    es_ = *SepCmaes::create(std::vector<double>(12, 1.5), {0.7, 11, 0});
    step(es_, ellipsoid, 20);
    ASSERT_TRUE(es_.save(path_).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Rewrites the saved file from `s` and metadata `meta` with a valid checksum (the documented
  // canonical text + tensor bytes), so that only the field under test is wrong.
  void rewrite(const SepCmaesState& s, std::map<std::string, std::string> meta) {
    meta.erase("sha256");
    std::string text;
    for (const auto& [k, v] : meta) text += k + "=" + v + "\n";
    const std::vector<const std::vector<double>*> vs = {&s.mean, &s.diag_c, &s.p_sigma, &s.p_c,
                                                        &s.best_x};
    const char* names[] = {"mean", "diag_c", "p_sigma", "p_c", "best_x"};
    std::vector<TensorToWrite> tensors;
    for (size_t i = 0; i < vs.size(); ++i) {
      text.append(reinterpret_cast<const char*>(vs[i]->data()), vs[i]->size() * 8);
      tensors.push_back({names[i],
                         DType::kF64,
                         {static_cast<int64_t>(vs[i]->size())},
                         vs[i]->data(),
                         vs[i]->size() * 8});
    }
    meta["sha256"] = sha256_hex(text);
    ASSERT_TRUE(write_safetensors(path_, tensors, meta).ok());
  }
  std::map<std::string, std::string> saved_metadata() {
    auto f = SafetensorsFile::open(path_);
    EXPECT_TRUE(f.ok()) << f.status().to_string();
    return f.ok() ? (*f)->metadata() : std::map<std::string, std::string>{};
  }
  void expect_load_error(const std::string& needle) {
    Result<SepCmaes> r = SepCmaes::load(path_);
    ASSERT_FALSE(r.ok()) << "loaded a bad file; expected an error with '" << needle << "'";
    EXPECT_NE(r.status().message().find(path_), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
  }

  std::filesystem::path dir_;
  std::string path_;
  SepCmaes es_ = *SepCmaes::create({0.0}, {1.0, 0, 0});
};

// save -> load is bit-exact, and 5 more iterations after the reload equal 5 more iterations
// of the uninterrupted run, bit for bit.
TEST_F(SepCmaesStateFile, RoundTripAndResumeBitExact) {
  Result<SepCmaes> loaded = SepCmaes::load(path_, 12);
  ASSERT_TRUE(loaded.ok()) << loaded.status().to_string();
  expect_bit_equal(loaded->state(), es_.state());
  step(es_, ellipsoid, 5);
  step(*loaded, ellipsoid, 5);
  expect_bit_equal(loaded->state(), es_.state());
  EXPECT_EQ(loaded->state().iteration, 25u);
  EXPECT_EQ(loaded->ask(), es_.ask());
  // Saving the resumed state gives the same bytes as saving the uninterrupted one.
  const std::string other = (dir_ / "other.safetensors").string();
  ASSERT_TRUE(loaded->save(path_).ok());
  ASSERT_TRUE(es_.save(other).ok());
  EXPECT_EQ(*read_file(path_), *read_file(other));
}

TEST_F(SepCmaesStateFile, RejectsTruncatedAndCorrupted) {
  std::string bytes = *read_file(path_);
  ASSERT_TRUE(write_file_atomic(path_, bytes.substr(0, bytes.size() - 13)).ok());
  expect_load_error("");
  ASSERT_TRUE(write_file_atomic(path_, bytes.substr(0, 20)).ok());
  expect_load_error("");
  std::string flipped = bytes;
  flipped[flipped.size() - 40] ^= 0x10;  // inside best_x
  ASSERT_TRUE(write_file_atomic(path_, flipped).ok());
  expect_load_error("sha256");
  std::filesystem::remove(path_);
  expect_load_error("");
}

TEST_F(SepCmaesStateFile, RejectsWrongN) {
  Result<SepCmaes> r = SepCmaes::load(path_, 13);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(path_), std::string::npos);
  EXPECT_NE(r.status().message().find("'n'"), std::string::npos) << r.status().message();
  // n in the metadata disagreeing with the tensors' shape.
  std::map<std::string, std::string> meta = saved_metadata();
  meta["n"] = "11";
  rewrite(es_.state(), meta);
  expect_load_error("shape [12], want [11]");
}

TEST_F(SepCmaesStateFile, RejectsBadFields) {
  const std::map<std::string, std::string> original = saved_metadata();
  SepCmaesState s = es_.state();
  s.p_c[3] = std::nan("");
  rewrite(s, original);
  expect_load_error("'p_c': entry 3");
  s = es_.state();
  s.diag_c[0] = -1.0;
  rewrite(s, original);
  expect_load_error("'diag_c'");
  std::map<std::string, std::string> meta = original;
  meta.erase("sigma");
  rewrite(es_.state(), meta);
  expect_load_error("'sigma': missing");
  meta = original;
  meta["sigma"] = "0.5";  // decimal is not accepted: doubles are stored as bits
  rewrite(es_.state(), meta);
  expect_load_error("'sigma'");
  meta = original;
  meta["sigma"] = "0x7ff8000000000000";  // NaN
  rewrite(es_.state(), meta);
  expect_load_error("'sigma'");
  meta = original;
  meta["format"] = "something.else";
  rewrite(es_.state(), meta);
  expect_load_error("'format'");
  meta = original;
  meta["mu"] = "40";
  rewrite(es_.state(), meta);
  expect_load_error("'mu'");
}

struct Case {
  const char* name;
  Fn f;
  int64_t n;
  double x0, sigma0, target;
};

const Case kCases[] = {
    {"sphere", sphere, 10, 1.0, 0.5, 1e-8},         {"sphere", sphere, 100, 1.0, 0.5, 1e-8},
    {"sphere", sphere, 1000, 1.0, 0.5, 1e-8},       {"ellipsoid", ellipsoid, 10, 1.0, 0.5, 1e-8},
    {"ellipsoid", ellipsoid, 100, 1.0, 0.5, 1e-8},  {"rosenbrock", rosenbrock, 10, 0.0, 0.5, 1e-6},
    {"rosenbrock", rosenbrock, 30, 0.0, 0.5, 1e-6},
};

// Not a check: the measurement behind the budgets (seeds 1..20 per case). Run with
//   trinity_train_tests --gtest_also_run_disabled_tests --gtest_filter='*Calibration*'
TEST(SepCmaesCalibration, DISABLED_EvaluationsOverSeeds) {
  for (const Case& c : kCases) {
    std::vector<uint64_t> evals;
    int failed = 0;
    for (uint64_t seed = 1; seed <= 20; ++seed) {
      RunStats r = optimize(c.f, std::vector<double>(static_cast<size_t>(c.n), c.x0), c.sigma0,
                            seed, c.target, 2000000);
      if (r.reached) {
        evals.push_back(r.evals);
      } else {
        ++failed;
        std::printf("  seed %llu: best f %.6g after %llu evaluations\n",
                    static_cast<unsigned long long>(seed), r.best,
                    static_cast<unsigned long long>(r.evals));
      }
    }
    std::sort(evals.begin(), evals.end());
    if (evals.empty()) evals.push_back(0);
    std::printf("%-10s n=%4lld: evals min %llu median %llu max %llu, not reached %d/20\n", c.name,
                static_cast<long long>(c.n), static_cast<unsigned long long>(evals.front()),
                static_cast<unsigned long long>(evals[evals.size() / 2]),
                static_cast<unsigned long long>(evals.back()), failed);
  }
}

}  // namespace
}  // namespace trinity::train
