// trinity candidate eval: a router vector (or bundle) on a task file, through the real
// orchestrator loop, without changing the vector. `--fixed-agent K` keeps the routed roles and
// dispatches every turn to slot K: is routing better than always calling my best model?
#include <chrono>
#include <cstdio>

#include "cli_train.h"
#include "train/tasks.h"

namespace trinity::cli {
namespace {

struct Options {
  RouterSource src;
  EpisodeFlags episodes;
  std::string tasks;
  int fixed_agent = -1;
  bool json = false;
};

Result<std::shared_ptr<const Router>> open_candidate_router(const RouterSource& src) {
  if (src.vector.empty()) {  // a bundle (or mock_tiny): the `run` path as is
    TRINITY_ASSIGN_OR_RETURN(auto r, open_router(src));
    return std::shared_ptr<const Router>(std::move(r));
  }
  // A vector: the base model with the SVF overlay, as training evaluates it.
  TRINITY_ASSIGN_OR_RETURN(auto r, train::SwitchableRouter::open(src));
  TRINITY_ASSIGN_OR_RETURN(auto v, load_full_vector(src.vector, r->vector_length()));
  TRINITY_RETURN_IF_ERROR(r->set_vector(v));
  return std::shared_ptr<const Router>(std::move(r));
}

void print_text(const Options& o, const train::EpisodeSummary& s, double seconds) {
  std::printf(
      "tasks %s: %lld episodes, accuracy %.3f (%lld correct), mean reward %.3f, "
      "mean turns %.2f\n",
      o.tasks.c_str(), static_cast<long long>(s.episodes), s.accuracy,
      static_cast<long long>(s.correct), s.mean_reward, s.mean_turns);
  std::printf("agents dispatched:");
  for (int a = 0; a < kNumAgents; ++a)
    std::printf(" %d:%lld", a, static_cast<long long>(s.agent_hist[static_cast<size_t>(a)]));
  std::printf("  roles:");
  for (int r = 0; r < kNumRoles; ++r)
    std::printf(" %s:%lld", role_name(r),
                static_cast<long long>(s.role_hist[static_cast<size_t>(r)]));
  std::printf("\n");
  for (const auto& [tag, c] : s.by_tag)
    std::printf("  %-12s %.3f (%lld/%lld)\n", tag.c_str(),
                static_cast<double>(c.first) / static_cast<double>(c.second),
                static_cast<long long>(c.first), static_cast<long long>(c.second));
  std::printf("cost $%.6f, %lld provider calls, %.2f s (%.1f episodes/s)\n",
              coord::micro_to_usd(s.cost_micro_usd), static_cast<long long>(s.provider_calls),
              seconds, seconds > 0 ? static_cast<double>(s.episodes) / seconds : 0.0);
}

int run(Options& o) {
  const std::string cmd = "candidate eval";
  if (o.src.vector.empty() && o.src.artifact.empty() && o.src.profile != "mock_tiny")
    return report_error(cmd, invalid_argument("give --vector FILE or --artifact DIR"));
  auto tasks = train::load_tasks(o.tasks);
  if (!tasks.ok()) return report_error(cmd, tasks.status());
  auto setup = make_episode_setup(o.episodes);
  if (!setup.ok()) return report_error(cmd, setup.status());
  if (o.fixed_agent >= 0) setup->options.fixed_agent = o.fixed_agent;
  auto router = open_candidate_router(o.src);
  if (!router.ok()) return report_error(cmd, router.status());
  std::vector<const train::Task*> ptrs;
  for (const auto& t : *tasks) ptrs.push_back(&t);
  const auto t0 = std::chrono::steady_clock::now();
  auto results = train::run_episodes(**router, setup->pool, ptrs, setup->options);
  if (!results.ok()) return report_error(cmd, results.status());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const train::EpisodeSummary s = train::summarize(*results, ptrs);
  if (o.json) {
    OrderedJson j;
    j["tasks"] = o.tasks;
    j["source"] = o.src.vector.empty() ? "artifact " + o.src.artifact : "vector " + o.src.vector;
    j["pool"] = setup->pool->config.name;
    j["objective"] = train::objective_name(setup->options.objective);
    j["fixed_agent"] = o.fixed_agent >= 0 ? OrderedJson(o.fixed_agent) : OrderedJson(nullptr);
    j.update(summary_json(s));
    if (setup->cache) j["response_cache"] = setup->cache->stats().to_json();
    j["elapsed_s"] = seconds;
    j["episodes_per_s"] = seconds > 0 ? static_cast<double>(s.episodes) / seconds : 0.0;
    OrderedJson rs = OrderedJson::array();
    for (const auto& e : *results) rs.push_back(episode_json(e));
    j["results"] = rs;
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    print_text(o, s, seconds);
  }
  return kExitOk;
}

}  // namespace

void register_candidate(CLI::App& app, CommandRegistry& reg) {
  CLI::App* cand = app.add_subcommand("candidate", "Evaluate router vectors on task files");
  cand->require_subcommand(1);
  auto o = std::make_shared<Options>();
  CLI::App* sub = cand->add_subcommand(
      "eval",
      "Run every task of a task file (JSONL: id, prompt|messages, answer, check, tags) through "
      "the orchestrator loop with a router vector or bundle; report accuracy, mean reward, "
      "agent/role histograms, turns, cost and per-task results. The vector is never changed.");
  add_router_source_options(sub, o->src);
  sub->add_option("--tasks", o->tasks, "Task file (JSONL)")->required();
  sub->add_option("--fixed-agent", o->fixed_agent,
                  "Dispatch every turn to agent slot K (0-6); roles stay routed")
      ->check(CLI::Range(0, kNumAgents - 1));
  sub->add_flag("--json", o->json, "Print one JSON report, with per-task results");
  add_episode_options(sub, o->episodes);
  reg.add(sub, [o] { return run(*o); });
}

}  // namespace trinity::cli
