#include "eval/render_json.h"

#include <chrono>

namespace trinity::eval {

namespace {

OrderedJson opt_num(const std::optional<double>& v) {
  return v ? OrderedJson(*v) : OrderedJson(nullptr);
}

}  // namespace

OrderedJson case_to_json(const CaseResult& r) {
  OrderedJson j;
  j["index"] = r.index;
  j["id"] = r.id;
  j["verdict"] = verdict_name(r.verdict);
  j["expected"] =
      r.expected ? OrderedJson{{"agent_id", r.expected->agent_id}, {"role_id", r.expected->role_id}}
                 : OrderedJson(nullptr);
  j["decision"] = r.decision.to_json();
  j["failures"] = r.failures;
  j["snapshot"] = OrderedJson{{"checked", r.snapshot_checked},
                              {"missing", r.snapshot_missing},
                              {"mismatches", r.snapshot_mismatches}};
  return j;
}

OrderedJson eval_to_json(const EvalRun& run, const RunInfo& info) {
  const EvalSummary& s = run.summary;
  OrderedJson j;
  j["schema_version"] = 1;
  j["command"] = "eval";
  j["run_id"] = info.run_id;
  j["started_at"] = info.started_at;
  j["base"] = info.base;
  j["artifact"] = info.artifact;
  j["vector"] = info.vector;
  j["profile"] = info.profile;
  j["backend"] = info.backend;
  j["cases_file"] = info.cases_path;
  j["cases_in_file"] = info.cases_in_file;
  j["floors"] = OrderedJson{
      {"agent", info.floors.agent}, {"role", info.floors.role}, {"source", info.floors_source}};
  j["snapshot"] = OrderedJson{{"source", snapshot_source_name(info.snapshot.source)},
                              {"path", info.snapshot.path},
                              {"looked_for", info.snapshot.looked_for}};
  j["assert"] = info.assert_results;
  j["cases"] = OrderedJson::array();
  for (const auto& r : run.results) j["cases"].push_back(case_to_json(r));
  OrderedJson mism = OrderedJson::array();
  for (const auto& m : run.determinism) {
    mism.push_back(OrderedJson{{"id", m.id},
                               {"run", m.run},
                               {"first_route_hash", m.first_route_hash},
                               {"route_hash", m.route_hash}});
  }
  j["determinism"] = OrderedJson{{"runs", run.determinism_runs},
                                 {"stable", run.determinism.empty()},
                                 {"mismatches", std::move(mism)}};
  OrderedJson roles = OrderedJson::object();
  for (int i = 0; i < kNumRoles; ++i) roles[role_name(i)] = s.roles_selected[size_t(i)];
  OrderedJson agents = OrderedJson::array();
  for (int i = 0; i < kNumAgents; ++i) {
    agents.push_back(OrderedJson{
        {"agent_id", i}, {"agent_label", agent_label(i)}, {"count", s.agents_selected[size_t(i)]}});
  }
  j["summary"] = OrderedJson{
      {"total", s.total},
      {"passed", s.passed},
      {"failed", s.failed},
      {"report_only", s.report_only},
      {"roles_selected", std::move(roles)},
      {"agents_selected", std::move(agents)},
      {"min_agent_margin", opt_num(s.min_agent_margin)},
      {"min_agent_margin_id", s.min_agent_margin_id},
      {"min_role_margin", opt_num(s.min_role_margin)},
      {"min_role_margin_id", s.min_role_margin_id},
      {"load_ms", info.load_ms},
      {"route_ms", s.route_ms},
      {"determinism_ms", s.determinism_ms},
  };
  j["failed_ids"] = s.failed_ids;
  j["outputs"] = OrderedJson{{"snapshot_out", info.snapshot_out},
                             {"write_expected", info.write_expected},
                             {"trace_out", info.trace_out},
                             {"report", info.report}};
  return j;
}

}  // namespace trinity::eval
