#include "eval/runner.h"

#include "eval/run_info.h"

#include <chrono>
#include <cstdio>

namespace trinity::eval {

namespace {

std::string route_str(int agent, int role) {
  return "agent " + std::to_string(agent) + " (" + agent_label(agent) + "), role " +
         std::to_string(role) + " (" + role_name(role) + ")";
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<std::vector<Message>> batch_of(const std::vector<EvalCase>& cases) {
  std::vector<std::vector<Message>> batch;
  batch.reserve(cases.size());
  for (const auto& c : cases) batch.push_back(c.messages);
  return batch;
}

// One pass over every case. On a batch failure, routes the cases one by one to name the culprit.
Result<std::vector<RouteDecision>> route_pass(const Router& router,
                                              const std::vector<EvalCase>& cases) {
  auto out = router.route_batch(batch_of(cases));
  if (out.ok()) {
    if (out->size() != cases.size()) {
      return internal_error("router returned " + std::to_string(out->size()) + " decisions for " +
                            std::to_string(cases.size()) + " cases");
    }
    return out;
  }
  for (const auto& c : cases) {
    auto d = router.route(c.messages);
    if (!d.ok()) return d.status().with_context("routing case '" + c.id + "'");
  }
  return out.status().with_context("routing the cases");
}

}  // namespace

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kPass:
      return "PASS";
    case Verdict::kFail:
      return "FAIL";
    case Verdict::kReportOnly:
      return "REPORT ONLY";
  }
  return "?";
}

void check_case(const EvalCase& c, const RouteDecision& d, const ReflexFloors& floors,
                const Snapshot* snapshot, CaseResult& out) {
  out.id = c.id;
  out.expected = c.expected;
  out.decision = d;
  if (c.expected && (c.expected->agent_id != d.agent_id || c.expected->role_id != d.role_id)) {
    out.failures.push_back("route " + route_str(d.agent_id, d.role_id) + " != expected " +
                           route_str(c.expected->agent_id, c.expected->role_id));
  }
  if (!d.agent_margin) {
    out.failures.push_back("router gave no agent margin");
  } else if (*d.agent_margin < floors.agent) {
    out.failures.push_back("agent margin " + format_double("%.6f", *d.agent_margin) + " < floor " +
                           format_double("%.6f", floors.agent));
  }
  if (!d.role_margin) {
    out.failures.push_back("router gave no role margin");
  } else if (*d.role_margin < floors.role) {
    out.failures.push_back("role margin " + format_double("%.6f", *d.role_margin) + " < floor " +
                           format_double("%.6f", floors.role));
  }
  if (snapshot) {
    const SnapshotEntry* e = snapshot->find(c.id);
    if (!e) {
      out.snapshot_missing = true;  // passes, as in the reference (`is_nil(expected)`)
    } else {
      out.snapshot_checked = true;
      auto differs = [&](const std::string& field, const std::string& got,
                         const std::string& want) {
        if (got == want) return;
        out.snapshot_mismatches.push_back(field);
        out.failures.push_back(field + " " + got + " != snapshot " + want);
      };
      differs("agent_id", std::to_string(d.agent_id), std::to_string(e->agent_id));
      differs("role_id", std::to_string(d.role_id), std::to_string(e->role_id));
      differs("token_count", std::to_string(d.token_count), std::to_string(e->token_count));
      differs("transcript_hash", d.transcript_hash, e->transcript_hash);
    }
  }
}

Result<EvalRun> run_eval(const Router& router, const std::vector<EvalCase>& cases,
                         const EvalOptions& options) {
  if (options.determinism_runs < 1) {
    return invalid_argument("--determinism-runs must be >= 1, got " +
                            std::to_string(options.determinism_runs));
  }
  EvalRun run;
  run.determinism_runs = options.determinism_runs;
  auto t0 = std::chrono::steady_clock::now();
  TRINITY_ASSIGN_OR_RETURN(std::vector<RouteDecision> first, route_pass(router, cases));
  run.summary.route_ms = ms_since(t0);

  run.results.resize(cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    run.results[i].index = i;
    check_case(cases[i], first[i], options.floors, options.snapshot, run.results[i]);
  }

  auto t1 = std::chrono::steady_clock::now();
  for (int r = 2; r <= options.determinism_runs; ++r) {
    // Recompute, as the first pass did: served from the prefix cache, a pass would only check
    // that the cache returns what was put in it.
    router.clear_prefix_cache();
    auto pass = route_pass(router, cases);
    if (!pass.ok()) return pass.status().with_context("determinism run " + std::to_string(r));
    for (size_t i = 0; i < cases.size(); ++i) {
      const std::string& h = (*pass)[i].route_hash;
      if (h == first[i].route_hash) continue;
      run.determinism.push_back({cases[i].id, r, first[i].route_hash, h});
      run.results[i].failures.push_back("route_hash of determinism run " + std::to_string(r) +
                                        " differs from run 1 (" + h.substr(0, 12) +
                                        " != " + first[i].route_hash.substr(0, 12) + ")");
    }
  }
  if (options.determinism_runs > 1) run.summary.determinism_ms = ms_since(t1);

  for (auto& res : run.results) {
    if (!options.assert_results)
      res.verdict = Verdict::kReportOnly;
    else
      res.verdict = res.failures.empty() ? Verdict::kPass : Verdict::kFail;
  }
  summarize(run);
  return run;
}

void summarize(EvalRun& run) {
  EvalSummary& s = run.summary;
  s.total = static_cast<int>(run.results.size());
  s.passed = s.failed = s.report_only = 0;
  s.roles_selected = {};
  s.agents_selected = {};
  s.min_agent_margin.reset();
  s.min_role_margin.reset();
  s.failed_ids.clear();
  for (const auto& r : run.results) {
    switch (r.verdict) {
      case Verdict::kPass:
        ++s.passed;
        break;
      case Verdict::kFail:
        ++s.failed;
        s.failed_ids.push_back(r.id);
        break;
      case Verdict::kReportOnly:
        ++s.report_only;
        break;
    }
    const RouteDecision& d = r.decision;
    if (d.role_id >= 0 && d.role_id < kNumRoles) ++s.roles_selected[static_cast<size_t>(d.role_id)];
    if (d.agent_id >= 0 && d.agent_id < kNumAgents)
      ++s.agents_selected[static_cast<size_t>(d.agent_id)];
    if (d.agent_margin && (!s.min_agent_margin || *d.agent_margin < *s.min_agent_margin)) {
      s.min_agent_margin = d.agent_margin;
      s.min_agent_margin_id = r.id;
    }
    if (d.role_margin && (!s.min_role_margin || *d.role_margin < *s.min_role_margin)) {
      s.min_role_margin = d.role_margin;
      s.min_role_margin_id = r.id;
    }
  }
}

}  // namespace trinity::eval
