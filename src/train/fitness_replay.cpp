// `trinity fitness replay`: score v1 recomputed over an exported dataset (fitness_dataset.h).
#include <cmath>
#include <map>

#include "train/fitness_dataset.h"
#include "train/reflex_calibration.h"

namespace trinity::train {
namespace {

Result<ScoreOptions> options_for(const Json& example, int64_t line, const std::string& path,
                                 const ScoreOptions& fallback) {
  const Json& stored = json_at(example, {"fitness", "options"});
  if (stored.is_null()) return fallback;
  return ScoreOptions::from_json(stored, path + ":" + std::to_string(line) + ": fitness.options");
}

void add_mismatches(const Json& example, const ScoreResult& actual, Json& out) {
  const Json& id = json_at(example, {"example_id"});
  const Json& stored_score = json_at(example, {"fitness", "score"});
  const Json& stored_label = json_at(example, {"fitness", "label"});
  if (!stored_score.is_number() || std::fabs(stored_score.get<double>() - actual.score) > 1e-9)
    out.push_back({{"kind", "score"},
                   {"example_id", id},
                   {"stored", stored_score},
                   {"actual", actual.score}});
  if (stored_label != actual.label)
    out.push_back({{"kind", "label"},
                   {"example_id", id},
                   {"stored", stored_label},
                   {"actual", actual.label}});
}

struct Stats {
  int64_t count = 0;
  double sum = 0, min = 0, max = 0;
  void add(double v) {
    min = count ? std::min(min, v) : v;
    max = count ? std::max(max, v) : v;
    sum += v;
    ++count;
  }
};

Json component_summary(const std::vector<ScoreResult>& scores) {
  std::map<std::string, Stats> stats;
  for (const ScoreResult& s : scores) {
    const Json components = s.components.to_json();
    for (const auto& [name, value] : components.items()) stats[name].add(value.get<double>());
  }
  Json out = Json::object();
  for (const auto& [name, s] : stats)
    out[name] = {{"count", s.count},
                 {"min", s.min},
                 {"max", s.max},
                 {"mean", s.sum / static_cast<double>(s.count)}};
  return out;
}

Json group_summary(const std::vector<Json>& rows) {
  return {{"selected_role_id", count_by(rows, {"route", "selected_role_id"})},
          {"selected_agent_id", count_by(rows, {"route", "selected_agent_id"})},
          {"runtime_profile", count_by(rows, {"route", "runtime_profile"})},
          {"source_kind", count_by(rows, {"source", "kind"})},
          {"confidence_band", count_by(rows, {"route", "confidence_band"})},
          {"reflex_action", count_by(rows, {"route", "reflex", "action"})}};
}

template <typename Pred>
double rate(const std::vector<Json>& rows, Pred pred) {
  if (rows.empty()) return 0.0;
  int64_t n = 0;
  for (const Json& r : rows) n += pred(r) ? 1 : 0;
  return static_cast<double>(n) / static_cast<double>(rows.size());
}

Json average(const std::vector<Json>& rows, const char* key) {
  double sum = 0;
  int64_t n = 0;
  for (const Json& r : rows) {
    const Json& v = json_at(r, {"outcome", key});
    if (v.is_number()) {
      sum += v.get<double>();
      ++n;
    }
  }
  return n ? Json(sum / static_cast<double>(n)) : Json();
}

Json economics(const std::vector<Json>& rows) {
  auto status = [](const Json& r) { return json_at(r, {"outcome", "verifier_status"}); };
  return {
      {"count", rows.size()},
      {"acceptance_rate", rate(rows, [&](const Json& r) { return status(r) == "accepted"; })},
      {"revision_rate", rate(rows,
                             [](const Json& r) {
                               const Json& v = json_at(r, {"outcome", "revision_count"});
                               return v.is_number() && v.get<double>() > 0;
                             })},
      {"rejection_failure_rate",
       rate(rows, [&](const Json& r) { return status(r) == "rejected" || status(r) == "failed"; })},
      {"avg_latency_ms", average(rows, "observed_latency_ms")},
      {"avg_cost_usd", average(rows, "estimated_cost_usd")},
      {"budget_exceeded_rate", rate(rows, [](const Json& r) {
         return json_at(r, {"outcome", "budget_exceeded"}) == true;
       })}};
}

// Per reflex action ("none" for examples without one).
Json reflex_economics(const std::vector<Json>& rows) {
  std::map<std::string, std::vector<Json>> groups;
  for (const Json& r : rows) {
    const Json& action = json_at(r, {"route", "reflex", "action"});
    groups[action.is_string() ? action.get<std::string>() : "none"].push_back(r);
  }
  Json out = Json::object();
  for (const auto& [action, members] : groups) out[action] = economics(members);
  return out;
}

}  // namespace

Result<Json> replay_fitness(const std::string& path, const DatasetReadOptions& opts,
                            const ScoreOptions& fallback) {
  TRINITY_RETURN_IF_ERROR(fallback.validate());
  TRINITY_ASSIGN_OR_RETURN(LoadedDataset d, load_dataset(path, opts));
  return replay_report(path, d, fallback);
}

Result<Json> replay_report(const std::string& path, const LoadedDataset& d,
                           const ScoreOptions& fallback) {
  const std::vector<Json> rows = fitness_records(d.file);
  std::vector<ScoreResult> scores;
  Json mismatches = Json::array();
  int64_t score_mismatches = 0;
  for (const FitnessRow& row : d.file.rows) {
    TRINITY_ASSIGN_OR_RETURN(ScoreOptions o, options_for(row.record, row.line, path, fallback));
    scores.push_back(score_v1(ScoreInputs::from_example(row.record), o));
    add_mismatches(row.record, scores.back(), mismatches);
  }
  for (const Json& m : mismatches) score_mismatches += m["kind"] == "score" ? 1 : 0;
  const std::string manifest = d.manifest_status();
  const CalibrationCandidate classes =
      evaluate_thresholds(rows, MarginMode::kProfileFloor, 4.0, 1.0);
  return Json{{"schema_version", kReplayReportSchema},
              {"fitness_path", path},
              {"manifest_path", d.manifest_path.empty() ? Json() : Json(d.manifest_path)},
              {"record_count", rows.size()},
              {"score_mismatch_count", score_mismatches},
              {"label_mismatch_count", static_cast<int64_t>(mismatches.size()) - score_mismatches},
              {"mismatches", mismatches},
              {"component_summary", component_summary(scores)},
              {"group_summary", group_summary(rows)},
              {"reflex_economics", reflex_economics(rows)},
              {"reflex_classes", classes.to_json()},
              {"dataset_digest", d.file.digest},
              {"status", mismatches.empty() ? "ok" : "mismatch"},
              {"status_reason", manifest.empty() ? Json() : Json(manifest)}};
}

}  // namespace trinity::train
