// trinity export: adapt the nine SVF targets of a base model with a router vector and write the
// reference (Elixir) bundle layout. See src/adapt/export.h.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>

#include "adapt/export.h"
#include "cli_common.h"

namespace trinity::cli {

namespace {

std::atomic<bool> g_cancel{false};

void on_sigint(int) {
  g_cancel.store(true);
}

struct Options {
  std::string base, vector, out, compute = "f32";
  int64_t layer = -1, only_index = 0;
  bool force = false, resume = false, dry_run = false, json = false;
};

void draw_progress(const ExportEvent& ev) {
  const int width = 30;
  const int filled = static_cast<int>(ev.fraction * width + 0.5);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(width - filled), '.');
  char eta[32] = "--";
  if (ev.eta_s >= 0) std::snprintf(eta, sizeof(eta), "%.1fs", ev.eta_s);
  std::fprintf(stderr, "\r\033[K[%s] %3.0f%%  %lld/%lld %-10s %s  elapsed %.1fs ETA %s",
               bar.c_str(), ev.fraction * 100.0, static_cast<long long>(ev.index),
               static_cast<long long>(ev.count), ev.phase.c_str(), ev.path.c_str(), ev.elapsed_s,
               eta);
  std::fflush(stderr);
}

int run(const Options& o) {
  const std::string cmd = "export";
  auto compute = parse_svd_compute_type(o.compute);
  if (!compute.ok()) return report_error(cmd, compute.status());
  ExportOptions eo;
  eo.base = o.base;
  eo.vector = o.vector;
  eo.out = o.out;
  eo.layer = o.layer;
  eo.compute = *compute;
  eo.force = o.force;
  eo.resume = o.resume;
  eo.dry_run = o.dry_run;
  eo.only_index = o.only_index;
  eo.cancel = &g_cancel;
  const bool tty = isatty(STDERR_FILENO) != 0;
  if (tty && !o.dry_run) eo.on_event = draw_progress;
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sa.sa_flags = SA_RESETHAND;  // a second Ctrl-C kills at once; the manifest is never `complete`
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  auto rep = run_export(eo);
  if (tty && !o.dry_run) std::fprintf(stderr, "\r\033[K");
  if (!rep.ok()) {
    const int rc = report_error(cmd, rep.status());
    return rep.status().code() == ErrorCode::kCancelled ? 130 : rc;
  }
  if (o.json) {
    std::printf("%s\n", export_report_to_json(*rep).dump(2).c_str());
    return kExitOk;
  }
  if (rep->dry_run) {
    std::printf("plan (nothing written): %s, layer %lld, router vector of %lld floats\n",
                o.out.c_str(), static_cast<long long>(rep->layer),
                static_cast<long long>(rep->vector_length));
    for (const auto& t : rep->tensors)
      std::printf("  %s  %s %s\n", t.checkpoint.c_str(), shape_to_string(t.shape).c_str(),
                  t.type.c_str());
    return kExitOk;
  }
  for (const auto& t : rep->tensors)
    std::printf(
        "%04lld %-52s %-14s %-5s %-8s decompose %8.1f ms  reconstruct %8.1f ms  write "
        "%7.1f ms\n",
        static_cast<long long>(t.index), t.path.c_str(), shape_to_string(t.shape).c_str(),
        t.type.c_str(), t.action.c_str(), t.decompose_ms, t.reconstruct_ms, t.write_ms);
  std::printf("%s: status %s, total %.2f s (load %.2f s), manifest sha256 %s\n", rep->out.c_str(),
              rep->status.c_str(), rep->total_ms / 1000.0, rep->load_ms / 1000.0,
              rep->manifest_sha256.c_str());
  return rep->status == "complete" ? kExitOk : kExitFailure;
}

}  // namespace

void register_export(CLI::App& app, CommandRegistry& reg) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand(
      "export", "Adapt a base model with a router vector (SVF) and write the bundle");
  sub->add_option("--base", o->base, "Base model directory (HF Qwen3)")->required();
  sub->add_option("--vector", o->vector, "Router vector (.npy or .safetensors)")->required();
  sub->add_option("--out", o->out, "Bundle output directory")->required();
  sub->add_option("--layer", o->layer, "Adapted layer (default: num_hidden_layers - 2)");
  sub->add_option("--svd-compute-type", o->compute, "f32 (default) | source")
      ->check(CLI::IsMember({"f32", "source"}));
  sub->add_flag("--force", o->force, "Overwrite an existing bundle in --out");
  sub->add_flag("--resume", o->resume, "Keep verified checkpoints in --out and do the rest");
  sub->add_option("--only-index", o->only_index, "Compute only tensor I (1-9)");
  sub->add_flag("--dry-run", o->dry_run, "Print the plan; write nothing");
  sub->add_flag("--json", o->json, "Print a JSON summary");
  reg.add(sub, [o] { return run(*o); });
}

}  // namespace trinity::cli
