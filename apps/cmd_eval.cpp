// trinity eval: run a prompt-eval cases file through a router and check every decision against
// its expected route, the margin floors and (optionally) a snapshot of a reference run.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <set>

#include "cli_common.h"
#include "core/file_util.h"
#include "core/time_util.h"
#include "eval/cases.h"
#include "eval/refresh.h"
#include "eval/render_json.h"
#include "eval/render_reference.h"
#include "eval/render_text.h"
#include "eval/report_html.h"
#include "eval/resolve.h"
#include "eval/runner.h"
#include "eval/snapshot.h"

#ifndef TRINITY_PROJECT_DIR
#define TRINITY_PROJECT_DIR "."
#endif

namespace trinity::cli {

namespace {

using namespace trinity::eval;

struct Options {
  RouterSource src;
  std::string cases;
  std::vector<std::string> case_ids;
  bool list_cases = false;
  std::string snapshot, snapshot_out, write_expected;
  bool no_assert = false;
  int determinism_runs = 1;
  double min_agent_margin = 0, min_role_margin = 0;
  bool show_logits = false, verbose = false, json = false;
  std::string trace_out, report;
  std::string cold_verifier;    // validated; eval routes only, so it has nothing to act on
  std::string format = "text";  // text | reference
  ReflexFlags reflex;
  bool reflex_report = false;
  std::string reflex_trace_out;
  bool force_assert = false;  // --assert: check mock_tiny routes too
};

constexpr const char* kDescription =
    "Run a prompt-eval cases file ({schema_version: 1, cases: [{id, messages, expected: "
    "{agent_id, role_id}, tags, notes}]}) through the router. A case FAILs when its agent or "
    "role differs from `expected`, a margin is below its floor, or - with a snapshot - its "
    "agent_id, role_id, token_count or transcript_hash differs from the snapshot entry (logits "
    "and route_hash are not compared; a case with no entry passes, as in the reference). Exit "
    "code 1 lists the failed ids; 2 is bad input.\n"
    "Snapshot: --snapshot FILE; else fixtures/runtime_profiles/<profile>/<cases-stem>_logits.json, "
    "then the reference's fixtures/runtime_profiles/<profile>/qwen_router_prompt_eval_logits.json, "
    "under the current directory, then under the project source directory; else none. Only the "
    "running profile's snapshot is ever used.\n"
    "Refreshing the expectations for a new artifact: run with --no-assert --write-expected "
    "CASES.json --snapshot-out fixtures/runtime_profiles/<profile>/<stem>_logits.json.";

int list_cases(const CasesFile& file, bool json) {
  if (json) {
    OrderedJson ids = OrderedJson::array();
    for (const auto& c : file.cases) ids.push_back(c.id);
    std::printf("%s\n", OrderedJson{{"cases", ids}}.dump(2).c_str());
  } else {
    for (const auto& c : file.cases) std::printf("%s\n", c.id.c_str());
  }
  return kExitOk;
}

Result<std::vector<EvalCase>> select_cases(const CasesFile& file,
                                           const std::vector<std::string>& ids,
                                           const std::string& path) {
  if (ids.empty()) return file.cases;
  std::vector<EvalCase> out;
  std::set<std::string> seen;
  for (const auto& id : ids) {
    const int i = find_case(file, id);
    if (i < 0) return not_found("--case '" + id + "': no case with this id in " + path);
    if (seen.insert(id).second) out.push_back(file.cases[size_t(i)]);
  }
  return out;
}

void note(bool json, const std::string& line) {
  std::fprintf(json ? stderr : stdout, "%s\n", line.c_str());
}

int run(const Options& o, bool agent_floor_flag, bool role_floor_flag) {
  const std::string cmd = "eval";
  auto file = load_cases_file(o.cases);
  if (!file.ok()) return report_error(cmd, file.status());
  if (o.list_cases) return list_cases(*file, o.json);
  auto cases = select_cases(*file, o.case_ids, o.cases);
  if (!cases.ok()) return report_error(cmd, cases.status());
  if (cases->empty()) return report_error(cmd, invalid_argument(o.cases + ": no cases to run"));
  if (o.determinism_runs < 1) {
    return report_error(cmd, invalid_argument("--determinism-runs must be >= 1"));
  }
  if (!o.trace_out.empty() && o.trace_out == o.reflex_trace_out)
    return report_error(
        cmd, invalid_argument("--trace-out and --reflex-trace-out must use different paths"));
  auto reflex_cfg = o.reflex.to_config();
  if (!reflex_cfg.ok()) return report_error(cmd, reflex_cfg.status());
  const bool reference = o.format == "reference";

  RunInfo info;
  info.run_id = new_run_id();
  info.started_at = utc_now(UtcFormat::kIso8601Micros);
  info.base = o.src.base;
  info.artifact = o.src.artifact;
  info.vector = o.src.vector;
  info.cases_path = o.cases;
  info.cases_in_file = file->cases.size();
  info.assert_results = !o.no_assert;
  info.snapshot_out = o.snapshot_out;
  info.write_expected = o.write_expected;
  info.trace_out = o.trace_out;
  info.report = o.report;

  const auto t0 = std::chrono::steady_clock::now();
  auto router = open_router(o.src);
  if (!router.ok()) return report_error(cmd, router.status());
  info.load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const Router& r = **router;
  info.profile = r.profile();
  info.backend = r.backend_label();
  // Under mock_tiny every case is REPORT ONLY, as in the reference: its routes are hashes.
  if (info.profile == "mock_tiny" && !o.force_assert) info.assert_results = false;
  info.artifact_identity = artifact_identity(o.src, info.profile);

  const ReflexFloors defaults = r.reflex_floors();
  info.floors.agent = agent_floor_flag ? o.min_agent_margin : defaults.agent;
  info.floors.role = role_floor_flag ? o.min_role_margin : defaults.role;
  info.floors_source = agent_floor_flag && role_floor_flag ? "flags"
                       : agent_floor_flag                  ? "agent: flag, role: profile default"
                       : role_floor_flag                   ? "agent: profile default, role: flag"
                                                           : "profile defaults";

  auto choice = resolve_snapshot(o.snapshot, info.profile, o.cases, {".", TRINITY_PROJECT_DIR});
  if (!choice.ok()) return report_error(cmd, choice.status());
  info.snapshot = *choice;
  std::optional<Snapshot> snapshot;
  if (choice->source != SnapshotSource::kNone) {
    auto s = load_snapshot_file(choice->path);
    if (!s.ok()) return report_error(cmd, s.status());
    snapshot = std::move(s).value();
  }

  if (!o.json)
    std::fputs(
        (reference ? render_reference_header(info) : render_header(info, cases->size())).c_str(),
        stdout);

  EvalOptions opt;
  opt.floors = info.floors;
  opt.snapshot = snapshot ? &*snapshot : nullptr;
  opt.determinism_runs = o.determinism_runs;
  opt.assert_results = info.assert_results;
  auto result = run_eval(r, *cases, opt);
  if (!result.ok()) return report_error(cmd, result.status());
  const EvalRun& ev = *result;

  if (!o.json) {
    TextOptions topt{o.verbose, o.show_logits};
    for (const auto& c : ev.results)
      std::fputs((reference ? render_reference_case(c, ev.results.size(), topt)
                            : render_case(c, ev.results.size(), info, topt))
                     .c_str(),
                 stdout);
    if (reference) std::fputs("\n", stdout);
  }
  // A case with no snapshot entry passes (as in the reference); say so loudly when that is
  // every case: the snapshot was probably made for another cases file.
  size_t without_entry = 0;
  for (const auto& c : ev.results) without_entry += c.snapshot_missing ? 1 : 0;
  if (snapshot && without_entry > 0 && without_entry == ev.results.size())
    std::fprintf(stderr,
                 "trinity eval: warning: the snapshot %s has no entry for any of the %zu "
                 "case(s) run: nothing was compared against it\n",
                 choice->path.c_str(), ev.results.size());

  // Outputs (each written atomically).
  if (!o.snapshot_out.empty()) {
    Status st = write_snapshot_file(o.snapshot_out, snapshot_from_run(ev));
    if (!st.ok()) return report_error(cmd, st);
    note(o.json, "wrote snapshot of " + std::to_string(ev.results.size()) + " case(s) to " +
                     o.snapshot_out);
  }
  if (!o.write_expected.empty()) {
    Status st =
        write_file_atomic(o.write_expected, cases_to_text(with_returned_expectations(*file, ev)));
    if (!st.ok()) return report_error(cmd, st.with_context("--write-expected"));
    note(o.json, "wrote cases with the returned routes as `expected` to " + o.write_expected);
  }
  if (!o.trace_out.empty()) {
    Status st = write_file_atomic(o.trace_out, eval_trace_lines(ev, info));
    if (!st.ok()) return report_error(cmd, st.with_context("--trace-out"));
    if (!reference)
      note(o.json,
           "wrote trace (" + std::to_string(2 * ev.results.size()) + " events) to " + o.trace_out);
  }
  const coord::ReflexThresholds thresholds =
      coord::resolve_thresholds(*reflex_cfg, r.reflex_floors());
  std::vector<coord::ReflexDecision> reflex;
  if (o.reflex_report || !o.reflex_trace_out.empty())
    reflex = classify_cases(ev, thresholds, *reflex_cfg);
  if (!o.reflex_trace_out.empty()) {
    Status st =
        write_file_atomic(o.reflex_trace_out, reflex_trace_lines(ev, info, reflex, thresholds));
    if (!st.ok()) return report_error(cmd, st.with_context("--reflex-trace-out"));
    if (!reference)
      note(o.json, "wrote reflex trace (" + std::to_string(2 * ev.results.size()) + " events) to " +
                       o.reflex_trace_out);
  }
  if (o.reflex_report && !o.json) std::fputs(render_reflex_report(ev, reflex).c_str(), stdout);
  if (!o.report.empty()) {
    Status st = write_file_atomic(o.report, render_report_html(ev, info));
    if (!st.ok()) return report_error(cmd, st.with_context("--report"));
    note(o.json, "wrote HTML report to " + o.report);
  }

  if (o.json) {
    std::printf(
        "%s\n",
        eval_to_json(ev, info).dump(2, ' ', false, OrderedJson::error_handler_t::replace).c_str());
  } else {
    std::fputs((reference ? render_reference_summary(ev) : render_summary(ev, info)).c_str(),
               stdout);
  }
  if (ev.summary.failed > 0) {
    if (reference) return kExitFailure;  // the failure line is the reference's last line
    std::string ids;
    for (const auto& id : ev.summary.failed_ids) ids += " " + id;
    std::fprintf(stderr, "trinity eval: %d of %d case(s) failed:%s\n", ev.summary.failed,
                 ev.summary.total, ids.c_str());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

void register_eval(CLI::App& app, CommandRegistry& reg) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("eval", "Prompt eval: check router decisions on a case file");
  sub->description(kDescription);
  add_router_source_options(sub, o->src);
  sub->add_option("--cases", o->cases, "Cases file (JSON, schema_version 1)")->required();
  sub->add_option("--case", o->case_ids, "Run only this case id (repeatable)");
  sub->add_flag("--list-cases", o->list_cases, "Print the case ids and exit");
  sub->add_option("--snapshot", o->snapshot, "Snapshot to check against (overrides the profile's)");
  sub->add_option("--snapshot-out", o->snapshot_out, "Write a snapshot of this run's cases");
  sub->add_option("--write-expected", o->write_expected,
                  "Write the cases file with each run case's `expected` set to the returned "
                  "route (may be the --cases file itself)");
  auto* no_assert = sub->add_flag("--no-assert", o->no_assert, "Report only: never fail a case");
  sub->add_flag("--assert", o->force_assert,
                "Check the cases under mock_tiny too (by default, as in the reference, every "
                "mock_tiny case is REPORT ONLY)")
      ->excludes(no_assert);
  sub->add_option("--determinism-runs", o->determinism_runs,
                  "Route every case N times and report route_hash differences (default 1). "
                  "Each extra pass starts with the prefix cache cleared, so it recomputes "
                  "every token (it checks the computation, not the cache)");
  auto* af = sub->add_option("--min-agent-margin", o->min_agent_margin,
                             "Agent margin floor (default: the profile's reflex floor)");
  auto* rf = sub->add_option("--min-role-margin", o->min_role_margin,
                             "Role margin floor (default: the profile's reflex floor)");
  sub->add_flag("--show-logits", o->show_logits, "Print the 10 logits of each case");
  sub->add_flag("--verbose", o->verbose, "Print hashes and margins of each case");
  sub->add_option("--trace-out", o->trace_out,
                  "Write the reference's route_decision + route_eval_result events per case "
                  "(JSONL)");
  sub->add_option("--format", o->format,
                  "Text output: text (default) or reference (the Elixir reference's layout, "
                  "=== QWEN ROUTER PROMPT EVAL ===)")
      ->check(CLI::IsMember({"text", "reference"}));
  sub->add_flag("--reflex-report", o->reflex_report,
                "Print each case's reflex class and action (analysis only)");
  sub->add_option("--reflex-trace-out", o->reflex_trace_out,
                  "Write route_decision + reflex_decision events per case (JSONL)");
  add_reflex_options(sub, o->reflex);
  sub->add_option("--report", o->report, "Write a self-contained HTML report");
  sub->add_flag("--json", o->json, "Print the result as one JSON object");
  sub->add_option("--cold-verifier", o->cold_verifier,
                  "worker|error: accepted for the same command lines as run and serve, but eval "
                  "only routes (no agent is called, no turn is dispatched), so the policy has "
                  "nothing to act on here")
      ->check(CLI::IsMember({"worker", "error"}));
  reg.add(sub, [o, af, rf] { return run(*o, af->count() > 0, rf->count() > 0); });
}

}  // namespace trinity::cli
