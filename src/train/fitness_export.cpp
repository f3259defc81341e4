#include "train/fitness_export.h"

#include <algorithm>
#include <set>

#include "core/file_util.h"
#include "core/sha256.h"
#include "core/time_util.h"
#include "train/fitness_id.h"

namespace trinity::train {
namespace {

// The distinct non-null values of example[map][key], sorted.
Json collect_values(const std::vector<Json>& examples, const char* map, const char* key) {
  std::set<Json> values;
  for (const Json& e : examples) {
    const Json& m = e[map];
    if (m.contains(key) && !m[key].is_null()) values.insert(m[key]);
  }
  return Json(std::vector<Json>(values.begin(), values.end()));
}

// "sha256:" + hex of the sorted route hashes joined by "\n" (the reference's digest).
std::string route_hashes_digest(const std::vector<Json>& examples) {
  std::vector<std::string> hashes;
  for (const Json& e : examples) {
    const Json& h = e["route"]["route_hash"];
    if (h.is_string()) hashes.push_back(h.get<std::string>());
  }
  std::sort(hashes.begin(), hashes.end());
  std::string joined;
  for (size_t i = 0; i < hashes.size(); ++i) joined += (i ? "\n" : "") + hashes[i];
  return "sha256:" + sha256_hex(joined);
}

Json build_manifest(const ExportOptions& o, const std::vector<Json>& examples,
                    const std::string& dataset, const TraceReadResult& read,
                    const AssembledCandidates& assembled) {
  std::map<std::string, int64_t> labels = {{"positive", 0}, {"neutral", 0}, {"negative", 0}};
  for (const Json& e : examples) ++labels[e["fitness"]["label"].get<std::string>()];
  const std::set<std::string> paths(o.trace_paths.begin(), o.trace_paths.end());
  Json skipped = Json::array();
  for (const SkippedLine& s : read.skipped) skipped.push_back(s.to_json());
  const std::string sha = sha256_hex(dataset);
  return {{"schema_version", kFitnessManifestSchema},
          {"generated_at", o.generated_at.empty() ? utc_now(UtcFormat::kIso8601) : o.generated_at},
          {"source_trace_paths", paths},
          {"record_count", examples.size()},
          {"positive_count", labels["positive"]},
          {"neutral_count", labels["neutral"]},
          {"negative_count", labels["negative"]},
          {"skipped_count", read.skipped.size()},
          {"conflict_count", assembled.conflicts.size()},
          {"score_formula", kScoreFormula},
          {"score_formula_version", kScoreFormulaVersion},
          {"margin_mode", margin_mode_name(o.score.margin_mode)},
          {"content_mode", coord::content_mode_name(o.content)},
          {"redaction_mode", "allowlist"},
          {"provenance_summary", {{"source_trace_count", paths.size()}, {"deduplicated", true}}},
          {"artifact_refs", collect_values(examples, "route", "artifact_ref")},
          {"runtime_profiles", collect_values(examples, "route", "runtime_profile")},
          {"route_hashes_digest", route_hashes_digest(examples)},
          {"dataset_digest", "sha256:" + sha},
          {"example_schema_version", kFitnessExampleSchema},
          {"example_unit", example_unit_name(o.unit)},
          {"score_options", o.score.to_json()},
          {"files", {{kFitnessFileName, {{"sha256", sha}, {"bytes", dataset.size()}}}}},
          {"skipped", skipped},
          {"conflicts", assembled.conflicts}};
}

}  // namespace

Json score_candidate(const FitnessCandidate& c, const ScoreOptions& opts) {
  Json example = {{"schema_version", kFitnessExampleSchema},
                  {"example_id", c.example_id},
                  {"source", c.source},
                  {"input", c.input},
                  {"route", c.route},
                  {"outcome", c.outcome},
                  {"provenance", c.provenance}};
  const ScoreResult s = score_v1(ScoreInputs::from_example(example), opts);
  example["fitness"] = {{"score", s.score},
                        {"label", s.label},
                        {"formula", kScoreFormula},
                        {"formula_version", kScoreFormulaVersion},
                        {"margin_mode", margin_mode_name(opts.margin_mode)},
                        {"components", s.components.to_json()},
                        {"options", opts.to_json()}};
  return example;
}

std::string fitness_dataset_bytes(const std::vector<Json>& examples) {
  std::string out;
  for (const Json& e : examples) out += canonical_json(e) + "\n";
  return out;
}

Result<ExportResult> export_fitness(const ExportOptions& o) {
  TRINITY_RETURN_IF_ERROR(o.score.validate());
  if (o.out_dir.empty()) return invalid_argument("--out: an output directory is required");
  TRINITY_ASSIGN_OR_RETURN(TraceReadResult read, read_traces(o.trace_paths, o.skip_invalid));
  TRINITY_ASSIGN_OR_RETURN(AssembledCandidates assembled,
                           assemble_candidates(read.entries, o.unit, o.content));
  ExportResult r;
  for (const FitnessCandidate& c : assembled.examples)
    r.examples.push_back(score_candidate(c, o.score));
  r.dataset = fitness_dataset_bytes(r.examples);
  r.manifest = build_manifest(o, r.examples, r.dataset, read, assembled);
  r.fitness_path = join_path(o.out_dir, kFitnessFileName);
  r.manifest_path = join_path(o.out_dir, kFitnessManifestName);
  TRINITY_RETURN_IF_ERROR(make_dirs(o.out_dir).with_context("--out " + o.out_dir));
  TRINITY_RETURN_IF_ERROR(
      write_file_atomic(r.fitness_path, r.dataset).with_context(r.fitness_path));
  TRINITY_RETURN_IF_ERROR(write_file_atomic(r.manifest_path, canonical_json(r.manifest) + "\n")
                              .with_context(r.manifest_path));
  return r;
}

}  // namespace trinity::train
