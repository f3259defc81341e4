#include "cli_train.h"

#include "core/file_util.h"
#include "io/router_vector.h"

namespace trinity::cli {

void add_episode_options(CLI::App* sub, EpisodeFlags& f) {
  sub->add_option("--pool", f.pool,
                  "Agent pool: 'skills' (built-in simulated specialists, default), 'mock', or a "
                  "pool JSON file");
  sub->add_flag("--allow-live", f.allow_live, "Allow pools with live (paid) providers");
  sub->add_option("--max-turns", f.max_turns, "Turns per episode (default 5)");
  sub->add_option("--cold-verifier", f.cold_verifier,
                  "worker (default) or error: a Verifier turn before any Worker answer");
  sub->add_option("--objective", f.objective,
                  "Episode reward: correct (1 when the final answer passes the task's check, "
                  "accepted or unverified; default) or score_v1 (the reference's score)");
  sub->add_option("--chunk", f.chunk,
                  "Episodes run together, their routes batched in lockstep (default 64)");
  sub->add_option("--response-cache", f.response_cache,
                  "SQLite file of provider replies, keyed by provider, model, parameters and the "
                  "exact messages: repeated episodes with temperature-0 pools are free");
  add_reflex_options(sub, f.reflex);
}

Result<EpisodeSetup> make_episode_setup(const EpisodeFlags& f) {
  EpisodeSetup s;
  if (f.max_turns < 1) return invalid_argument("--max-turns must be >= 1");
  if (f.chunk < 1) return invalid_argument("--chunk must be >= 1");
  TRINITY_ASSIGN_OR_RETURN(coord::PoolConfig cfg, coord::load_pool(f.pool));
  TRINITY_ASSIGN_OR_RETURN(
      s.pool, coord::AgentPool::create(std::move(cfg), f.allow_live, coord::process_env()));
  if (!f.response_cache.empty()) {
    TRINITY_ASSIGN_OR_RETURN(s.cache, train::ResponseCache::open(f.response_cache));
    s.pool = train::with_response_cache(s.pool, s.cache);
  }
  s.options.max_turns = f.max_turns;
  s.options.chunk = f.chunk;
  s.options.cold_verifier = s.pool->config.cold_verifier.value_or(coord::ColdVerifier::kWorker);
  if (!f.cold_verifier.empty()) {
    auto cv = coord::parse_cold_verifier(f.cold_verifier);
    if (!cv.ok()) return cv.status().with_context("--cold-verifier");
    s.options.cold_verifier = *cv;
  }
  TRINITY_ASSIGN_OR_RETURN(s.options.objective, train::parse_objective(f.objective));
  TRINITY_ASSIGN_OR_RETURN(s.options.reflex, f.reflex.to_config());
  return s;
}

OrderedJson summary_json(const train::EpisodeSummary& s) {
  OrderedJson j;
  j["episodes"] = s.episodes;
  j["correct"] = s.correct;
  j["accuracy"] = s.accuracy;
  j["mean_reward"] = s.mean_reward;
  j["mean_turns"] = s.mean_turns;
  j["agent_histogram"] = s.agent_hist;
  OrderedJson roles;
  for (int r = 0; r < kNumRoles; ++r) roles[role_name(r)] = s.role_hist[static_cast<size_t>(r)];
  j["role_histogram"] = roles;
  j["agent_entropy"] = s.agent_entropy;
  j["cost_usd"] = coord::micro_to_usd(s.cost_micro_usd);
  j["provider_calls"] = s.provider_calls;
  OrderedJson tags = OrderedJson::object();
  for (const auto& [tag, counts] : s.by_tag)
    tags[tag] = {{"accuracy", static_cast<double>(counts.first) / counts.second},
                 {"correct", counts.first},
                 {"total", counts.second}};
  j["by_tag"] = tags;
  return j;
}

OrderedJson episode_json(const train::EpisodeResult& e) {
  OrderedJson j;
  j["id"] = e.task_id;
  j["correct"] = e.correct;
  j["reward"] = e.reward;
  j["status"] = e.status;
  if (!e.failure_reason.empty()) j["failure_reason"] = e.failure_reason;
  j["answer"] = opt_json(e.answer);
  j["agents"] = e.agents;
  OrderedJson roles = OrderedJson::array();
  for (int r : e.roles) roles.push_back(role_name(r));
  j["roles"] = roles;
  return j;
}

Result<std::vector<float>> load_full_vector(const std::string& path, int64_t length) {
  // The offsets/head split does not matter here: ask for all values as "offsets".
  auto rv = load_router_vector(path, length, 0);
  if (!rv.ok()) return rv.status().with_context(path);
  return std::move(rv->offsets);
}

}  // namespace trinity::cli
