#include "eval/render_text.h"

#include <cstdio>

namespace trinity::eval {

namespace {

std::string margin_str(const std::optional<double>& m) {
  return m ? format_double("%.6f", *m) : "n/a";
}

std::string route_str(int agent, int role) {
  return "agent " + std::to_string(agent) + " " + agent_label(agent) + " | role " +
         std::to_string(role) + " " + role_name(role);
}

std::string or_dash(const std::string& s) {
  return s.empty() ? "-" : s;
}

}  // namespace

std::string render_header(const RunInfo& info, size_t n_cases) {
  std::string o;
  o += "trinity eval  run " + info.run_id + "\n";
  if (!info.artifact.empty()) o += "  artifact : " + info.artifact + "\n";
  if (!info.vector.empty()) o += "  vector   : " + info.vector + "\n";
  if (info.artifact.empty() && info.vector.empty()) o += "  artifact : - (model-free profile)\n";
  o += "  base     : " + or_dash(info.base) + "\n";
  o += "  profile  : " + info.profile + "  (backend " + info.backend + ")\n";
  o += "  floors   : agent " + format_double("%.4g", info.floors.agent) + ", role " +
       format_double("%.4g", info.floors.role) + "  (" + info.floors_source + ")\n";
  if (info.snapshot.source == SnapshotSource::kNone) {
    o += "  snapshot : none (no " + or_dash(info.snapshot.looked_for) + " for this profile)\n";
  } else {
    o += "  snapshot : " + info.snapshot.path + "  (" + snapshot_source_name(info.snapshot.source) +
         ")\n";
  }
  o += "  cases    : " + info.cases_path + "  (" + std::to_string(n_cases) + " of " +
       std::to_string(info.cases_in_file) + ")" +
       (info.assert_results ? ""
        : info.profile == "mock_tiny"
            ? "  [mock_tiny: report only, as in the reference; --assert checks]"
            : "  [--no-assert: report only]") +
       "\n";
  o += "  loaded in " + format_double("%.1f", info.load_ms) + " ms\n\n";
  return o;
}

std::string render_case(const CaseResult& r, size_t n_cases, const RunInfo& info,
                        const TextOptions& opt) {
  const RouteDecision& d = r.decision;
  // Appended piecewise: GCC 12 -Wrestrict false positive on a long "lit" + string chain.
  std::string o = "[";
  o.append(std::to_string(r.index + 1)).append("/").append(std::to_string(n_cases)).append("] ");
  o.append(r.id).append(" - ").append(verdict_name(r.verdict)).append("\n");
  o += "    expected: " +
       (r.expected ? route_str(r.expected->agent_id, r.expected->role_id) : std::string("-")) +
       "\n";
  o += "    returned: " + route_str(d.agent_id, d.role_id) + " | tokens " +
       std::to_string(d.token_count) + "\n";
  if (opt.verbose) {
    o += "    margins : agent " + margin_str(d.agent_margin) + " (floor " +
         format_double("%.4g", info.floors.agent) + "), role " + margin_str(d.role_margin) +
         " (floor " + format_double("%.4g", info.floors.role) + ")\n";
    o += "    transcript_hash " + d.transcript_hash + "\n";
    o += "    route_hash      " + d.route_hash + "\n";
    if (info.snapshot.source != SnapshotSource::kNone) {
      o += std::string("    snapshot: ") +
           (r.snapshot_missing ? "no entry"
                               : (r.snapshot_mismatches.empty() ? "matches" : "differs")) +
           "\n";
    }
  }
  if (opt.show_logits) {
    o += "    agent_logits [";
    for (int i = 0; i < kNumAgents; ++i) o += (i ? ", " : "") + format_double("%.6f", d.logit(i));
    o += "]\n    role_logits  [";
    for (int i = 0; i < kNumRoles; ++i)
      o += (i ? ", " : "") + format_double("%.6f", d.logit(kNumAgents + i));
    o += "]\n";
  }
  for (const auto& f : r.failures) o += "    ! " + f + "\n";
  return o;
}

std::string render_summary(const EvalRun& run, const RunInfo& info) {
  const EvalSummary& s = run.summary;
  std::string o = "\nSummary\n";
  o += "  passed " + std::to_string(s.passed) + ", failed " + std::to_string(s.failed);
  if (s.report_only) o += ", report only " + std::to_string(s.report_only);
  o += " (of " + std::to_string(s.total) + ")\n";
  o += "  roles selected      :";
  for (int i = 0; i < kNumRoles; ++i)
    o += std::string(" ") + role_name(i) + " " + std::to_string(s.roles_selected[size_t(i)]);
  o += "\n  agent slots selected:";
  for (int i = 0; i < kNumAgents; ++i) {
    if (s.agents_selected[size_t(i)] == 0) continue;
    o += " [" + std::to_string(i) + "] " + agent_label(i) + " x" +
         std::to_string(s.agents_selected[size_t(i)]) + ";";
  }
  o += "\n  margin minima       : agent " + margin_str(s.min_agent_margin) +
       (s.min_agent_margin ? " (" + s.min_agent_margin_id + ")" : "") + ", role " +
       margin_str(s.min_role_margin) +
       (s.min_role_margin ? " (" + s.min_role_margin_id + ")" : "") + "\n";
  if (run.determinism_runs > 1) {
    o += "  determinism         : " + std::to_string(run.determinism_runs) + " runs, " +
         (run.determinism.empty() ? std::string("all route_hashes stable")
                                  : std::to_string(run.determinism.size()) + " differing") +
         "\n";
    for (const auto& m : run.determinism) {
      o += "    " + m.id + " run " + std::to_string(m.run) + ": " + m.route_hash +
           " != " + m.first_route_hash + "\n";
    }
  }
  const double per_case = s.total ? s.route_ms / s.total : 0.0;
  o += "  timing              : load " + format_double("%.1f", info.load_ms) + " ms, route " +
       format_double("%.1f", s.route_ms) + " ms (" + format_double("%.2f", per_case) + " ms/case)";
  if (run.determinism_runs > 1)
    o += ", determinism " + format_double("%.1f", s.determinism_ms) + " ms";
  o += "\n";
  if (!s.failed_ids.empty()) {
    o += "FAILED:";
    for (const auto& id : s.failed_ids) o += " " + id;
    o += "\n";
  } else if (s.report_only) {
    o += "REPORT ONLY: nothing asserted\n";
  } else {
    o += "ALL PASSED\n";
  }
  return o;
}

}  // namespace trinity::eval
