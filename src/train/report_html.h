// The training report: held-out accuracies (untrained, each single agent, trained, oracle) and
// the learning curve from log.jsonl, as one self-contained HTML page (inline SVG, no scripts).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "router/route.h"

namespace trinity::train {

struct HeldoutReport {
  double untrained = 0, trained = 0, best_single_agent = 0, oracle = 0;
  int best_agent = 0;
  std::array<double, kNumAgents> single_agent{};  // --fixed-agent K with the trained vector
  // {untrained, trained, best_single_agent, best_agent, oracle, single_agent}
  OrderedJson to_json() const;
};

// log.jsonl lines as JSON objects (errors name the file and line).
Result<std::vector<Json>> read_train_log(const std::string& path);

std::string render_train_report_html(const OrderedJson& report, const std::vector<Json>& log,
                                     const std::optional<HeldoutReport>& heldout);

}  // namespace trinity::train
