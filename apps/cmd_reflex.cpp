// trinity reflex calibrate: the reference's reflex threshold sweep over a fitness file
// (src/train/reflex_calibration.h); prints every candidate and the chosen --reflex-* flags.
#include <cstdio>

#include "cli_common.h"
#include "train/fitness_dataset.h"
#include "train/reflex_calibration.h"

namespace trinity::cli {

namespace {

struct Options {
  std::string fitness, margin_mode = "profile_floor";
  std::vector<double> high = {2.0, 4.0, 8.0}, low = {0.5, 1.0};
  bool skip_invalid = false, json = false;
};

void print_report(const Json& r) {
  std::printf("reflex calibrate %s: %s examples, margin mode %s, %s candidates\n",
              r["fitness_path"].get<std::string>().c_str(), r["record_count"].dump().c_str(),
              r["margin_mode"].get<std::string>().c_str(), r["candidate_count"].dump().c_str());
  std::printf("  %6s %6s %8s %16s %9s %13s %8s  classes\n", "high", "low", "score",
              "accepted_direct", "high_bad", "low_accepted", "missing");
  for (const Json& c : r["candidates"]) {
    std::string classes;
    for (const auto& [k, v] : c["class_counts"].items())
      classes += (classes.empty() ? "" : " ") + k + " " + v.dump();
    std::printf("  %6g %6g %8.2f %16s %9s %13s %8s  %s\n", c["high_multiplier"].get<double>(),
                c["low_multiplier"].get<double>(), c["score"].get<double>(),
                c["accepted_direct_count"].dump().c_str(), c["high_bad_count"].dump().c_str(),
                c["low_accepted_count"].dump().c_str(),
                c["insufficient_margin_count"].dump().c_str(), classes.c_str());
  }
  if (r["status"] != "ok") {
    std::printf("  no recommendation: %s\n", r["status_reason"].get<std::string>().c_str());
    return;
  }
  const Json& t = r["recommended_thresholds"];
  std::printf("recommended: high %gx, low %gx the floors (score %.2f)\n  %s\n",
              t["high_multiplier"].get<double>(), t["low_multiplier"].get<double>(),
              r["recommended_score"].get<double>(),
              r["recommended_flags"].get<std::string>().c_str());
}

int run_calibrate(const Options& o) {
  train::CalibrationOptions c;
  auto mode = train::parse_margin_mode(o.margin_mode);
  if (!mode.ok()) return report_error("reflex calibrate", mode.status());
  c.margin_mode = *mode;
  c.high_multipliers = o.high;
  c.low_multipliers = o.low;
  auto file = train::read_fitness_file(o.fitness, o.skip_invalid);
  if (!file.ok()) return report_error("reflex calibrate", file.status());
  auto r = train::calibrate_reflex(train::fitness_records(*file), c, o.fitness);
  if (!r.ok()) return report_error("reflex calibrate", r.status());
  if (o.json) {
    std::printf("%s\n", r->dump(2, ' ', false, Json::error_handler_t::replace).c_str());
  } else {
    print_report(*r);
  }
  return (*r)["status"] == "ok" ? kExitOk : kExitFailure;
}

}  // namespace

void register_reflex(CLI::App& app, CommandRegistry& reg) {
  auto o = std::make_shared<Options>();
  CLI::App* reflex = app.add_subcommand("reflex", "The router confidence reflex: calibration");
  reflex->require_subcommand(1);
  CLI::App* cal = reflex->add_subcommand(
      "calibrate",
      "Sweep reflex thresholds over a fitness file; print the best as --reflex-* flags");
  cal->add_option("--fitness", o->fitness, "The fitness JSONL (trinity fitness export)")
      ->required();
  cal->add_option("--margin-mode", o->margin_mode,
                  "profile_floor (default: thresholds = multiplier x the floors 0.24 / 1.06) or "
                  "absolute (thresholds = the multipliers)")
      ->check(CLI::IsMember({"profile_floor", "absolute"}));
  cal->add_option("--high-multipliers", o->high, "High-confidence multipliers (default 2,4,8)")
      ->delimiter(',');
  cal->add_option("--low-multipliers", o->low, "Low-confidence multipliers (default 0.5,1)")
      ->delimiter(',');
  cal->add_flag("--skip-invalid", o->skip_invalid, "Skip lines that are not JSON objects");
  cal->add_flag("--json", o->json, "Print the calibration report as JSON");
  reg.add(cal, [o] { return run_calibrate(*o); });
}

}  // namespace trinity::cli
