// trinity train: sep-CMA-ES of the router vector on a task file (src/train/trainer.h).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>

#include "cli_train.h"
#include "core/file_util.h"
#include "train/report_html.h"
#include "train/trainer.h"

namespace trinity::cli {
namespace {

struct Options {
  RouterSource src;
  EpisodeFlags episodes;
  std::string train, heldout, out, init, shaping = "diversity=0.15,turns=0.10";
  int64_t iterations = 60, population = 0, replications = 16, heldout_every = 5;
  double sigma0 = 0.03, budget_usd = -1;
  uint64_t seed = 1;
  bool resume = false, json = false, quiet = false;
};

std::string eta_text(double seconds) {
  char buf[32];
  if (seconds >= 60)
    std::snprintf(buf, sizeof(buf), "%dm%02ds", static_cast<int>(seconds) / 60,
                  static_cast<int>(seconds) % 60);
  else
    std::snprintf(buf, sizeof(buf), "%.0fs", seconds);
  return buf;
}

// The held-out table: untrained, each single agent (routed roles), trained, oracle.
Result<train::HeldoutReport> heldout_report(train::Trainer& trainer,
                                            const std::vector<float>& untrained,
                                            const std::vector<float>& trained,
                                            const std::vector<train::Task>& tasks) {
  train::HeldoutReport h;
  std::vector<const train::Task*> ptrs;
  for (const auto& t : tasks) ptrs.push_back(&t);
  TRINITY_ASSIGN_OR_RETURN(auto u, trainer.evaluate(untrained, tasks));
  h.untrained = train::summarize(u, ptrs).accuracy;
  TRINITY_ASSIGN_OR_RETURN(auto t, trainer.evaluate(trained, tasks));
  h.trained = train::summarize(t, ptrs).accuracy;
  std::vector<int> any_correct(tasks.size(), 0);
  for (int k = 0; k < kNumAgents; ++k) {
    TRINITY_ASSIGN_OR_RETURN(auto r, trainer.evaluate(trained, tasks, k));
    h.single_agent[static_cast<size_t>(k)] = train::summarize(r, ptrs).accuracy;
    for (size_t i = 0; i < r.size(); ++i) any_correct[i] |= r[i].correct;
  }
  h.best_single_agent = 0;
  for (int k = 0; k < kNumAgents; ++k)
    if (h.single_agent[static_cast<size_t>(k)] > h.single_agent[static_cast<size_t>(h.best_agent)])
      h.best_agent = k;
  h.best_single_agent = h.single_agent[static_cast<size_t>(h.best_agent)];
  int64_t oracle = 0;
  for (int c : any_correct) oracle += c;
  h.oracle = static_cast<double>(oracle) / static_cast<double>(tasks.size());
  return h;
}

Result<train::TrainOptions> train_options(const Options& o, const EpisodeSetup& setup) {
  if (o.iterations < 1 || o.replications < 1 || !(o.sigma0 > 0) || o.population < 0)
    return invalid_argument(
        "--iterations, --replications and --sigma0 must be positive, --population >= 0");
  bool live = false;
  for (const auto& s : setup.pool->config.slots) live = live || s.is_live();
  if (live && o.budget_usd < 0)
    return invalid_argument("a live pool needs --budget-usd X (the spend cap)");
  train::TrainOptions to;
  TRINITY_ASSIGN_OR_RETURN(to.shaping, train::parse_shaping(o.shaping));
  to.out_dir = o.out;
  to.init_vector = o.init;
  to.iterations = o.iterations;
  to.population = o.population;
  to.replications = o.replications;
  to.sigma0 = o.sigma0;
  to.seed = o.seed;
  to.resume = o.resume;
  to.heldout_every = o.heldout_every;
  if (o.budget_usd >= 0) to.budget_usd = o.budget_usd;
  to.episodes = setup.options;
  to.episodes.seed = o.seed;
  return to;
}

// One status line per iteration: rewritten in place on a terminal, else one line each.
std::function<void(const train::IterationLog&, int64_t)> progress_printer(bool tty) {
  auto t0 =
      std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
  auto first = std::make_shared<int64_t>(-1);
  return [tty, t0, first](const train::IterationLog& l, int64_t total) {
    if (*first < 0) *first = l.iteration - 1;
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - *t0).count();
    const double per = el / static_cast<double>(l.iteration - *first);
    const std::string heldout =
        l.heldout_accuracy ? "  heldout " + std::to_string(*l.heldout_accuracy).substr(0, 5) : "";
    std::fprintf(stderr, "%siter %lld/%lld  best %.3f  mean %.3f  sigma %.4f%s  ETA %s%s",
                 tty ? "\r\033[K" : "", static_cast<long long>(l.iteration),
                 static_cast<long long>(total), l.fitness_best, l.fitness_mean, l.sigma,
                 heldout.c_str(), eta_text(per * static_cast<double>(total - l.iteration)).c_str(),
                 tty ? "" : "\n");
  };
}

OrderedJson train_report(const Options& o, const train::TrainOptions& to,
                         const train::TrainResult& r, int64_t vector_length, double seconds,
                         const EpisodeSetup& setup) {
  OrderedJson report;
  report["out"] = o.out;
  report["iterations"] = r.iterations_done;
  report["stopped_by_budget"] = r.stopped_by_budget;
  report["vector"] = (std::filesystem::path(o.out) / "vector.npy").string();
  report["vector_length"] = vector_length;
  report["population"] = r.population;
  report["replications"] = o.replications;
  report["seed"] = o.seed;
  report["objective"] = train::objective_name(to.episodes.objective);
  report["cost_usd"] = coord::micro_to_usd(r.cost_micro_usd);
  report["train_seconds"] = seconds;
  double episodes = 0, adapt = 0, route = 0, loop = 0, heldout = 0;
  for (const auto& l : r.log)
    episodes += static_cast<double>(l.episodes), adapt += l.adapt_ms, route += l.route_ms,
        loop += l.episode_ms - l.route_ms, heldout += l.heldout_ms;
  // Training episodes per second of training (the held-out evaluations are timed apart).
  const double train_s = seconds - heldout / 1e3;
  report["episodes"] = episodes;
  report["episodes_per_s"] = train_s > 0 ? episodes / train_s : 0.0;
  report["time_ms"] = {
      {"adapt", adapt}, {"route", route}, {"providers_and_loop", loop}, {"heldout", heldout}};
  if (setup.cache) report["response_cache"] = setup.cache->stats().to_json();
  return report;
}

// report.json and report.html in the output directory.
Status write_reports(const std::string& out, const OrderedJson& report,
                     const std::optional<train::HeldoutReport>& h) {
  TRINITY_RETURN_IF_ERROR(write_file_atomic((std::filesystem::path(out) / "report.json").string(),
                                            report.dump(2) + "\n"));
  TRINITY_ASSIGN_OR_RETURN(auto log, train::read_train_log(train::log_path(out)));
  return write_file_atomic((std::filesystem::path(out) / "report.html").string(),
                           train::render_train_report_html(report, log, h));
}

void print_summary(const Options& o, const OrderedJson& report,
                   const std::optional<train::HeldoutReport>& h) {
  std::printf("trained %lld iterations in %.1f s (%.0f episodes/s): %s\n",
              static_cast<long long>(report["iterations"].get<int64_t>()),
              report["train_seconds"].get<double>(), report["episodes_per_s"].get<double>(),
              report["vector"].get<std::string>().c_str());
  if (h)
    std::printf(
        "held-out accuracy: untrained %.3f, trained %.3f, best single agent %.3f "
        "(slot %d), oracle %.3f\n",
        h->untrained, h->trained, h->best_single_agent, h->best_agent, h->oracle);
  if (report["stopped_by_budget"].get<bool>())
    std::printf("stopped: the spend reached --budget-usd %.4f\n", o.budget_usd);
}

int run(Options& o) {
  const std::string cmd = "train";
  auto train_tasks = train::load_tasks(o.train);
  if (!train_tasks.ok()) return report_error(cmd, train_tasks.status());
  std::optional<std::vector<train::Task>> heldout;
  if (!o.heldout.empty()) {
    auto h = train::load_tasks(o.heldout);
    if (!h.ok()) return report_error(cmd, h.status());
    heldout = std::move(*h);
  }
  auto setup = make_episode_setup(o.episodes);
  if (!setup.ok()) return report_error(cmd, setup.status());
  auto to = train_options(o, *setup);
  if (!to.ok()) return report_error(cmd, to.status());
  auto router = train::SwitchableRouter::open(o.src);
  if (!router.ok()) return report_error(cmd, router.status());
  train::Trainer trainer(*router, setup->pool, *train_tasks, *to);
  std::function<void(const train::IterationLog&, int64_t)> progress;
  const bool tty = !o.quiet && isatty(STDERR_FILENO);
  if (!o.quiet) progress = progress_printer(tty);
  const auto t0 = std::chrono::steady_clock::now();
  auto result = trainer.run(progress, heldout ? &*heldout : nullptr);
  if (tty) std::fprintf(stderr, "\n");
  if (!result.ok()) return report_error(cmd, result.status());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  OrderedJson report = train_report(o, *to, *result, (*router)->vector_length(), seconds, *setup);
  std::optional<train::HeldoutReport> h;
  if (heldout) {
    std::vector<float> untrained(static_cast<size_t>((*router)->vector_length()), 0.0f);
    if (!o.init.empty()) {
      auto v = load_full_vector(o.init, (*router)->vector_length());
      if (!v.ok()) return report_error(cmd, v.status());
      untrained = *v;
    }
    auto hr = heldout_report(trainer, untrained, result->vector, *heldout);
    if (!hr.ok()) return report_error(cmd, hr.status());
    h = *hr;
    report["heldout"] = h->to_json();
  }
  const Status st = write_reports(o.out, report, h);
  if (!st.ok()) return report_error(cmd, st);
  if (o.json)
    std::printf("%s\n", report.dump(2).c_str());
  else
    print_summary(o, report, h);
  return kExitOk;
}

}  // namespace

void register_train(CLI::App& app, CommandRegistry& reg) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand(
      "train",
      "Train a router vector with sep-CMA-ES on a task file: every candidate runs "
      "--replications tasks through the orchestrator loop (the same tasks for every candidate "
      "of an iteration); fitness = mean reward + shaping. Writes DIR/vector.npy and "
      ".safetensors (the final mean), DIR/best.npy, DIR/log.jsonl, DIR/es_state.safetensors "
      "(resume), DIR/report.json and DIR/report.html. Flags that matter for your own pool: "
      "--iterations, --replications (noise per candidate), --sigma0 (step size) and "
      "--objective; a live pool needs --allow-live and --budget-usd.");
  sub->add_option("--base", o->src.base, "Base Qwen3 checkpoint directory")->required();
  sub->add_option("--profile", o->src.profile,
                  "Runtime profile: cpu (default), cpu-bf16, reference");
  sub->add_option("--tokenizer", o->src.tokenizer, "Tokenizer directory (default: --base)");
  sub->add_option("--threads", o->src.threads,
                  "Compute threads (default: all cores); the result does not depend on it");
  sub->add_option("--layer", o->src.layer, "SVF layer (default: num_hidden_layers - 2)");
  add_cache_options(sub, o->src.cache);
  sub->add_option("--train", o->train, "Training tasks (JSONL)")->required();
  sub->add_option("--heldout", o->heldout, "Held-out tasks: accuracy in the log and the report");
  sub->add_option("--out", o->out, "Output directory")->required();
  sub->add_option("--init", o->init, "Initial mean vector (.npy/.safetensors; default zeros)");
  sub->add_option("--iterations", o->iterations, "Iterations (default 60)");
  sub->add_option("--population", o->population, "Candidates per iteration (default 4 + 3 ln n)");
  sub->add_option("--replications", o->replications, "Tasks per candidate (default 16)");
  sub->add_option("--sigma0", o->sigma0, "Initial step size (default 0.03)");
  sub->add_option("--shaping", o->shaping,
                  "Fitness shaping weights (default diversity=0.15,turns=0.10)");
  sub->add_option("--seed", o->seed, "Seed: tasks per iteration and candidate sampling");
  sub->add_option("--heldout-every", o->heldout_every,
                  "Held-out accuracy every k iterations (default 5; 0: only in the report)");
  sub->add_flag("--resume", o->resume, "Continue the state in --out");
  sub->add_option("--budget-usd", o->budget_usd, "Stop when the pool's spend reaches X USD");
  sub->add_flag("--json", o->json, "Print the report as JSON");
  sub->add_flag("--quiet", o->quiet, "No progress output");
  add_episode_options(sub, o->episodes);
  reg.add(sub, [o] { return run(*o); });
}

}  // namespace trinity::cli
