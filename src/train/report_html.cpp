#include "train/report_html.h"

#include <algorithm>
#include <cstdio>
#include <functional>

#include "core/file_util.h"

namespace trinity::train {

OrderedJson HeldoutReport::to_json() const {
  OrderedJson j;
  j["untrained"] = untrained;
  j["trained"] = trained;
  j["best_single_agent"] = best_single_agent;
  j["best_agent"] = best_agent;
  j["oracle"] = oracle;
  j["single_agent"] = single_agent;
  return j;
}

Result<std::vector<Json>> read_train_log(const std::string& path) {
  TRINITY_ASSIGN_OR_RETURN(std::string text, read_file(path));
  std::vector<Json> out;
  size_t pos = 0;
  int64_t line_no = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.empty()) continue;
    TRINITY_ASSIGN_OR_RETURN(Json j, parse_json(line, path + ":" + std::to_string(line_no)));
    out.push_back(std::move(j));
  }
  return out;
}

namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), f, v);
  return buf;
}

std::string escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<')
      o += "&lt;";
    else if (c == '>')
      o += "&gt;";
    else if (c == '&')
      o += "&amp;";
    else if (c == '"')
      o += "&quot;";
    else
      o += c;
  }
  return o;
}

// One polyline per series over iterations 1..n, y in [0, 1] (values are clamped).
std::string curve_svg(const std::vector<Json>& log) {
  const double W = 640, H = 260, L = 48, R = 12, T = 12, B = 32;
  const double n = std::max<double>(1.0, static_cast<double>(log.size()));
  auto px = [&](double it) { return L + (it - 1) / std::max(1.0, n - 1) * (W - L - R); };
  auto py = [&](double v) { return T + (1 - std::clamp(v, 0.0, 1.0)) * (H - T - B); };
  std::string svg = "<svg xmlns='http://www.w3.org/2000/svg' width='640' height='260'>";
  for (double g = 0; g <= 1.0001; g += 0.25)
    svg += "<line x1='" + fmt("%.1f", L) + "' x2='" + fmt("%.1f", W - R) + "' y1='" +
           fmt("%.1f", py(g)) + "' y2='" + fmt("%.1f", py(g)) + "' stroke='#ddd'/><text x='4' y='" +
           fmt("%.1f", py(g) + 4) + "' font-size='11'>" + fmt("%.2f", g) + "</text>";
  struct Series {
    const char* name;
    const char* color;
    std::function<std::optional<double>(const Json&)> get;
  };
  const Series series[] = {
      {"mean reward", "#1f77b4",
       [](const Json& j) -> std::optional<double> { return j.value("reward_mean", 0.0); }},
      {"best fitness", "#2ca02c",
       [](const Json& j) -> std::optional<double> { return j["fitness"].value("best", 0.0); }},
      {"held-out accuracy", "#d62728",
       [](const Json& j) -> std::optional<double> {
         if (!j.contains("heldout_accuracy") || !j["heldout_accuracy"].is_number())
           return std::nullopt;
         return j["heldout_accuracy"].get<double>();
       }},
  };
  double legend_x = L;
  for (const Series& s : series) {
    std::string pts;
    for (size_t i = 0; i < log.size(); ++i) {
      const auto v = s.get(log[i]);
      if (!v) continue;
      pts += fmt("%.1f", px(static_cast<double>(i + 1))) + "," + fmt("%.1f", py(*v)) + " ";
    }
    svg += std::string("<polyline fill='none' stroke-width='2' stroke='") + s.color + "' points='" +
           pts + "'/>";
    svg += "<text x='" + fmt("%.1f", legend_x) + "' y='" + fmt("%.1f", H - 8) +
           "' font-size='12' fill='" + s.color + "'>" + s.name + "</text>";
    legend_x += 150;
  }
  svg += "<text x='" + fmt("%.1f", W - R - 60) + "' y='" + fmt("%.1f", H - 8) +
         "' font-size='11'>iteration " + std::to_string(log.size()) + "</text></svg>";
  return svg;
}

std::string heldout_table(const HeldoutReport& h) {
  std::string t = "<table><tr><th>router</th><th>held-out accuracy</th></tr>";
  auto row = [&](const std::string& name, double v, bool strong) {
    t += "<tr" + std::string(strong ? " class='strong'" : "") + "><td>" + escape(name) +
         "</td><td>" + fmt("%.3f", v) + "</td></tr>";
  };
  row("untrained vector", h.untrained, false);
  for (int k = 0; k < kNumAgents; ++k)
    row("always agent " + std::to_string(k) + (k == h.best_agent ? " (best single)" : ""),
        h.single_agent[static_cast<size_t>(k)], false);
  row("trained vector", h.trained, true);
  row("per-task oracle (any single agent right)", h.oracle, false);
  return t + "</table>";
}

}  // namespace

std::string render_train_report_html(const OrderedJson& report, const std::vector<Json>& log,
                                     const std::optional<HeldoutReport>& heldout) {
  std::string html =
      "<!doctype html><html><head><meta charset='utf-8'><title>trinity train report</title>"
      "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
      "td,th{border:1px solid #ccc;padding:4px 10px;text-align:left}"
      "tr.strong td{font-weight:bold;background:#eef}</style></head><body>"
      "<h1>Router training (sep-CMA-ES)</h1>";
  html += "<p>" + std::to_string(log.size()) + " iterations, " +
          escape(report.value("objective", std::string())) + " objective, " +
          fmt("%.0f", report.value("episodes", 0.0)) + " episodes (" +
          fmt("%.0f", report.value("episodes_per_s", 0.0)) + "/s), vector " +
          escape(report.value("vector", std::string())) + "</p>";
  if (heldout) html += "<h2>Held-out accuracy</h2>" + heldout_table(*heldout);
  html += "<h2>Learning curve</h2>" + curve_svg(log);
  return html + "</body></html>\n";
}

}  // namespace trinity::train
