// Episodes (train/episodes.h) with the skills pool and a model-free router: lockstep batching,
// determinism, fixed agents, score v1 of a run, summaries; the trainer's task draws and shaping.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <mutex>
#include <set>

#include "coord/skills.h"
#include "train/episodes.h"
#include "train/trainer.h"

namespace trinity::train {
namespace {

// Routes the user's question to its category's specialist as a Worker, then asks the same
// specialist to verify; records every batch it is given.
class SpecialistRouter final : public Router {
 public:
  Result<RouteDecision> route(const std::vector<Message>& m) const override {
    auto b = route_batch({m});
    if (!b.ok()) return b.status();
    return (*b)[0];
  }
  Result<std::vector<RouteDecision>> route_batch(
      const std::vector<std::vector<Message>>& batch) const override {
    {
      std::lock_guard<std::mutex> lk(mu_);
      batch_sizes.push_back(batch.size());
    }
    std::vector<RouteDecision> out;
    for (const auto& m : batch) {
      const auto q = coord::solve_skills_question(m[0].content);
      const int agent = q ? static_cast<int>(q->category) : 6;
      const int role = m.back().role == "user" ? kRoleWorker : kRoleVerifier;
      std::array<float, kNumAgents> a{};
      std::array<float, kNumRoles> r{};
      a[static_cast<size_t>(agent)] = 2.0f;
      r[static_cast<size_t>(role)] = 3.0f;
      TRINITY_ASSIGN_OR_RETURN(RouteDecision d, make_route_decision(m, a, r));
      out.push_back(std::move(d));
    }
    return out;
  }
  std::string profile() const override { return "specialist"; }
  mutable std::vector<size_t> batch_sizes;

 private:
  mutable std::mutex mu_;
};

std::shared_ptr<const coord::AgentPool> skills_pool() {
  auto p = coord::AgentPool::create(coord::builtin_skills_pool(), false, coord::process_env());
  EXPECT_TRUE(p.ok()) << p.status().message();
  return *p;
}

std::vector<const Task*> ptrs(const std::vector<Task>& tasks) {
  std::vector<const Task*> out;
  for (const auto& t : tasks) out.push_back(&t);
  return out;
}

TEST(Episodes, LockstepBatchesAndDeterminism) {
  const auto tasks = generate_skills_tasks(40, 11);
  SpecialistRouter router;
  EpisodeOptions opt;
  opt.chunk = 16;
  auto a = run_episodes(router, skills_pool(), ptrs(tasks), opt);
  ASSERT_TRUE(a.ok()) << a.status().message();
  // The first route of each chunk batches the whole chunk: 16, 16, 8.
  ASSERT_GE(router.batch_sizes.size(), 3u);
  EXPECT_EQ(router.batch_sizes[0], 16u);
  size_t routed = 0;
  for (size_t s : router.batch_sizes) routed += s;
  size_t turns = 0;
  for (const auto& e : *a) turns += e.agents.size();
  EXPECT_EQ(routed, turns);  // one route per turn, all of them batched
  auto b = run_episodes(router, skills_pool(), ptrs(tasks), opt);
  ASSERT_TRUE(b.ok());
  for (size_t i = 0; i < tasks.size(); ++i) {
    EXPECT_EQ((*a)[i].answer, (*b)[i].answer) << i;
    EXPECT_EQ((*a)[i].agents, (*b)[i].agents) << i;
  }
  // Specialists as Workers and Verifiers: well above any single agent.
  const EpisodeSummary s = summarize(*a, ptrs(tasks));
  EXPECT_GE(s.accuracy, 0.85);
  EXPECT_EQ(s.by_tag.size(), 5u);
  EXPECT_GT(s.agent_entropy, 0.7);  // five agents used about equally: ln 5 / ln 7 = 0.83
}

TEST(Episodes, FixedAgentDispatchesOneSlot) {
  const auto tasks = generate_skills_tasks(20, 12);
  SpecialistRouter router;
  EpisodeOptions opt;
  opt.fixed_agent = 6;
  auto r = run_episodes(router, skills_pool(), ptrs(tasks), opt);
  ASSERT_TRUE(r.ok());
  const EpisodeSummary s = summarize(*r, ptrs(tasks));
  int64_t calls = 0;
  for (int64_t c : s.agent_hist) calls += c;
  EXPECT_EQ(s.agent_hist[6], calls);
  EXPECT_LE(s.accuracy, 0.5);  // the weak agent
  opt.fixed_agent = 7;
  EXPECT_FALSE(run_episodes(router, skills_pool(), ptrs(tasks), opt).ok());
}

TEST(Episodes, ScoreV1OfARun) {
  coord::RunResult run;
  run.outcome = "accepted";
  coord::TurnRecord w, v;
  w.role_id = kRoleWorker, w.agent_margin = 0.96, w.role_margin = 8.48;
  v.role_id = kRoleVerifier, v.verdict = "accept", v.agent_margin = 1.92, v.role_margin = 4.24;
  run.turns = {w, v};
  // min margins 0.96 / 4.24: ratios 4 and 4 -> log2(4) / 4 = 0.5 -> +0.1; accepted +0.3.
  EXPECT_NEAR(run_score_v1(run), 0.5 + 0.3 + 0.1, 1e-12);
  run.outcome = "max_turns";
  v.verdict = "revise";
  run.turns = {w, v};
  run.usage.verifier_revisions = 1;
  // revise -0.2, one revision -0.1: 0.5 - 0.2 + 0.1 - 0.1 = 0.3.
  EXPECT_NEAR(run_score_v1(run), 0.3, 1e-12);
  run.outcome = "failed";
  run.budget_violation = coord::BudgetViolation{};
  // failed -0.35, budget -0.25: 0.5 - 0.35 + 0.1 - 0.1 - 0.25 < 0 -> clamped to 0.
  EXPECT_EQ(run_score_v1(run), 0.0);
}

TEST(Trainer, IterationTasksAreDistinctAndReproducible) {
  const auto a = Trainer::iteration_tasks(3, 7, 100, 16);
  EXPECT_EQ(a, Trainer::iteration_tasks(3, 7, 100, 16));
  EXPECT_NE(a, Trainer::iteration_tasks(3, 8, 100, 16));
  EXPECT_EQ(std::set<size_t>(a.begin(), a.end()).size(), 16u);
  for (size_t i : a) EXPECT_LT(i, 100u);
  EXPECT_EQ(Trainer::iteration_tasks(1, 0, 5, 16).size(), 5u);  // fewer tasks than m
}

TEST(Trainer, ShapingFlag) {
  auto s = parse_shaping("diversity=0.2,turns=0");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->diversity, 0.2);
  EXPECT_EQ(s->turns, 0.0);
  EXPECT_EQ(parse_shaping("turns=0.5")->diversity, 0.15);
  for (const char* bad : {"diversity", "speed=1", "turns=-1", "turns=nan", "turns=1x"})
    EXPECT_FALSE(parse_shaping(bad).ok()) << bad;
}

}  // namespace
}  // namespace trinity::train
