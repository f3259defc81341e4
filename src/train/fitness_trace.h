// Trace JSONL -> fitness candidates (the example maps without the score), as the reference's
// TraceFitnessReader and TraceFitnessAssembler, on our traces (docs/trace-schema.md).
//
// Unit "route" (the reference's): one candidate per route_decision. The events of the same run
// (run_id, else coordination_run_ref, else trace_ref) are joined to it: the first
// provider_dispatch_finished of the same turn, the first verifier_result with the same
// route_hash or turn, the last budget_snapshot of the same turn, the first route_eval_result
// with the same route_hash, case_id or turn, the first reflex_decision with the same route_hash
// or turn. outcome.verifier_status is the verifier_result's status (accepted, revise, revised,
// rejected, failed, else unknown), else the eval result's (ok -> accepted, fail -> rejected,
// else unknown), else unknown.
//
// Unit "run" (trinity's): one candidate per run that has a route_decision. route: the first
// route decision's fields, with agent_margin / role_margin the minima over the run's decisions
// (null when a decision lacks one) and min_margin the smaller of the two; outcome from the
// run's end: run_finished with run_status accepted -> accepted; run_failed -> failed; else the
// last verifier_result's status, else unknown; revisions, cost, provider calls and wall time
// (observed_latency_ms) from the end event; budget_exceeded when the end event or any
// budget_snapshot says so.
//
// example_id = "fitness:sha256:" + reference_digest(%{run_id, turn, case_id, route_hash})
// (turn and route_hash null in the run unit). Candidates with equal ids are one example when
// equal apart from provenance (the first by trace path, then line, is kept) and a conflict
// otherwise. The result is sorted by run_id, turn, example_id: the same traces give the same
// candidates whatever order the files come in.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "coord/trace.h"
#include "core/json.h"
#include "core/status.h"

namespace trinity::train {

struct TraceEntry {
  std::string path;
  int64_t line = 0;  // 1-based
  Json record;
};

struct SkippedLine {
  std::string path;
  int64_t line = 0;
  std::string reason;
  std::string line_hash;  // "sha256:<hex>" of the trimmed line
  Json to_json() const;
};

struct TraceReadResult {
  std::vector<TraceEntry> entries;
  std::vector<SkippedLine> skipped;
};

// Parses JSONL text read from `path` into `out` (the rules of read_traces).
Status parse_jsonl_text(const std::string& text, const std::string& path, bool skip_invalid,
                        TraceReadResult& out);

// Reads JSONL traces in the order given. A blank line is skipped; a line that is not a JSON
// object is an error naming "<path>:<line>", or, with skip_invalid, a SkippedLine.
Result<TraceReadResult> read_traces(const std::vector<std::string>& paths, bool skip_invalid);

enum class ExampleUnit { kRoute, kRun };
const char* example_unit_name(ExampleUnit u);  // "route" | "run"
Result<ExampleUnit> parse_example_unit(const std::string& s);

struct FitnessCandidate {
  std::string example_id;
  Json source, input, route, outcome, provenance;
};

struct AssembledCandidates {
  std::vector<FitnessCandidate> examples;
  std::vector<Json> conflicts;  // {example_id, reason: "conflicting_duplicate"}
};

// content kFull copies a route decision's input_content into input.messages when it is a list.
Result<AssembledCandidates> assemble_candidates(const std::vector<TraceEntry>& entries,
                                                ExampleUnit unit, coord::ContentMode content);

}  // namespace trinity::train
