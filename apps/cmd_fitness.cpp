// trinity fitness export|inspect|replay: fitness examples from run traces (score v1, the
// reference's trinity.sakana.fitness_example.v1) and the reports over them (src/train).
#include <cstdio>

#include "cli_common.h"
#include "train/fitness_dataset.h"
#include "train/fitness_export.h"

namespace trinity::cli {

namespace {

struct ScoreFlags {
  std::string margin_mode = "profile_floor";
  double margin_scale = 1.0, positive = 0.67, negative = 0.33;
  std::optional<double> latency_target_ms, cost_target_usd;
  Result<train::ScoreOptions> to_options() const {
    train::ScoreOptions o;
    TRINITY_ASSIGN_OR_RETURN(o.margin_mode, train::parse_margin_mode(margin_mode));
    o.margin_scale = margin_scale;
    o.positive_threshold = positive;
    o.negative_threshold = negative;
    o.latency_target_ms = latency_target_ms;
    o.cost_target_usd = cost_target_usd;
    TRINITY_RETURN_IF_ERROR(o.validate());
    return o;
  }
};

struct Options {
  std::vector<std::string> traces;
  std::string out, unit = "route", content = "hash", generated_at, file, manifest;
  ScoreFlags score;
  bool skip_invalid = false, json = false;
};

void add_score_flags(CLI::App* sub, ScoreFlags& f) {
  sub->add_option("--margin-mode", f.margin_mode,
                  "margin_strength: profile_floor (default; log2 of the margins over the floors "
                  "0.24 / 1.06) or absolute (the smaller margin over --margin-scale)")
      ->check(CLI::IsMember({"profile_floor", "absolute"}));
  sub->add_option("--margin-scale", f.margin_scale, "absolute mode: the margin scale (> 0)");
  sub->add_option("--latency-target-ms", f.latency_target_ms,
                  "Latency target: adds 0.05 x clamp(1 - observed / target, -1, 1)");
  sub->add_option("--cost-target-usd", f.cost_target_usd,
                  "Cost target: adds 0.05 x clamp(1 - cost / target, -1, 1)");
  sub->add_option("--positive-threshold", f.positive, "Label positive at or above (0.67)");
  sub->add_option("--negative-threshold", f.negative, "Label negative at or below (0.33)");
}

void print_json(const Json& j) {
  std::printf("%s\n", j.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
}

std::string text(const Json& v) {
  if (v.is_null()) return "-";
  return v.is_string() ? v.get<std::string>() : v.dump();
}

int run_export(const Options& o) {
  train::ExportOptions e;
  e.trace_paths = o.traces;
  e.out_dir = o.out;
  e.skip_invalid = o.skip_invalid;
  e.generated_at = o.generated_at;
  auto unit = train::parse_example_unit(o.unit);
  auto content = coord::parse_content_mode(o.content);
  auto score = o.score.to_options();
  for (const Status& st : {unit.status(), content.status(), score.status()})
    if (!st.ok()) return report_error("fitness export", st);
  e.unit = *unit;
  e.content = *content;
  e.score = *score;
  auto r = train::export_fitness(e);
  if (!r.ok()) return report_error("fitness export", r.status());
  const Json& m = r->manifest;
  if (o.json) {
    print_json({{"ok", true},
                {"fitness_path", r->fitness_path},
                {"manifest_path", r->manifest_path},
                {"manifest", m}});
    return kExitOk;
  }
  std::printf("fitness export: %s examples (positive %s, neutral %s, negative %s), unit %s\n",
              text(m["record_count"]).c_str(), text(m["positive_count"]).c_str(),
              text(m["neutral_count"]).c_str(), text(m["negative_count"]).c_str(), o.unit.c_str());
  std::printf("  from %zu trace file(s); %s line(s) skipped, %s conflict(s)\n",
              m["source_trace_paths"].size(), text(m["skipped_count"]).c_str(),
              text(m["conflict_count"]).c_str());
  std::printf("  wrote %s (%s)\n  wrote %s\n", r->fitness_path.c_str(),
              text(m["dataset_digest"]).c_str(), r->manifest_path.c_str());
  return kExitOk;
}

void print_counts(const char* title, const Json& counts) {
  std::printf("  %s:", title);
  if (counts.empty()) std::printf(" -");
  for (const auto& [k, v] : counts.items()) std::printf(" %s %s", k.c_str(), text(v).c_str());
  std::printf("\n");
}

void print_inspect(const Json& r) {
  std::printf("fitness %s: %s examples\n", text(r["fitness_path"]).c_str(),
              text(r["record_count"]).c_str());
  std::printf("  labels:");
  for (const char* l : {"positive", "neutral", "negative"})
    std::printf(" %s %s (%.1f%%)", l, text(r[std::string(l) + "_count"]).c_str(),
                100.0 * r["label_balance"][l].get<double>());
  std::printf("\n");
  print_counts("sources", r["source_counts"]);
  print_counts("runtime profiles", r["runtime_profiles"]);
  print_counts("reflex actions", r["reflex_counts"]);
  print_counts("no outcome", r["missing_outcome_counts"]);
  const Json& d = r["duplicates"];
  std::printf("  duplicates (extra rows / groups): example_id %s/%s, input_hash %s/%s, run %s/%s\n",
              text(d["example_id"]["rows"]).c_str(), text(d["example_id"]["groups"]).c_str(),
              text(d["input_hash"]["rows"]).c_str(), text(d["input_hash"]["groups"]).c_str(),
              text(d["run"]["rows"]).c_str(), text(d["run"]["groups"]).c_str());
  std::printf("  digest: %s\n", text(r["digest"]).c_str());
  std::printf("  manifest: %s%s\n", text(r["manifest_path"]).c_str(),
              r["manifest_path"].is_null()            ? ""
              : r["manifest_digest_verified"] == true ? " (digest verified)"
                                                      : " (digest MISMATCH)");
  std::printf("  status: %s%s\n", text(r["dataset_status"]).c_str(),
              r["status_reason"].is_null() ? "" : (" (" + text(r["status_reason"]) + ")").c_str());
}

int run_inspect(const Options& o) {
  auto r = train::inspect_fitness(o.file, {o.manifest, o.skip_invalid});
  if (!r.ok()) return report_error("fitness inspect", r.status());
  o.json ? print_json(*r) : print_inspect(*r);
  return (*r)["dataset_status"] == "invalid" ? kExitFailure : kExitOk;
}

void print_replay(const Json& r) {
  std::printf("fitness replay %s: %s examples, %s score and %s label mismatches: %s\n",
              text(r["fitness_path"]).c_str(), text(r["record_count"]).c_str(),
              text(r["score_mismatch_count"]).c_str(), text(r["label_mismatch_count"]).c_str(),
              text(r["status"]).c_str());
  size_t shown = 0;
  for (const Json& m : r["mismatches"]) {
    if (++shown > 20) break;
    std::printf("  %s mismatch %s: stored %s, recomputed %s\n", text(m["kind"]).c_str(),
                text(m["example_id"]).c_str(), text(m["stored"]).c_str(),
                text(m["actual"]).c_str());
  }
  std::printf("  component means:");
  for (const auto& [k, v] : r["component_summary"].items())
    std::printf(" %s %.4f", k.c_str(), v["mean"].get<double>());
  std::printf("\n  reflex economics:\n    %-22s %6s %9s %8s %16s %12s %12s %9s\n", "action",
              "count", "accepted", "revised", "rejected/failed", "latency ms", "cost usd",
              "over bud.");
  for (const auto& [action, e] : r["reflex_economics"].items())
    std::printf("    %-22s %6s %9.3f %8.3f %16.3f %12s %12s %9.3f\n", action.c_str(),
                text(e["count"]).c_str(), e["acceptance_rate"].get<double>(),
                e["revision_rate"].get<double>(), e["rejection_failure_rate"].get<double>(),
                text(e["avg_latency_ms"]).c_str(), text(e["avg_cost_usd"]).c_str(),
                e["budget_exceeded_rate"].get<double>());
  const Json& c = r["reflex_classes"];
  std::printf(
      "  at the default reflex thresholds (high 4x, low 1x the floors): %s accepted "
      "directly, %s high-confidence bad, %s low-confidence accepted, %s without margins\n",
      text(c["accepted_direct_count"]).c_str(), text(c["high_bad_count"]).c_str(),
      text(c["low_accepted_count"]).c_str(), text(c["insufficient_margin_count"]).c_str());
  if (!r["status_reason"].is_null()) std::printf("  note: %s\n", text(r["status_reason"]).c_str());
}

int run_replay(const Options& o) {
  auto score = o.score.to_options();
  if (!score.ok()) return report_error("fitness replay", score.status());
  auto r = train::replay_fitness(o.file, {o.manifest, o.skip_invalid}, *score);
  if (!r.ok()) return report_error("fitness replay", r.status());
  o.json ? print_json(*r) : print_replay(*r);
  return (*r)["status"] == "ok" ? kExitOk : kExitFailure;
}

void add_dataset_options(CLI::App* sub, Options& o) {
  sub->add_option("file", o.file, "The fitness JSONL (fitness export's fitness.jsonl)")->required();
  sub->add_option("--manifest", o.manifest,
                  "The export's manifest (default: manifest.json beside the file, if any)");
  sub->add_flag("--skip-invalid", o.skip_invalid, "Skip lines that are not JSON objects");
  sub->add_flag("--json", o.json, "Print the report as JSON");
}

}  // namespace

void register_fitness(CLI::App& app, CommandRegistry& reg) {
  auto o = std::make_shared<Options>();
  CLI::App* fitness = app.add_subcommand(
      "fitness", "Fitness examples from run traces (score v1) and their reports");
  fitness->require_subcommand(1);
  CLI::App* ex = fitness->add_subcommand(
      "export", "Traces -> DIR/fitness.jsonl (one scored example per route or run) + manifest");
  ex->add_option("--trace", o->traces, "JSONL run traces (trinity run / eval --trace-out)")
      ->required();
  ex->add_option("--out", o->out, "Output directory")->required();
  ex->add_option("--unit", o->unit,
                 "One example per route decision (route, the reference's) or per run")
      ->check(CLI::IsMember({"route", "run"}));
  ex->add_option("--content", o->content,
                 "hash (default): no message text; full: copy input_content into input.messages")
      ->check(CLI::IsMember({"hash", "full"}));
  ex->add_option("--generated-at", o->generated_at,
                 "The manifest's generated_at (default: now, UTC): pin it for identical bytes");
  ex->add_flag("--skip-invalid", o->skip_invalid,
               "Skip (and count in the manifest) lines that are not JSON objects");
  ex->add_flag("--json", o->json, "Print the manifest as JSON");
  add_score_flags(ex, o->score);
  reg.add(ex, [o] { return run_export(*o); });
  CLI::App* inspect = fitness->add_subcommand(
      "inspect", "Counts, label balance, duplicates, digest and readiness of a fitness file");
  add_dataset_options(inspect, *o);
  reg.add(inspect, [o] { return run_inspect(*o); });
  CLI::App* replay = fitness->add_subcommand(
      "replay", "Recompute every score (exit 1 on a mismatch) and the reflex economics");
  add_dataset_options(replay, *o);
  add_score_flags(replay, o->score);
  reg.add(replay, [o] { return run_replay(*o); });
}

}  // namespace trinity::cli
