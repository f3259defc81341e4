// trinity bench route: routing latency of a runtime profile on a model (JSON with --json).
#include <cstdio>
#include <sstream>

#include "cli_common.h"
#include "model/engine_cpu_bench.h"
#include "model/profiles.h"
#include "ops/cpu/matmul.h"
#include "ops/cpu/parallel.h"

namespace trinity::cli {

namespace {

struct Options {
  RouterSource src;
  std::string tokens = "32,128,512,2048";
  int repeat = 5;
  int64_t batch = 37, batch_tokens = 28, incremental_prefix = 1024, incremental_extra = 64;
  bool json = false;
};

Result<std::vector<int64_t>> parse_tokens(const std::string& s) {
  std::vector<int64_t> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      long long v = std::stoll(item, &used);
      if (used != item.size() || v <= 0) throw std::invalid_argument(item);
      out.push_back(v);
    } catch (const std::exception&) {
      return invalid_argument("--tokens: '" + item + "' is not a positive integer");
    }
  }
  if (out.empty()) return invalid_argument("--tokens: empty list");
  return out;
}

int run(const Options& o) {
  const std::string cmd = "bench route";
  auto tokens = parse_tokens(o.tokens);
  if (!tokens.ok()) return report_error(cmd, tokens.status());
  auto m = load_adapted_model(o.src, /*allow_unadapted=*/true);
  if (!m.ok()) return report_error(cmd, m.status());
  EngineOptions eo;
  eo.threads = o.src.threads;
  eo.prefix_cache_mb = o.src.prefix_cache_mb;
  auto engine = make_engine(o.src.profile, m->weights, eo);
  if (!engine.ok()) return report_error(cmd, engine.status());
  RouteBenchOptions bo;
  bo.tokens = *tokens;
  bo.repeat = o.repeat;
  bo.batch = o.batch;
  bo.batch_tokens = o.batch_tokens;
  bo.incremental_prefix = o.incremental_prefix;
  bo.incremental_extra = o.incremental_extra;
  auto r = run_route_bench(**engine, bo);
  if (!r.ok()) return report_error(cmd, r.status());
  (*r)["adaptation"] = m->source;
  (*r)["threads"] = o.src.threads > 0 ? o.src.threads : cpu::hardware_threads();
  if ((*r)["backend_label"].get<std::string>().rfind("cpu:", 0) == 0) {
    // The roofline: what oneDNN's GEMM reaches on this machine, in this run.
    OrderedJson machine = OrderedJson::object();
    for (DType dt : {DType::kBF16, DType::kF32}) {
      auto g = cpu::measure_gemm_gflops(dt, (*r)["threads"].get<int>());
      if (!g.ok()) return report_error(cmd, g.status());
      machine[std::string(dt == DType::kBF16 ? "bf16" : "f32") + "_gemm_gflops_per_s"] = *g;
    }
    machine["gemm_impl"] = cpu::probe_bf16_matmul_impl();
    (*r)["machine"] = machine;
  }
  if (o.json) {
    std::printf("%s\n", r->dump(2).c_str());
    return kExitOk;
  }
  std::printf("bench route: profile %s (%s), %s threads, %s\n",
              (*r)["profile"].get<std::string>().c_str(),
              (*r)["backend_label"].get<std::string>().c_str(), (*r)["threads"].dump().c_str(),
              m->source.c_str());
  if (r->contains("machine"))
    std::printf("  machine: oneDNN GEMM %.1f GFLOP/s bf16, %.1f GFLOP/s f32 (%s)\n",
                (*r)["machine"].value("bf16_gemm_gflops_per_s", 0.0),
                (*r)["machine"].value("f32_gemm_gflops_per_s", 0.0),
                (*r)["machine"].value("gemm_impl", std::string("?")).c_str());
  for (const auto& c : (*r)["cases"]) {
    std::printf(
        "  %-12s %6lld tok  median %9.2f ms  %9.1f tok/s  %6.1f GFLOP/s (GEMM %6.1f)  "
        "peak RSS %.0f MiB\n",
        c.value("name", std::string("?")).c_str(), static_cast<long long>(c.value("tokens", 0)),
        c.value("median_ms", 0.0), c.value("tokens_per_s", 0.0), c.value("gflops_per_s", 0.0),
        c.value("gemm_gflops_per_s", 0.0), c.value("peak_rss_mb", 0.0));
  }
  return kExitOk;
}

}  // namespace

void register_bench(CLI::App& app, CommandRegistry& reg) {
  auto o = std::make_shared<Options>();
  o->src.prefix_cache_mb = 1024;
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks (JSON output with --json)");
  register_bench_export(bench);
  bench->require_subcommand(1);
  register_bench_load(bench, reg);
  register_bench_switch(bench, reg);
  CLI::App* sub = bench->add_subcommand(
      "route", "Routing latency per transcript length, incremental and batched cases");
  add_router_source_options(sub, o->src);
  sub->add_option("--tokens", o->tokens, "Comma-separated prefill lengths");
  sub->add_option("--repeat", o->repeat, "Timed repeats per case (median reported)");
  sub->add_option("--batch", o->batch, "Sequences in the batched case (0 disables it)");
  sub->add_option("--batch-tokens", o->batch_tokens, "Tokens per sequence in the batched case");
  sub->add_option("--incremental-prefix", o->incremental_prefix,
                  "Prefix length of the incremental case");
  sub->add_option("--incremental-extra", o->incremental_extra,
                  "Tokens added to the prefix (0 disables the case)");
  sub->add_flag("--json", o->json, "Print the results as JSON");
  reg.add(sub, [o] { return run(*o); });
}

}  // namespace trinity::cli
