#include "train/fitness_dataset.h"

#include <functional>
#include <map>

#include "core/file_util.h"
#include "core/sha256.h"
#include "train/fitness_id.h"

namespace trinity::train {
namespace {

std::string key_text(const Json& v) {
  return v.is_string() ? v.get<std::string>() : canonical_json(v);
}

std::string dir_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

Json label_counts(const std::vector<Json>& rows) {
  Json counts = {{"positive", 0}, {"neutral", 0}, {"negative", 0}};
  int64_t other = 0;
  for (const Json& r : rows) {
    const Json& label = json_at(r, {"fitness", "label"});
    if (label.is_string() && counts.contains(label.get<std::string>())) {
      counts[label.get<std::string>()] = counts[label.get<std::string>()].get<int64_t>() + 1;
    } else {
      ++other;
    }
  }
  counts["unknown"] = other;
  return counts;
}

// Groups of rows sharing a non-null key: {groups, rows (beyond the first of each group), keys
// (the first ten, sorted)}.
Json duplicates_by(const std::vector<Json>& rows, const std::function<Json(const Json&)>& key_of) {
  std::map<std::string, int64_t> seen;
  for (const Json& r : rows) {
    const Json key = key_of(r);
    if (!key.is_null()) ++seen[key_text(key)];
  }
  int64_t groups = 0, extra = 0;
  Json keys = Json::array();
  for (const auto& [key, n] : seen) {
    if (n < 2) continue;
    ++groups;
    extra += n - 1;
    if (keys.size() < 10) keys.push_back(key);
  }
  return {{"groups", groups}, {"rows", extra}, {"keys", keys}};
}

Json duplicates(const std::vector<Json>& rows) {
  return {
      {"example_id", duplicates_by(rows, [](const Json& r) { return json_at(r, {"example_id"}); })},
      {"input_hash", duplicates_by(rows,
                                   [](const Json& r) {
                                     return json_at(r, {"input", "input_hash"});
                                   })},
      {"run", duplicates_by(rows, [](const Json& r) {
         const Json& run_id = json_at(r, {"source", "run_id"});
         return run_id.is_null() ? Json() : Json::array({run_id, json_at(r, {"source", "turn"})});
       })}};
}

Json missing_outcome_counts(const std::vector<Json>& rows) {
  Json counts = Json::object();
  for (const Json& r : rows) {
    const Json& status = json_at(r, {"outcome", "verifier_status"});
    if (!status.is_null() && status != "unknown") continue;
    const Json& kind = json_at(r, {"source", "kind"});
    const std::string k = kind.is_null() ? "unknown" : key_text(kind);
    counts[k] = counts.value(k, 0) + 1;
  }
  return counts;
}

std::pair<std::string, Json> dataset_status(const LoadedDataset& d, const Json& labels) {
  const std::string manifest = d.manifest_status();
  if (manifest == "manifest_digest_mismatch") return {"invalid", manifest};
  if (d.file.rows.empty()) return {"invalid", "empty_dataset"};
  if (manifest == "manifest_missing") return {"replay_ready", manifest};
  if (labels["positive"].get<int64_t>() > 0) return {"candidate_eval_ready", nullptr};
  return {"calibration_only", "no_positive_examples"};
}

}  // namespace

const Json& json_at(const Json& j, std::initializer_list<const char*> path) {
  static const Json kNull;
  const Json* cur = &j;
  for (const char* key : path) {
    if (!cur->is_object()) return kNull;
    auto it = cur->find(key);
    if (it == cur->end()) return kNull;
    cur = &*it;
  }
  return *cur;
}

Json count_by(const std::vector<Json>& rows, std::initializer_list<const char*> path) {
  Json counts = Json::object();
  for (const Json& r : rows) {
    const Json& v = json_at(r, path);
    if (v.is_null()) continue;
    const std::string k = key_text(v);
    counts[k] = counts.value(k, 0) + 1;
  }
  return counts;
}

Result<FitnessFile> read_fitness_file(const std::string& path, bool skip_invalid) {
  if (!file_exists(path) || is_directory(path)) return not_found("fitness file not found: " + path);
  TRINITY_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  return parse_fitness_text(bytes, path, skip_invalid);
}

Result<FitnessFile> parse_fitness_text(const std::string& bytes, const std::string& path,
                                       bool skip_invalid) {
  FitnessFile f;
  f.path = path;
  f.digest = "sha256:" + sha256_hex(bytes);
  TraceReadResult read;  // the lines as a trace reader sees them: same parsing, same errors
  TRINITY_RETURN_IF_ERROR(parse_jsonl_text(bytes, path, skip_invalid, read));
  for (TraceEntry& e : read.entries) f.rows.push_back({e.line, std::move(e.record)});
  f.skipped = std::move(read.skipped);
  return f;
}

std::vector<Json> fitness_records(const FitnessFile& f) {
  std::vector<Json> out;
  out.reserve(f.rows.size());
  for (const FitnessRow& r : f.rows) out.push_back(r.record);
  return out;
}

std::string LoadedDataset::manifest_status() const {
  if (!manifest) return "manifest_missing";
  return json_at(*manifest, {"dataset_digest"}) == file.digest ? "" : "manifest_digest_mismatch";
}

Result<LoadedDataset> load_dataset(const std::string& path, const DatasetReadOptions& opts) {
  LoadedDataset d;
  TRINITY_ASSIGN_OR_RETURN(d.file, read_fitness_file(path, opts.skip_invalid));
  std::string manifest = opts.manifest_path;
  if (manifest.empty()) {
    const std::string beside = join_path(dir_of(path), "manifest.json");
    if (file_exists(beside)) manifest = beside;
  }
  if (manifest.empty()) return d;
  if (!file_exists(manifest)) return not_found("fitness manifest not found: " + manifest);
  TRINITY_ASSIGN_OR_RETURN(Json m, load_json_file(manifest));
  if (!m.is_object()) return parse_error(manifest + ": the manifest must be a JSON object");
  d.manifest = std::move(m);
  d.manifest_path = manifest;
  return d;
}

Result<Json> inspect_fitness(const std::string& path, const DatasetReadOptions& opts) {
  TRINITY_ASSIGN_OR_RETURN(LoadedDataset d, load_dataset(path, opts));
  return inspect_report(path, d);
}

Json inspect_report(const std::string& path, const LoadedDataset& d) {
  const std::vector<Json> rows = fitness_records(d.file);
  const Json labels = label_counts(rows);
  const auto [status, reason] = dataset_status(d, labels);
  Json balance = Json::object();
  for (const char* l : {"positive", "neutral", "negative"})
    balance[l] = rows.empty() ? 0.0 : labels[l].get<double>() / static_cast<double>(rows.size());
  return Json{{"schema_version", kDatasetReportSchema},
              {"fitness_path", path},
              {"manifest_path", d.manifest_path.empty() ? Json() : Json(d.manifest_path)},
              {"record_count", rows.size()},
              {"positive_count", labels["positive"]},
              {"neutral_count", labels["neutral"]},
              {"negative_count", labels["negative"]},
              {"unlabeled_count", labels["unknown"]},
              {"label_balance", balance},
              {"source_counts", count_by(rows, {"source", "kind"})},
              {"runtime_profiles", count_by(rows, {"route", "runtime_profile"})},
              {"artifact_refs", count_by(rows, {"route", "artifact_ref"})},
              {"route_path_counts", count_by(rows, {"route", "route_path"})},
              {"reflex_counts", count_by(rows, {"route", "reflex", "action"})},
              {"missing_outcome_counts", missing_outcome_counts(rows)},
              {"duplicates", duplicates(rows)},
              {"skipped_count", d.file.skipped.size()},
              {"digest", d.file.digest},
              {"manifest_digest_verified", d.manifest_status().empty()},
              {"dataset_status", status},
              {"status_reason", reason}};
}

}  // namespace trinity::train
