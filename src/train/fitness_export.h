// `trinity fitness export`: traces -> scored fitness examples (the reference's
// trinity.sakana.fitness_example.v1) in DIR/fitness.jsonl, and DIR/manifest.json
// (trinity.sakana.fitness_manifest.v1).
//
// An example: {schema_version, example_id, source, input, route, outcome, fitness,
// provenance}; fitness = {score, label, formula "v1", formula_version 1, margin_mode,
// components, options} (options, trinity's addition: the ScoreOptions the score was computed
// with, so `fitness replay` recomputes it from the example alone).
// fitness.jsonl: one canonical JSON object per line (keys sorted), examples in the order of
// assemble_candidates (run id, turn, example id); the same traces give the same bytes.
// manifest.json: the reference's manifest fields (counts per label, skipped / conflict counts,
// score formula, margin / content / redaction modes, artifact refs, runtime profiles,
// route_hashes_digest, dataset_digest = "sha256:<hex of fitness.jsonl>") plus trinity's:
// example_schema_version, example_unit, score_options, files {name: {sha256, bytes}}, skipped
// (the lines --skip-invalid skipped) and conflicts. Both files are written atomically, the
// manifest last.
#pragma once

#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "train/fitness_score.h"
#include "train/fitness_trace.h"

namespace trinity::train {

inline constexpr const char* kFitnessExampleSchema = "trinity.sakana.fitness_example.v1";
inline constexpr const char* kFitnessManifestSchema = "trinity.sakana.fitness_manifest.v1";
inline constexpr const char* kFitnessFileName = "fitness.jsonl";
inline constexpr const char* kFitnessManifestName = "manifest.json";

struct ExportOptions {
  std::vector<std::string> trace_paths;
  std::string out_dir;
  ExampleUnit unit = ExampleUnit::kRoute;
  coord::ContentMode content = coord::ContentMode::kHash;
  ScoreOptions score;
  bool skip_invalid = false;
  std::string generated_at;  // the manifest's generated_at; empty: now (UTC, ISO 8601)
};

struct ExportResult {
  std::vector<Json> examples;
  std::string dataset;  // the bytes of fitness.jsonl
  Json manifest;
  std::string fitness_path, manifest_path;
};

// The scored example of a candidate.
Json score_candidate(const FitnessCandidate& c, const ScoreOptions& opts);

// Examples -> JSONL bytes (canonical JSON, one per line).
std::string fitness_dataset_bytes(const std::vector<Json>& examples);

// Reads, assembles, scores and writes; returns what was written.
Result<ExportResult> export_fitness(const ExportOptions& opts);

}  // namespace trinity::train
