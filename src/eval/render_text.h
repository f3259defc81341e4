// The human-readable eval output: header, one line per case (plus details), summary.
#pragma once

#include <string>

#include "eval/run_info.h"
#include "eval/runner.h"

namespace trinity::eval {

struct TextOptions {
  bool verbose = false;      // hashes and margins per case
  bool show_logits = false;  // the 10 logits per case
};

std::string render_header(const RunInfo& info, size_t n_cases);
// "[i/N] id - PASS" and its detail lines.
std::string render_case(const CaseResult& r, size_t n_cases, const RunInfo& info,
                        const TextOptions& opt);
std::string render_summary(const EvalRun& run, const RunInfo& info);

}  // namespace trinity::eval
