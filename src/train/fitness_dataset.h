// Reading an exported fitness JSONL, and the two reports over it (the reference's
// FitnessDatasetInspector and FitnessReplay):
//
// inspect (trinity.sakana.fitness_dataset_report.v1): record and label counts, source kinds,
//   runtime profiles, artifact refs, route paths, reflex actions, examples without an outcome
//   per source kind, the digest ("sha256:<hex>" of the file's bytes), whether the manifest's
//   dataset_digest matches it, and dataset_status: invalid (manifest_digest_mismatch,
//   empty_dataset), replay_ready (manifest_missing), candidate_eval_ready, calibration_only
//   (no_positive_examples). trinity adds label_balance (fractions), duplicates ({groups, rows,
//   keys} for example_id, input_hash (input.input_hash) and run (source.run_id + source.turn)),
//   and skipped_count.
// replay (trinity.sakana.fitness_replay_report.v1): recomputes score v1 for every example from
//   its route / outcome maps and lists score (|stored - actual| > 1e-9) and label mismatches,
//   the components' count/min/max/mean, counts by role, agent, profile, source kind, band and
//   reflex action, and reflex_economics per reflex action (count, acceptance_rate,
//   revision_rate, rejection_failure_rate, avg_latency_ms, avg_cost_usd, budget_exceeded_rate).
//   trinity adds reflex_classes: the reflex calibration counts (accepted_direct_count, ...) at
//   the default thresholds (high 4x, low 1x the floors).
// The manifest is the one given, else manifest.json beside the file when there is one.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "train/fitness_score.h"
#include "train/fitness_trace.h"

namespace trinity::train {

inline constexpr const char* kDatasetReportSchema = "trinity.sakana.fitness_dataset_report.v1";
inline constexpr const char* kReplayReportSchema = "trinity.sakana.fitness_replay_report.v1";

struct FitnessRow {
  int64_t line = 0;
  Json record;
};

struct FitnessFile {
  std::string path;
  std::string digest;  // "sha256:<hex of the bytes>"
  std::vector<FitnessRow> rows;
  std::vector<SkippedLine> skipped;
};

// A line that is not a JSON object is an error naming "<path>:<line>" (or skipped).
Result<FitnessFile> read_fitness_file(const std::string& path, bool skip_invalid);
// The same from the file's bytes (no file access; the fuzz target's entry).
Result<FitnessFile> parse_fitness_text(const std::string& bytes, const std::string& path,
                                       bool skip_invalid);
std::vector<Json> fitness_records(const FitnessFile& f);

struct DatasetReadOptions {
  std::string manifest_path;  // empty: manifest.json beside the file, when present
  bool skip_invalid = false;
};

struct LoadedDataset {
  FitnessFile file;
  std::optional<Json> manifest;
  std::string manifest_path;  // empty without a manifest
  // "manifest_missing", "manifest_digest_mismatch", or empty when the digest matches.
  std::string manifest_status() const;
};
Result<LoadedDataset> load_dataset(const std::string& path, const DatasetReadOptions& opts);

// The value at a path of object keys; null where the path ends early.
const Json& json_at(const Json& j, std::initializer_list<const char*> path);
// How often each non-null value at `path` occurs; keys: the string, else its JSON text.
Json count_by(const std::vector<Json>& rows, std::initializer_list<const char*> path);

Result<Json> inspect_fitness(const std::string& path, const DatasetReadOptions& opts);
// The inspect report of a loaded dataset (no file access).
Json inspect_report(const std::string& path, const LoadedDataset& d);

// Every example is recomputed with the options stored in its fitness.options when present,
// else with `fallback` (the reference's exports store none).
Result<Json> replay_fitness(const std::string& path, const DatasetReadOptions& opts,
                            const ScoreOptions& fallback);
// The replay report of a loaded dataset (no file access); `fallback` must be valid.
Result<Json> replay_report(const std::string& path, const LoadedDataset& d,
                           const ScoreOptions& fallback);

}  // namespace trinity::train
