#include "train/episodes.h"

#include "train/fitness_score.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace trinity::train {

Result<Objective> parse_objective(const std::string& s) {
  if (s == "correct") return Objective::kCorrect;
  if (s == "score_v1") return Objective::kScoreV1;
  return invalid_argument("--objective must be correct or score_v1, got '" + s + "'");
}

const char* objective_name(Objective o) {
  return o == Objective::kCorrect ? "correct" : "score_v1";
}

namespace {

thread_local size_t tls_slot = 0;

// See episodes.h: routes the runs of a chunk in lockstep, one batch per step, in slot order.
// The batches run on the thread that calls serve() (the caller of run_episodes), never on an
// episode thread: every forward pass of a process then comes from one thread, so the engine's
// OpenMP team is created once and reused (a team per episode thread would leave dozens of
// spinning workers competing for the cores).
class LockstepRouter final : public Router {
 public:
  LockstepRouter(const Router& inner, size_t runs)
      : inner_(inner), live_(runs), pending_(runs), results_(runs) {}

  Result<RouteDecision> route(const std::vector<Message>& messages) const override {
    const size_t slot = tls_slot;
    std::unique_lock<std::mutex> lk(mu_);
    pending_[slot] = &messages;
    ++waiting_;
    server_cv_.notify_one();
    cv_.wait(lk, [&] { return results_[slot].has_value(); });
    Result<RouteDecision> r = std::move(*results_[slot]);
    results_[slot].reset();
    return r;
  }
  // The calling slot's run is over.
  void finish() const {
    std::lock_guard<std::mutex> lk(mu_);
    --live_;
    server_cv_.notify_one();
  }
  // Routes a batch whenever every live run waits; returns when no run is live.
  void serve() const {
    std::unique_lock<std::mutex> lk(mu_);
    for (;;) {
      server_cv_.wait(lk, [&] { return live_ == 0 || waiting_ == live_; });
      if (live_ == 0) return;
      route_waiting();
    }
  }
  std::string profile() const override { return inner_.profile(); }
  std::string backend_label() const override { return inner_.backend_label(); }
  ReflexFloors reflex_floors() const override { return inner_.reflex_floors(); }

 private:
  // Under mu_: routes every waiting run at once (slot order) and wakes them.
  void route_waiting() const {
    std::vector<size_t> slots;
    std::vector<std::vector<Message>> batch;
    for (size_t s = 0; s < pending_.size(); ++s)
      if (pending_[s]) slots.push_back(s), batch.push_back(*pending_[s]);
    auto decisions = inner_.route_batch(batch);
    for (size_t i = 0; i < slots.size(); ++i) {
      if (decisions.ok())
        results_[slots[i]] = std::move((*decisions)[i]);
      else
        results_[slots[i]] = Result<RouteDecision>(decisions.status());
      pending_[slots[i]] = nullptr;
    }
    waiting_ = 0;
    cv_.notify_all();
  }

  const Router& inner_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_, server_cv_;
  mutable size_t live_, waiting_ = 0;
  mutable std::vector<const std::vector<Message>*> pending_;
  mutable std::vector<std::optional<Result<RouteDecision>>> results_;
};

// Keeps the routed role, dispatches a fixed agent (`candidate eval --fixed-agent K`).
class FixedAgentRouter final : public Router {
 public:
  FixedAgentRouter(const Router& inner, int agent) : inner_(inner), agent_(agent) {}
  Result<RouteDecision> route(const std::vector<Message>& messages) const override {
    TRINITY_ASSIGN_OR_RETURN(RouteDecision d, inner_.route(messages));
    d.agent_id = agent_;
    return d;
  }
  std::string profile() const override { return inner_.profile(); }
  std::string backend_label() const override { return inner_.backend_label(); }
  ReflexFloors reflex_floors() const override { return inner_.reflex_floors(); }

 private:
  const Router& inner_;
  int agent_;
};

std::shared_ptr<const Router> unowned(const Router& r) {
  return std::shared_ptr<const Router>(&r, [](const Router*) {});
}

EpisodeResult episode_of(const Task& task, const coord::RunResult& run, Objective objective) {
  EpisodeResult e;
  e.task_id = task.id;
  e.status = run.run_status();
  e.failure_reason = run.failure_reason;
  e.answer = run.answer ? run.answer : run.latest_worker_answer;
  // An unverified final answer counts like an accepted one (docs/training.md).
  if (!run.ok() && run.outcome != "max_turns") e.answer = run.answer;
  e.correct = e.answer && task.check.passes(*e.answer);
  e.reward = objective == Objective::kCorrect ? (e.correct ? 1.0 : 0.0) : run_score_v1(run);
  for (const auto& t : run.turns) e.agents.push_back(t.agent_id), e.roles.push_back(t.role_id);
  e.cost_micro_usd = run.usage.cost_micro_usd;
  e.provider_calls = run.usage.provider_calls;
  return e;
}

}  // namespace

Result<std::vector<EpisodeResult>> run_episodes(const Router& router,
                                                std::shared_ptr<const coord::AgentPool> pool,
                                                const std::vector<const Task*>& tasks,
                                                const EpisodeOptions& opt) {
  if (opt.fixed_agent && (*opt.fixed_agent < 0 || *opt.fixed_agent >= kNumAgents))
    return invalid_argument("--fixed-agent must be in 0..6");
  std::vector<EpisodeResult> out(tasks.size());
  const size_t chunk = static_cast<size_t>(std::max(1, opt.chunk));
  for (size_t c0 = 0; c0 < tasks.size(); c0 += chunk) {
    const size_t n = std::min(chunk, tasks.size() - c0);
    LockstepRouter lockstep(router, n);
    FixedAgentRouter fixed(lockstep, opt.fixed_agent.value_or(0));
    const Router& top = opt.fixed_agent ? static_cast<const Router&>(fixed) : lockstep;
    coord::Orchestrator orch(unowned(top), pool);
    std::vector<coord::RunResult> runs(n);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < n; ++i) {
      threads.emplace_back([&, i] {
        tls_slot = i;
        coord::RunOptions ro;
        ro.max_turns = opt.max_turns;
        ro.cold_verifier = opt.cold_verifier;
        ro.reflex = opt.reflex;
        ro.budgets = opt.budgets;
        ro.run_id = "task-" + tasks[c0 + i]->id;
        ro.seed = opt.seed;
        runs[i] = orch.run(tasks[c0 + i]->messages, ro);
        lockstep.finish();
      });
    }
    lockstep.serve();
    for (auto& t : threads) t.join();
    for (size_t i = 0; i < n; ++i) {
      if (runs[i].failure_reason == "router_error") return runs[i].status;
      out[c0 + i] = episode_of(*tasks[c0 + i], runs[i], opt.objective);
    }
  }
  return out;
}

double run_score_v1(const coord::RunResult& run) {
  // The run as one fitness example (`fitness export --unit run`): the minimum margins over its
  // routes, the outcome from how it ended (else its last Verifier verdict), its revisions.
  ScoreInputs in;
  std::optional<double> agent_margin, role_margin;
  std::string last_verdict;
  for (const auto& t : run.turns) {
    if (t.agent_margin)
      agent_margin = agent_margin ? std::min(*agent_margin, *t.agent_margin) : *t.agent_margin;
    if (t.role_margin)
      role_margin = role_margin ? std::min(*role_margin, *t.role_margin) : *t.role_margin;
    if (t.role_id == kRoleVerifier && !t.verdict.empty())
      last_verdict = t.verdict == "accept" ? "accepted" : "revise";
  }
  in.agent_margin = agent_margin ? Json(*agent_margin) : Json();
  in.role_margin = role_margin ? Json(*role_margin) : Json();
  if (run.outcome == "accepted")
    in.verifier_status = "accepted";
  else if (run.outcome == "failed")
    in.verifier_status = "failed";
  else if (!last_verdict.empty())
    in.verifier_status = last_verdict;
  in.revision_count = run.usage.verifier_revisions;
  in.budget_exceeded = run.budget_violation.has_value();
  return score_v1(in, ScoreOptions{}).score;
}

EpisodeSummary summarize(const std::vector<EpisodeResult>& results,
                         const std::vector<const Task*>& tasks) {
  EpisodeSummary s;
  s.episodes = static_cast<int64_t>(results.size());
  double reward = 0, turns = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    const EpisodeResult& e = results[i];
    s.correct += e.correct;
    reward += e.reward;
    turns += static_cast<double>(e.agents.size());
    for (int a : e.agents) ++s.agent_hist[static_cast<size_t>(a)];
    for (int r : e.roles) ++s.role_hist[static_cast<size_t>(r)];
    s.cost_micro_usd += e.cost_micro_usd;
    s.provider_calls += e.provider_calls;
    if (i < tasks.size())
      for (const auto& tag : tasks[i]->tags) {
        auto& [ok, total] = s.by_tag[tag];
        ok += e.correct, ++total;
      }
  }
  if (s.episodes > 0) {
    const double n = static_cast<double>(s.episodes);
    s.accuracy = static_cast<double>(s.correct) / n;
    s.mean_reward = reward / n;
    s.mean_turns = turns / n;
  }
  int64_t dispatched = 0;
  for (int64_t c : s.agent_hist) dispatched += c;
  for (int64_t c : s.agent_hist)
    if (c > 0) {
      const double p = static_cast<double>(c) / static_cast<double>(dispatched);
      s.agent_entropy -= p * std::log(p);
    }
  s.agent_entropy /= std::log(static_cast<double>(kNumAgents));
  return s;
}

}  // namespace trinity::train
