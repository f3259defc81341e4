// libFuzzer: trace JSONL as `trinity fitness export` reads it (train/fitness_trace.h: lines ->
// route / run candidates -> scored examples), and the same bytes as a fitness JSONL as
// `trinity fitness inspect` / `fitness replay` / `reflex calibrate` read it
// (train/fitness_dataset.h, train/reflex_calibration.h). Never a crash; every exported dataset
// reads back line for line, and replaying it finds no score or label mismatch.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "train/fitness_dataset.h"
#include "train/fitness_export.h"
#include "train/fitness_trace.h"
#include "train/reflex_calibration.h"

namespace {

using trinity::Json;
namespace train = trinity::train;

// inspect, replay and calibrate over one fitness file; `manifest`: with a manifest whose digest
// matches the file.
void read_as_dataset(const train::FitnessFile& file, bool manifest, bool exported) {
  train::LoadedDataset d;
  d.file = file;
  if (manifest) {
    d.manifest = Json{{"dataset_digest", file.digest}};
    d.manifest_path = "fuzz/manifest.json";
  }
  (void)train::inspect_report(file.path, d).dump();
  auto replay = train::replay_report(file.path, d, train::ScoreOptions());
  if (exported) {  // an export replays to itself
    if (!replay.ok() || (*replay)["status"] != "ok") std::abort();
  }
  if (replay.ok()) (void)replay->dump();
  auto calibration =
      train::calibrate_reflex(train::fitness_records(file), train::CalibrationOptions(), file.path);
  if (calibration.ok()) (void)calibration->dump();
}

// Both example units; the content mode (it only decides whether input.messages is copied) from
// the input's size, so that one input costs two assemblies, not four.
void export_and_read_back(const train::TraceReadResult& traces, size_t size) {
  const auto content =
      size % 2 ? trinity::coord::ContentMode::kFull : trinity::coord::ContentMode::kHash;
  for (auto unit : {train::ExampleUnit::kRoute, train::ExampleUnit::kRun}) {
    auto assembled = train::assemble_candidates(traces.entries, unit, content);
    if (!assembled.ok()) continue;
    std::vector<Json> examples;
    for (const train::FitnessCandidate& c : assembled->examples)
      examples.push_back(train::score_candidate(c, train::ScoreOptions()));
    const std::string dataset = train::fitness_dataset_bytes(examples);
    auto back = train::parse_fitness_text(dataset, "fuzz/fitness.jsonl", false);
    if (!back.ok() || back->rows.size() != examples.size()) std::abort();
    read_as_dataset(*back, true, true);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // As a trace: strict (the first bad line is an error) and with --skip-invalid.
  train::TraceReadResult strict;
  const bool strict_ok = train::parse_jsonl_text(text, "fuzz/trace.jsonl", false, strict).ok();
  train::TraceReadResult lenient;
  if (!train::parse_jsonl_text(text, "fuzz/trace.jsonl", true, lenient).ok()) std::abort();
  if (strict_ok && (!lenient.skipped.empty() || lenient.entries.size() != strict.entries.size()))
    std::abort();
  export_and_read_back(lenient, size);
  // As a fitness file (inspect / replay / calibrate).
  auto file = train::parse_fitness_text(text, "fuzz/fitness.jsonl", true);
  if (!file.ok()) std::abort();
  read_as_dataset(*file, false, false);
  return 0;
}
