// `--report FILE.html`: one self-contained HTML page (inline CSS and SVG, no scripts, no network):
// run metadata, a summary, per-case agent and role margins against their floors as horizontal
// bar charts, the decision table, and the determinism and snapshot results.
#pragma once

#include <string>

#include "eval/run_info.h"
#include "eval/runner.h"

namespace trinity::eval {

std::string render_report_html(const EvalRun& run, const RunInfo& info);

// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string html_escape(const std::string& s);

}  // namespace trinity::eval
