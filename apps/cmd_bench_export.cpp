// trinity bench export: the export of a base model with a router vector, timed per tensor and
// stage (gram, eigh, reconstruct, cast, write with sha256, sync), medians over --repeat runs,
// with the process's peak RSS. Each run is a full `trinity export --force` into --out.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "adapt/export.h"
#include "cli_common.h"
#include "model/engine_cpu_bench.h"
#include "ops/cpu/gram.h"

namespace trinity::cli {

namespace {

struct Options {
  std::string base, vector, out;
  int64_t layer = -1;
  int repeat = 3;
  bool json = false;
};

const char* const kStages[] = {"decompose_ms",   "gram_ms", "eigh_ms",  "direct_ms",
                               "reconstruct_ms", "cast_ms", "write_ms", "sync_ms"};

// Median per tensor and stage over the runs' report JSONs.
Json tensor_medians(const std::vector<Json>& runs) {
  Json list = Json::array();
  for (size_t i = 0; i < runs[0]["tensors"].size(); ++i) {
    const Json& t0 = runs[0]["tensors"][i];
    Json t = {{"index", t0["index"]}, {"path", t0["path"]}, {"shape", t0["shape"]}};
    double sum = 0;
    for (const char* s : kStages) {
      std::vector<double> v;
      for (const Json& r : runs) v.push_back(r["tensors"][i].value(s, 0.0));
      t[s] = median(v);
      if (std::string(s) != "decompose_ms") sum += t[s].get<double>();
    }
    t["stages_sum_ms"] = sum;
    list.push_back(t);
  }
  return list;
}

int run(const Options& o) {
  const std::string cmd = "bench export";
  if (o.repeat < 1) return report_error(cmd, invalid_argument("--repeat must be >= 1"));
  const bool own_out = o.out.empty();
  const std::string out = own_out ? (std::filesystem::temp_directory_path() /
                                     ("trinity_bench_export_" + std::to_string(::getpid())))
                                        .string()
                                  : o.out;
  ExportOptions eo;
  eo.base = o.base;
  eo.vector = o.vector;
  eo.out = out;
  eo.layer = o.layer;
  eo.force = true;
  std::vector<Json> runs;
  std::vector<double> totals, loads;
  for (int r = 0; r < o.repeat; ++r) {
    auto rep = run_export(eo);
    if (!rep.ok()) return report_error(cmd, rep.status());
    runs.push_back(export_report_to_json(*rep));
    totals.push_back(rep->total_ms);
    loads.push_back(rep->load_ms);
  }
  if (own_out) {
    std::error_code ec;
    std::filesystem::remove_all(out, ec);
  }
  Json j;
  j["base"] = o.base;
  j["vector"] = o.vector;
  j["repeat"] = o.repeat;
  j["threads"] = runs[0]["threads"];
  j["gram_impl"] = cpu::gram_f64_impl();
  j["total_ms"] = median(totals);
  j["total_ms_runs"] = totals;
  j["load_ms"] = median(loads);
  j["peak_rss_mb"] = peak_rss_mb();
  j["tensors"] = tensor_medians(runs);
  if (o.json) {
    std::printf("%s\n", j.dump(2).c_str());
    return kExitOk;
  }
  std::printf("bench export: %s, %d runs, %d threads, median %.0f ms, peak RSS %.0f MiB\n",
              o.base.c_str(), o.repeat, j["threads"].get<int>(), median(totals),
              j["peak_rss_mb"].get<double>());
  for (const Json& t : j["tensors"])
    std::printf(
        "  %lld %-48s gram %7.1f eigh %7.1f direct %6.1f reconstruct %7.1f cast %6.1f write "
        "%6.1f sync %6.1f ms\n",
        static_cast<long long>(t["index"].get<int64_t>()), t["path"].get<std::string>().c_str(),
        t["gram_ms"].get<double>(), t["eigh_ms"].get<double>(), t["direct_ms"].get<double>(),
        t["reconstruct_ms"].get<double>(), t["cast_ms"].get<double>(), t["write_ms"].get<double>(),
        t["sync_ms"].get<double>());
  return kExitOk;
}

}  // namespace

void register_bench_export(CLI::App* bench) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = bench->add_subcommand(
      "export", "Export timing per tensor and stage (median over --repeat), peak RSS");
  sub->add_option("--base", o->base, "Base model directory")->required();
  sub->add_option("--vector", o->vector, "Router vector (.npy or .safetensors)")->required();
  sub->add_option("--out", o->out, "Bundle directory, overwritten (default: a temp dir, removed)");
  sub->add_option("--layer", o->layer, "Layer to adapt (default: num_hidden_layers - 2)");
  sub->add_option("--repeat", o->repeat, "Timed exports (medians reported)");
  sub->add_flag("--json", o->json, "Print the results as JSON");
  // `bench` has no registry entry for this command: the exit code travels as CLI11's
  // Success / RuntimeError, which main's parse handler turns into the process's exit code.
  sub->callback([o] {
    const int rc = run(*o);
    if (rc == 0) throw CLI::Success();
    throw CLI::RuntimeError(rc);
  });
}

}  // namespace trinity::cli
