#include "eval/report_html.h"

#include <algorithm>
#include <cstdio>

namespace trinity::eval {

namespace {

const char* kCss = R"CSS(
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:24px;color:#1d2330;
background:#f6f7f9;font-size:14px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px}
.sub{color:#5b6474;margin-bottom:16px}
.cards{display:flex;gap:12px;flex-wrap:wrap}
.card{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:10px 16px;min-width:120px}
.card .v{font-size:22px;font-weight:600}.card .k{color:#5b6474;font-size:12px}
.pass{color:#1a7f37}.fail{color:#c62828}.report{color:#8a6d00}
table{border-collapse:collapse;background:#fff;border:1px solid #dde1e8}
th,td{padding:4px 8px;border-bottom:1px solid #eceef2;text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
table.meta td:first-child{color:#5b6474}
.charts{display:flex;gap:16px;flex-wrap:wrap}
.chart{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:8px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.b-pass{background:#dafbe1;color:#1a7f37}.b-fail{background:#ffebe9;color:#c62828}
.b-report{background:#fff8c5;color:#8a6d00}
.small{font-size:12px;color:#5b6474}code{font-size:12px}
)CSS";

const char* verdict_class(Verdict v) {
  switch (v) {
    case Verdict::kPass:
      return "b-pass";
    case Verdict::kFail:
      return "b-fail";
    case Verdict::kReportOnly:
      return "b-report";
  }
  return "";
}

// A horizontal bar chart: one bar per case (its margin), a dashed line at the floor; bars
// below the floor are red.
std::string margin_chart(const EvalRun& run, bool agent, double floor_value) {
  const int label_w = 170, plot_w = 300, value_w = 64, row_h = 18, top = 34, bottom = 22;
  const int n = static_cast<int>(run.results.size());
  const int width = label_w + plot_w + value_w;
  const int height = top + n * row_h + bottom;
  double max_v = floor_value * 1.25;
  for (const auto& r : run.results) {
    const auto& m = agent ? r.decision.agent_margin : r.decision.role_margin;
    if (m) max_v = std::max(max_v, *m);
  }
  if (max_v <= 0) max_v = 1;
  auto x_of = [&](double v) { return label_w + std::clamp(v, 0.0, max_v) / max_v * plot_w; };
  std::string s = "<svg class=\"bars\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                  std::to_string(width) + "\" height=\"" + std::to_string(height) +
                  "\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) +
                  "\" role=\"img\" aria-label=\"" + (agent ? "agent" : "role") + " margins\">\n";
  s += "<text x=\"4\" y=\"16\" font-size=\"13\" font-weight=\"600\" fill=\"#1d2330\">" +
       std::string(agent ? "Agent margin" : "Role margin") + " (floor " +
       format_double("%.4g", floor_value) + ")</text>\n";
  for (int i = 0; i < n; ++i) {
    const CaseResult& r = run.results[size_t(i)];
    const auto& m = agent ? r.decision.agent_margin : r.decision.role_margin;
    const int y = top + i * row_h;
    std::string label = r.id;
    if (label.size() > 26) {  // cut on a UTF-8 character boundary
      size_t cut = 25;
      while (cut > 0 && (static_cast<unsigned char>(label[cut]) & 0xC0) == 0x80) --cut;
      label = label.substr(0, cut) + "…";
    }
    s += "<text x=\"" + std::to_string(label_w - 6) + "\" y=\"" + std::to_string(y + 13) +
         "\" font-size=\"11\" text-anchor=\"end\" fill=\"#1d2330\">" + html_escape(label) +
         "</text>\n";
    if (!m) {
      s += "<text x=\"" + std::to_string(label_w + 4) + "\" y=\"" + std::to_string(y + 13) +
           "\" font-size=\"11\" fill=\"#5b6474\">n/a</text>\n";
      continue;
    }
    const bool below = *m < floor_value;
    const double w = std::max(1.0, x_of(*m) - label_w);
    s += "<rect class=\"bar " + std::string(below ? "below" : "above") + "\" data-case=\"" +
         html_escape(r.id) + "\" x=\"" + std::to_string(label_w) + "\" y=\"" +
         std::to_string(y + 3) + "\" width=\"" + format_double("%.1f", w) + "\" height=\"" +
         std::to_string(row_h - 6) + "\" fill=\"" + (below ? "#e5534b" : "#4c9a5f") + "\"><title>" +
         html_escape(r.id) + ": " + format_double("%.6f", *m) + "</title></rect>\n";
    s += "<text x=\"" + std::to_string(label_w + plot_w + 4) + "\" y=\"" + std::to_string(y + 13) +
         "\" font-size=\"11\" fill=\"" + (below ? "#c62828" : "#1d2330") + "\">" +
         format_double("%.4f", *m) + "</text>\n";
  }
  const double fx = x_of(floor_value);
  s += "<line class=\"floor\" x1=\"" + format_double("%.1f", fx) + "\" x2=\"" +
       format_double("%.1f", fx) + "\" y1=\"" + std::to_string(top - 4) + "\" y2=\"" +
       std::to_string(top + n * row_h) +
       "\" stroke=\"#1d2330\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>\n";
  s += "<text x=\"" + format_double("%.1f", fx) + "\" y=\"" + std::to_string(top + n * row_h + 15) +
       "\" font-size=\"11\" text-anchor=\"middle\" fill=\"#1d2330\">floor " +
       format_double("%.4g", floor_value) + "</text>\n";
  s += "<line x1=\"" + std::to_string(label_w) + "\" x2=\"" + std::to_string(label_w) + "\" y1=\"" +
       std::to_string(top - 4) + "\" y2=\"" + std::to_string(top + n * row_h) +
       "\" stroke=\"#9aa3b2\"/>\n";
  s += "<text x=\"" + std::to_string(label_w + plot_w) + "\" y=\"" +
       std::to_string(top + n * row_h + 15) +
       "\" font-size=\"11\" text-anchor=\"end\" "
       "fill=\"#5b6474\">" +
       format_double("%.3g", max_v) + "</text>\n";
  s += "</svg>\n";
  return s;
}

std::string row(const std::string& k, const std::string& v) {
  return "<tr><td>" + html_escape(k) + "</td><td>" + html_escape(v.empty() ? "-" : v) +
         "</td></tr>\n";
}

std::string route_cell(int agent, int role) {
  return std::to_string(agent) + " <span class=\"small\">" + html_escape(agent_label(agent)) +
         "</span> / " + std::to_string(role) + " " + role_name(role);
}

}  // namespace

std::string html_escape(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      case '\'':
        o += "&#39;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

std::string render_report_html(const EvalRun& run, const RunInfo& info) {
  const EvalSummary& s = run.summary;
  const bool ok = s.failed == 0;
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<title>trinity eval - " + html_escape(info.profile) + " - " + html_escape(info.run_id) +
       "</title>\n<style>" + std::string(kCss) + "</style>\n</head>\n<body>\n";
  h += "<h1>trinity eval <span class=\"badge " +
       std::string(s.report_only ? "b-report" : (ok ? "b-pass" : "b-fail")) + "\">" +
       (s.report_only ? "REPORT ONLY" : (ok ? "PASSED" : "FAILED")) + "</span></h1>\n";
  h += "<div class=\"sub\">" + html_escape(info.cases_path) + " &middot; profile " +
       html_escape(info.profile) + " &middot; " + html_escape(info.started_at) + "</div>\n";

  h += "<div class=\"cards\">\n";
  auto card = [&](const std::string& k, const std::string& v, const char* cls) {
    h += "<div class=\"card\"><div class=\"v " + std::string(cls) + "\">" + html_escape(v) +
         "</div><div class=\"k\">" + html_escape(k) + "</div></div>\n";
  };
  card("cases", std::to_string(s.total), "");
  card("passed", std::to_string(s.passed), "pass");
  card("failed", std::to_string(s.failed), s.failed ? "fail" : "");
  if (s.report_only) card("report only", std::to_string(s.report_only), "report");
  card("min agent margin" + (s.min_agent_margin ? " (" + s.min_agent_margin_id + ")" : ""),
       s.min_agent_margin ? format_double("%.4f", *s.min_agent_margin) : "n/a",
       s.min_agent_margin && *s.min_agent_margin < info.floors.agent ? "fail" : "");
  card("min role margin" + (s.min_role_margin ? " (" + s.min_role_margin_id + ")" : ""),
       s.min_role_margin ? format_double("%.4f", *s.min_role_margin) : "n/a",
       s.min_role_margin && *s.min_role_margin < info.floors.role ? "fail" : "");
  card("route time", format_double("%.1f ms", s.route_ms), "");
  h += "</div>\n";

  h += "<h2>Margins against floors</h2>\n<div class=\"charts\">\n<div class=\"chart\">\n" +
       margin_chart(run, true, info.floors.agent) + "</div>\n<div class=\"chart\">\n" +
       margin_chart(run, false, info.floors.role) + "</div>\n</div>\n";

  h += "<h2>Decisions</h2>\n<table class=\"decisions\">\n<tr><th>#</th><th>id</th>"
       "<th>verdict</th><th>expected agent / role</th><th>returned agent / role</th>"
       "<th>tokens</th><th>agent margin</th><th>role margin</th><th>snapshot</th>"
       "<th>notes</th></tr>\n";
  for (const auto& r : run.results) {
    const RouteDecision& d = r.decision;
    std::string snap =
        info.snapshot.source == SnapshotSource::kNone
            ? "-"
            : (r.snapshot_missing ? "no entry"
                                  : (r.snapshot_mismatches.empty() ? "match" : "differs"));
    std::string notes;
    for (const auto& f : r.failures) notes += (notes.empty() ? "" : "<br>") + html_escape(f);
    h += "<tr id=\"case-" + html_escape(r.id) + "\"><td class=\"num\">" +
         std::to_string(r.index + 1) + "</td><td><code>" + html_escape(r.id) +
         "</code></td><td><span class=\"badge " + verdict_class(r.verdict) + "\">" +
         verdict_name(r.verdict) + "</span></td><td>" +
         (r.expected ? route_cell(r.expected->agent_id, r.expected->role_id) : "-") + "</td><td>" +
         route_cell(d.agent_id, d.role_id) + "</td><td class=\"num\">" +
         std::to_string(d.token_count) + "</td><td class=\"num\">" +
         (d.agent_margin ? format_double("%.4f", *d.agent_margin) : "n/a") +
         "</td><td class=\"num\">" +
         (d.role_margin ? format_double("%.4f", *d.role_margin) : "n/a") + "</td><td>" + snap +
         "</td><td class=\"small\">" + notes + "</td></tr>\n";
  }
  h += "</table>\n";

  h += "<h2>Determinism</h2>\n<p>";
  if (run.determinism_runs <= 1) {
    h += "Not checked (one pass; use <code>--determinism-runs N</code>).";
  } else if (run.determinism.empty()) {
    h += "<span class=\"pass\">Stable</span>: " + std::to_string(run.determinism_runs) +
         " passes, every route_hash equal to the first pass.";
  } else {
    h += "<span class=\"fail\">" + std::to_string(run.determinism.size()) +
         " route_hash difference(s)</span> over " + std::to_string(run.determinism_runs) +
         " passes:</p>\n<table><tr><th>id</th><th>run</th><th>route_hash</th><th>first run</th>"
         "</tr>\n";
    for (const auto& m : run.determinism) {
      h += "<tr><td><code>" + html_escape(m.id) + "</code></td><td class=\"num\">" +
           std::to_string(m.run) + "</td><td><code>" + html_escape(m.route_hash) +
           "</code></td><td><code>" + html_escape(m.first_route_hash) + "</code></td></tr>\n";
    }
    h += "</table>\n<p>";
  }
  h += "</p>\n<h2>Snapshot</h2>\n<p>";
  if (info.snapshot.source == SnapshotSource::kNone) {
    h += "No snapshot for profile <code>" + html_escape(info.profile) +
         "</code> (looked for <code>" + html_escape(info.snapshot.looked_for) + "</code>).";
  } else {
    int checked = 0, differ = 0, missing = 0;
    for (const auto& r : run.results) {
      checked += r.snapshot_checked;
      differ += !r.snapshot_mismatches.empty();
      missing += r.snapshot_missing;
    }
    h += "<code>" + html_escape(info.snapshot.path) + "</code> (" +
         snapshot_source_name(info.snapshot.source) + "): " + std::to_string(checked) +
         " case(s) checked on agent_id, role_id, token_count and transcript_hash; " +
         std::to_string(differ) + " differ, " + std::to_string(missing) + " without an entry.";
  }
  h += "</p>\n<h2>Run</h2>\n<table class=\"meta\">\n";
  h +=
      row("run id", info.run_id) + row("started", info.started_at) + row("base", info.base) +
      row("artifact", info.artifact) + row("vector", info.vector) + row("profile", info.profile) +
      row("backend", info.backend) +
      row("cases", info.cases_path + " (" + std::to_string(s.total) + " of " +
                       std::to_string(info.cases_in_file) + ")") +
      row("floors", "agent " + format_double("%.4g", info.floors.agent) + ", role " +
                        format_double("%.4g", info.floors.role) + " (" + info.floors_source + ")") +
      row("assert", info.assert_results ? "yes" : "no (--no-assert)") +
      row("determinism runs", std::to_string(run.determinism_runs)) +
      row("timing", "load " + format_double("%.1f", info.load_ms) + " ms, route " +
                        format_double("%.1f", s.route_ms) + " ms, determinism " +
                        format_double("%.1f", s.determinism_ms) + " ms");
  h += "</table>\n<p class=\"small\">Generated by trinity.cpp. Self-contained: no scripts, no "
       "network.</p>\n</body>\n</html>\n";
  return h;
}

}  // namespace trinity::eval
