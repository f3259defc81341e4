// Machine-readable eval output: the `--json` object (trace events: render_reference.h).
#pragma once

#include <string>

#include "core/json.h"
#include "eval/run_info.h"
#include "eval/runner.h"

namespace trinity::eval {

// One case: {index, id, verdict, expected|null, decision (RouteDecision::to_json), failures,
// snapshot: {checked, missing, mismatches}}.
OrderedJson case_to_json(const CaseResult& r);

// The whole run: {schema_version, command "eval", run_id, started_at, base, artifact, vector,
// profile, backend, cases_file, floors {agent, role, source}, snapshot {source, path},
// assert, cases [...], determinism {runs, mismatches [...]}, summary {...}, failed_ids,
// outputs {snapshot_out, write_expected, trace_out, report}}.
OrderedJson eval_to_json(const EvalRun& run, const RunInfo& info);

}  // namespace trinity::eval
