// Shared pieces of `trinity candidate eval`, `trinity train` and `trinity tasks`: the pool, the
// episode options and the report of a set of episodes.
#pragma once

#include <memory>
#include <string>

#include "cli_common.h"
#include "train/episodes.h"
#include "train/response_cache.h"
#include "train/switchable_router.h"

namespace trinity::cli {

struct EpisodeFlags {
  std::string pool = "skills";
  bool allow_live = false;
  int max_turns = 5;
  std::string cold_verifier;  // "": the pool's
  std::string objective = "correct";
  int chunk = 64;
  std::string response_cache;  // SQLite file; "" = none
  ReflexFlags reflex;
};
void add_episode_options(CLI::App* sub, EpisodeFlags& f);

struct EpisodeSetup {
  std::shared_ptr<const coord::AgentPool> pool;
  train::EpisodeOptions options;
  std::shared_ptr<train::ResponseCache> cache;  // with --response-cache
};
Result<EpisodeSetup> make_episode_setup(const EpisodeFlags& f);

// {accuracy, mean_reward, mean_turns, episodes, correct, agent_histogram, role_histogram,
//  agent_entropy, cost_usd, provider_calls, by_tag}
OrderedJson summary_json(const train::EpisodeSummary& s);
OrderedJson episode_json(const train::EpisodeResult& e);

// A router vector file (.npy / .safetensors) of exactly `length` values, offsets then head.
Result<std::vector<float>> load_full_vector(const std::string& path, int64_t length);

}  // namespace trinity::cli
