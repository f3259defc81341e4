// `trinity train`: sep-CMA-ES over the whole router vector (SVF offsets + head), fitness from
// episodes of the real orchestrator loop (train/episodes.h), candidates switched by the SVF
// overlay (model/svf_overlay.h) instead of exports.
//
// One iteration: the m tasks of the iteration (drawn from (seed, iteration), the same for every
// candidate: common random numbers), then for each of the lambda candidates its vector is set
// and its m episodes run (routes batched); fitness = mean reward + diversity * (normalized
// entropy of the dispatched agents) + turns * (1 - mean turns / max turns); the ES minimizes
// -fitness. After each iteration the ES state, vector.npy/.safetensors (the mean), best.npy
// and one log.jsonl line are written atomically, state last; --resume continues from the state
// and gives the vector an uninterrupted run gives.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "coord/orchestrator.h"
#include "train/episodes.h"
#include "train/switchable_router.h"
#include "train/tasks.h"

namespace trinity::train {

struct Shaping {
  double diversity = 0.15;
  double turns = 0.10;
};
// "diversity=0.15,turns=0.10" (either key may be omitted; values finite and >= 0).
Result<Shaping> parse_shaping(const std::string& s);

struct TrainOptions {
  std::string out_dir;
  std::string init_vector;  // "" = zeros
  int64_t iterations = 60;
  int64_t population = 0;  // 0: 4 + floor(3 ln n)
  int64_t replications = 16;
  double sigma0 = 0.03;
  Shaping shaping;
  uint64_t seed = 1;
  bool resume = false;
  int64_t heldout_every = 5;
  std::optional<double> budget_usd;  // stop when the spend reaches it
  EpisodeOptions episodes;
};

// One log.jsonl line.
struct IterationLog {
  int64_t iteration = 0;  // 1-based: iterations completed
  double fitness_best = 0, fitness_mean = 0, fitness_worst = 0, reward_mean = 0;
  double sigma = 0, best_so_far = 0;
  std::optional<double> heldout_accuracy;
  std::array<int64_t, kNumAgents> agent_hist{};
  std::array<int64_t, kNumRoles> role_hist{};
  double adapt_ms = 0, route_ms = 0, episode_ms = 0, heldout_ms = 0, iteration_ms = 0;
  int64_t episodes = 0, cost_micro_usd = 0;
  OrderedJson to_json() const;
};

struct TrainResult {
  std::vector<float> vector;  // the final mean
  std::vector<float> best;
  int64_t iterations_done = 0;
  int64_t population = 0;  // lambda
  bool stopped_by_budget = false;
  int64_t cost_micro_usd = 0;
  std::vector<IterationLog> log;  // this process's iterations
};

class Trainer {
 public:
  Trainer(std::shared_ptr<SwitchableRouter> router, std::shared_ptr<const coord::AgentPool> pool,
          std::vector<Task> train, TrainOptions opt);
  // Runs (or resumes) to opt.iterations. `progress` (optional) after every iteration.
  Result<TrainResult> run(const std::function<void(const IterationLog&, int64_t total)>& progress,
                          const std::vector<Task>* heldout = nullptr);

  // Episodes of `vector` on tasks (accuracy etc.), e.g. for the held-out report.
  Result<std::vector<EpisodeResult>> evaluate(std::span<const float> vector,
                                              const std::vector<Task>& tasks,
                                              std::optional<int> fixed_agent = std::nullopt);

  // The m task indices of an iteration: distinct, from (seed, iteration).
  static std::vector<size_t> iteration_tasks(uint64_t seed, uint64_t iteration, size_t n_tasks,
                                             size_t m);

 private:
  Result<double> fitness(std::span<const float> vector, const std::vector<const Task*>& tasks,
                         IterationLog& log, EpisodeSummary* summary);

  std::shared_ptr<SwitchableRouter> router_;
  std::shared_ptr<const coord::AgentPool> pool_;
  std::vector<Task> train_;
  TrainOptions opt_;
};

// Files under the output directory.
std::string es_state_path(const std::string& out_dir);  // es_state.safetensors
std::string log_path(const std::string& out_dir);       // log.jsonl

// Writes a router vector as .npy and as .safetensors (tensor trinity_router_es_vector).
Status write_router_vector(const std::string& stem, std::span<const float> v);

}  // namespace trinity::train
