// Episodes: tasks run through the real orchestrator loop (the code path of `trinity run`),
// with every candidate's routes batched across its tasks.
//
// Batching is deterministic: the runs of a chunk advance in lockstep. A run that needs a route
// waits until every other live run of its chunk waits too (or has finished); then one forward
// pass routes them all, in task order. The batches, and so every bit of every decision, depend
// only on the tasks and the vector: never on thread timing or --threads.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "coord/orchestrator.h"
#include "train/tasks.h"

namespace trinity::train {

enum class Objective { kCorrect, kScoreV1 };
Result<Objective> parse_objective(const std::string& s);  // "correct" | "score_v1"
const char* objective_name(Objective o);

struct EpisodeOptions {
  int max_turns = 5;
  coord::ColdVerifier cold_verifier = coord::ColdVerifier::kWorker;
  coord::ReflexConfig reflex;
  coord::Budgets budgets;
  std::optional<int> fixed_agent;  // dispatch every turn to this slot (roles stay routed)
  Objective objective = Objective::kCorrect;
  int chunk = 64;  // runs per lockstep chunk
  uint64_t seed = 0;
};

struct EpisodeResult {
  std::string task_id;
  bool correct = false;
  double reward = 0;   // 1/0 under kCorrect; the run's score v1 under kScoreV1
  std::string status;  // accepted | unverified | failed
  std::string failure_reason;
  std::optional<std::string> answer;
  std::vector<int> agents, roles;  // dispatched, per turn
  int64_t cost_micro_usd = 0;
  int64_t provider_calls = 0;
};

// Runs every task once. Errors only for failures of the machinery (routing); a failed run is
// an episode with reward 0.
Result<std::vector<EpisodeResult>> run_episodes(const Router& router,
                                                std::shared_ptr<const coord::AgentPool> pool,
                                                const std::vector<const Task*>& tasks,
                                                const EpisodeOptions& opt);

// Score v1 (train/fitness_score.h) of a finished run taken as one example: its minimum margins,
// its outcome (accepted / failed, else its last Verifier verdict), revisions and budget; no
// latency or cost targets.
double run_score_v1(const coord::RunResult& run);

struct EpisodeSummary {
  int64_t episodes = 0, correct = 0;
  double accuracy = 0, mean_reward = 0, mean_turns = 0;
  std::array<int64_t, kNumAgents> agent_hist{};
  std::array<int64_t, kNumRoles> role_hist{};
  double agent_entropy = 0;  // of the dispatched agents, normalized to [0, 1] by ln 7
  int64_t cost_micro_usd = 0, provider_calls = 0;
  std::map<std::string, std::pair<int64_t, int64_t>> by_tag;  // tag -> (correct, total)
};
EpisodeSummary summarize(const std::vector<EpisodeResult>& results,
                         const std::vector<const Task*>& tasks);

}  // namespace trinity::train
