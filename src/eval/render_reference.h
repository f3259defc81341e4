// The Elixir reference's eval output (`trinity eval --format reference`), line by line as its
// qwen_router_prompt_eval prints it, and its --trace-out / --reflex-trace-out JSONL events.
#pragma once

#include <string>
#include <vector>

#include "coord/reflex.h"
#include "eval/render_text.h"
#include "eval/run_info.h"
#include "eval/runner.h"

namespace trinity::eval {

std::string render_reference_header(const RunInfo& info);
// "\n[i/N] id - PASS\n\nExpected route:\n  agent A: <label>\n  role  R: <Role>\n\n..."
std::string render_reference_case(const CaseResult& r, size_t n_cases, const TextOptions& opt);
// Passed: "\nSummary\n  passed: P\n  failed: F\n  roles selected: Worker=.., ...\n  agent slots
// selected: 0=.., ...\n\nPASS qwen_router_prompt_eval\n\n"; any failure:
// "qwen_router_prompt_eval failed cases=<id>, <id>\n" (no summary, as the reference raises).
std::string render_reference_summary(const EvalRun& run);

// The reflex class and action of every case (analysis only: routes are never changed).
std::vector<coord::ReflexDecision> classify_cases(const EvalRun& run,
                                                  const coord::ReflexThresholds& t,
                                                  const coord::ReflexConfig& cfg);
// "\nReflex classification\n  <id>: <class> -> <action>\n...\n\nReflex summary\n  high: N\n..."
std::string render_reflex_report(const EvalRun& run,
                                 const std::vector<coord::ReflexDecision>& reflex);

// The reference's eval band: confidence = clamp(0.55 + min margin / 10, 0, 0.99) (0.64 without
// margins); high at >= 0.8, medium at >= 0.5, else low.
const char* eval_confidence_band(const RouteDecision& d);

// --trace-out: per case a route_decision and a route_eval_result event (status ok | fail |
// report), run_id "qwen-router-prompt-eval:<case id>".
std::string eval_trace_lines(const EvalRun& run, const RunInfo& info);
// --reflex-trace-out: per case the same route_decision and a reflex_decision event.
std::string reflex_trace_lines(const EvalRun& run, const RunInfo& info,
                               const std::vector<coord::ReflexDecision>& reflex,
                               const coord::ReflexThresholds& t);

}  // namespace trinity::eval
