#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/file_util.h"
#include "core/random.h"
#include "io/npy.h"
#include "io/router_vector.h"
#include "io/safetensors.h"
#include "train/sep_cmaes.h"

namespace trinity::train {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Times the batches the lockstep router sends (the forward passes).
class TimedRouter final : public Router {
 public:
  explicit TimedRouter(const Router& inner) : inner_(inner) {}
  Result<RouteDecision> route(const std::vector<Message>& messages) const override {
    const auto t0 = Clock::now();
    auto r = inner_.route(messages);
    ms_ += ms_since(t0);
    return r;
  }
  Result<std::vector<RouteDecision>> route_batch(
      const std::vector<std::vector<Message>>& batch) const override {
    const auto t0 = Clock::now();
    auto r = inner_.route_batch(batch);
    ms_ += ms_since(t0);
    return r;
  }
  std::string profile() const override { return inner_.profile(); }
  std::string backend_label() const override { return inner_.backend_label(); }
  ReflexFloors reflex_floors() const override { return inner_.reflex_floors(); }
  void clear_prefix_cache() const override { inner_.clear_prefix_cache(); }
  double take_ms() const {
    const double v = ms_;
    ms_ = 0;
    return v;
  }

 private:
  const Router& inner_;
  mutable double ms_ = 0;  // written under the lockstep router's lock
};

std::vector<float> to_f32(const std::vector<double>& x) {
  return std::vector<float>(x.begin(), x.end());
}

Result<std::vector<double>> initial_mean(const std::string& path, int64_t n) {
  if (path.empty()) return std::vector<double>(static_cast<size_t>(n), 0.0);
  auto rv = load_router_vector(path, n, 0);
  if (!rv.ok()) return rv.status().with_context("--init " + path);
  return std::vector<double>(rv->offsets.begin(), rv->offsets.end());
}

// Keeps the log lines of iterations < `done` (a kill between the log and the state write
// leaves one line too many).
Status truncate_log(const std::string& path, int64_t done) {
  if (!file_exists(path)) return ok_status();
  TRINITY_ASSIGN_OR_RETURN(std::string text, read_file(path));
  std::string kept;
  size_t pos = 0;
  int64_t line_no = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) break;  // a torn last line is dropped
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    auto j = parse_json(line, path + ":" + std::to_string(line_no));
    if (!j.ok()) return j.status();
    if (!j->contains("iteration") || !(*j)["iteration"].is_number_integer())
      return invalid_argument(path + ":" + std::to_string(line_no) + ": no \"iteration\"");
    if ((*j)["iteration"].get<int64_t>() <= done) kept += line + "\n";
  }
  return write_file_atomic(path, kept);
}

Status append_line(const std::string& path, const std::string& line) {
  std::string text;
  if (file_exists(path)) {
    TRINITY_ASSIGN_OR_RETURN(text, read_file(path));
  }
  return write_file_atomic(path, text + line + "\n");
}

}  // namespace

Result<Shaping> parse_shaping(const std::string& s) {
  Shaping out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t end = s.find(',', pos);
    if (end == std::string::npos) end = s.size();
    const std::string item = s.substr(pos, end - pos);
    pos = end + 1;
    const size_t eq = item.find('=');
    if (eq == std::string::npos)
      return invalid_argument("--shaping: '" + item + "' is not key=value");
    const std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    char* stop = nullptr;
    const double v = std::strtod(value.c_str(), &stop);
    if (value.empty() || *stop != '\0' || !std::isfinite(v) || v < 0)
      return invalid_argument("--shaping: " + key + " must be a number >= 0, got '" + value + "'");
    if (key == "diversity")
      out.diversity = v;
    else if (key == "turns")
      out.turns = v;
    else
      return invalid_argument("--shaping: unknown key '" + key + "' (diversity, turns)");
  }
  return out;
}

OrderedJson IterationLog::to_json() const {
  OrderedJson j;
  j["iteration"] = iteration;
  j["fitness"] = {{"best", fitness_best}, {"mean", fitness_mean}, {"worst", fitness_worst}};
  j["reward_mean"] = reward_mean;
  j["best_so_far"] = best_so_far;
  j["sigma"] = sigma;
  j["heldout_accuracy"] = opt_json(heldout_accuracy);
  j["agent_histogram"] = agent_hist;
  OrderedJson roles;
  for (int r = 0; r < kNumRoles; ++r) roles[role_name(r)] = role_hist[static_cast<size_t>(r)];
  j["role_histogram"] = roles;
  j["episodes"] = episodes;
  j["cost_usd"] = coord::micro_to_usd(cost_micro_usd);
  j["time_ms"] = {{"adapt", adapt_ms},
                  {"route", route_ms},
                  {"providers_and_loop", std::max(0.0, episode_ms - route_ms)},
                  {"heldout", heldout_ms},
                  {"iteration", iteration_ms}};
  return j;
}

std::string es_state_path(const std::string& out_dir) {
  return (std::filesystem::path(out_dir) / "es_state.safetensors").string();
}
std::string log_path(const std::string& out_dir) {
  return (std::filesystem::path(out_dir) / "log.jsonl").string();
}

Status write_router_vector(const std::string& stem, std::span<const float> v) {
  const std::vector<int64_t> shape = {static_cast<int64_t>(v.size())};
  TRINITY_RETURN_IF_ERROR(write_npy_f32(stem + ".npy", v.data(), shape));
  return write_safetensors(stem + ".safetensors",
                           {{kRouterVectorTensor, DType::kF32, shape, v.data(), v.size() * 4}});
}

std::vector<size_t> Trainer::iteration_tasks(uint64_t seed, uint64_t iteration, size_t n_tasks,
                                             size_t m) {
  std::vector<size_t> idx(n_tasks);
  for (size_t i = 0; i < n_tasks; ++i) idx[i] = i;
  m = std::min(m, n_tasks);
  for (size_t i = 0; i < m; ++i) {  // partial Fisher-Yates
    const double u = counter_uniform(seed, 0x7a5c0000 + iteration, i);
    const size_t j = i + static_cast<size_t>(u * static_cast<double>(n_tasks - i));
    std::swap(idx[i], idx[std::min(j, n_tasks - 1)]);
  }
  idx.resize(m);
  return idx;
}

Trainer::Trainer(std::shared_ptr<SwitchableRouter> router,
                 std::shared_ptr<const coord::AgentPool> pool, std::vector<Task> train,
                 TrainOptions opt)
    : router_(std::move(router)),
      pool_(std::move(pool)),
      train_(std::move(train)),
      opt_(std::move(opt)) {}

Result<double> Trainer::fitness(std::span<const float> vector,
                                const std::vector<const Task*>& tasks, IterationLog& log,
                                EpisodeSummary* summary) {
  auto t0 = Clock::now();
  TRINITY_RETURN_IF_ERROR(router_->set_vector(vector));
  log.adapt_ms += ms_since(t0);
  t0 = Clock::now();
  TimedRouter timed(*router_);
  TRINITY_ASSIGN_OR_RETURN(auto results, run_episodes(timed, pool_, tasks, opt_.episodes));
  log.episode_ms += ms_since(t0);
  log.route_ms += timed.take_ms();
  *summary = summarize(results, tasks);
  const double turns_term =
      1.0 - summary->mean_turns / static_cast<double>(std::max(1, opt_.episodes.max_turns));
  return summary->mean_reward + opt_.shaping.diversity * summary->agent_entropy +
         opt_.shaping.turns * turns_term;
}

Result<std::vector<EpisodeResult>> Trainer::evaluate(std::span<const float> vector,
                                                     const std::vector<Task>& tasks,
                                                     std::optional<int> fixed_agent) {
  TRINITY_RETURN_IF_ERROR(router_->set_vector(vector));
  std::vector<const Task*> ptrs;
  for (const Task& t : tasks) ptrs.push_back(&t);
  EpisodeOptions eo = opt_.episodes;
  eo.fixed_agent = fixed_agent;
  return run_episodes(*router_, pool_, ptrs, eo);
}

Result<TrainResult> Trainer::run(
    const std::function<void(const IterationLog&, int64_t total)>& progress,
    const std::vector<Task>* heldout) {
  const int64_t n = router_->vector_length();
  const std::string state_path = es_state_path(opt_.out_dir);
  std::error_code ec;
  std::filesystem::create_directories(opt_.out_dir, ec);
  if (ec) return io_error("creating " + opt_.out_dir + ": " + ec.message());
  std::optional<SepCmaes> es;
  if (opt_.resume && file_exists(state_path)) {
    TRINITY_ASSIGN_OR_RETURN(SepCmaes loaded, SepCmaes::load(state_path, n));
    es.emplace(std::move(loaded));
    TRINITY_RETURN_IF_ERROR(
        truncate_log(log_path(opt_.out_dir), static_cast<int64_t>(es->iteration())));
  } else {
    if (!opt_.resume && file_exists(state_path))
      return invalid_argument(opt_.out_dir +
                              " holds a training state (es_state.safetensors): "
                              "pass --resume to continue it, or choose another --out");
    TRINITY_ASSIGN_OR_RETURN(std::vector<double> x0, initial_mean(opt_.init_vector, n));
    SepCmaesOptions so;
    so.sigma0 = opt_.sigma0;
    so.seed = opt_.seed;
    so.population = opt_.population;
    TRINITY_ASSIGN_OR_RETURN(SepCmaes fresh, SepCmaes::create(std::move(x0), so));
    es.emplace(std::move(fresh));
    TRINITY_RETURN_IF_ERROR(write_file_atomic(log_path(opt_.out_dir), ""));
  }
  TrainResult result;
  std::vector<double> x(static_cast<size_t>(n));
  while (static_cast<int64_t>(es->iteration()) < opt_.iterations) {
    const auto t_iter = Clock::now();
    IterationLog log;
    const uint64_t it = es->iteration();
    std::vector<const Task*> tasks;
    for (size_t i :
         iteration_tasks(opt_.seed, it, train_.size(), static_cast<size_t>(opt_.replications)))
      tasks.push_back(&train_[i]);
    std::vector<double> f(static_cast<size_t>(es->population_size()));
    double reward = 0;
    for (int64_t k = 0; k < es->population_size(); ++k) {
      es->sample(k, x);
      EpisodeSummary s;
      TRINITY_ASSIGN_OR_RETURN(double fit, fitness(to_f32(x), tasks, log, &s));
      f[static_cast<size_t>(k)] = -fit;  // the ES minimizes
      reward += s.mean_reward;
      for (int a = 0; a < kNumAgents; ++a) log.agent_hist[a] += s.agent_hist[a];
      for (int r = 0; r < kNumRoles; ++r) log.role_hist[r] += s.role_hist[r];
      log.episodes += s.episodes;
      log.cost_micro_usd += s.cost_micro_usd;
      if (opt_.budget_usd &&
          coord::micro_to_usd(result.cost_micro_usd + log.cost_micro_usd) >= *opt_.budget_usd) {
        // Spend stops here: the unfinished iteration is dropped (state and outputs stay at the
        // last complete one); what it spent is reported.
        result.cost_micro_usd += log.cost_micro_usd;
        result.stopped_by_budget = true;
        break;
      }
    }
    if (result.stopped_by_budget) break;
    TRINITY_RETURN_IF_ERROR(es->tell(f));
    log.iteration = static_cast<int64_t>(es->iteration());
    log.fitness_best = -*std::min_element(f.begin(), f.end());
    log.fitness_worst = -*std::max_element(f.begin(), f.end());
    double sum = 0;
    for (double v : f) sum -= v;
    log.fitness_mean = sum / static_cast<double>(f.size());
    log.reward_mean = reward / static_cast<double>(f.size());
    log.sigma = es->state().sigma;
    log.best_so_far = -es->state().best_f;
    const bool last = log.iteration == opt_.iterations;
    const std::vector<float> mean = to_f32(es->state().mean);
    if (heldout && opt_.heldout_every > 0 && (log.iteration % opt_.heldout_every == 0 || last)) {
      const auto t_heldout = Clock::now();
      TRINITY_ASSIGN_OR_RETURN(auto hr, evaluate(mean, *heldout));
      log.heldout_ms = ms_since(t_heldout);
      std::vector<const Task*> hp;
      for (const Task& t : *heldout) hp.push_back(&t);
      log.heldout_accuracy = summarize(hr, hp).accuracy;
    }
    // Outputs first, the state last: a kill in between only repeats this iteration.
    const std::filesystem::path out(opt_.out_dir);
    TRINITY_RETURN_IF_ERROR(write_router_vector((out / "vector").string(), mean));
    TRINITY_RETURN_IF_ERROR(
        write_router_vector((out / "best").string(), to_f32(es->state().best_x)));
    log.iteration_ms = ms_since(t_iter);
    TRINITY_RETURN_IF_ERROR(append_line(log_path(opt_.out_dir), log.to_json().dump()));
    TRINITY_RETURN_IF_ERROR(es->save(state_path));
    result.cost_micro_usd += log.cost_micro_usd;
    result.log.push_back(log);
    if (progress) progress(log, opt_.iterations);
  }
  result.iterations_done = static_cast<int64_t>(es->iteration());
  result.population = es->population_size();
  result.vector = to_f32(es->state().mean);
  result.best = to_f32(es->state().best_x);
  return result;
}

}  // namespace trinity::train
