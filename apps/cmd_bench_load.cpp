// trinity bench load: what a start costs. Whole `trinity route` processes with an empty cache
// (cold), a filled one (warm) and none (--no-cache), each with its load stages; then, in this
// process, the first route of each new length against the same route once warm.
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>

#include "cli_common.h"
#include "model/profiles.h"
#include "router/model_router.h"

extern char** environ;

namespace trinity::cli {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
  RouterSource src;
  std::string prompt = "What is 2+2?";
  std::string lengths = "16,48,96";
  int repeat = 5;
  bool json = false;
};

struct ChildRun {
  double wall_ms = 0, peak_rss_mb = 0;
  OrderedJson route;  // the child's `route --json` output
};

// Runs argv (argv[0] is this binary), capturing stdout; an error names the command's failure.
Result<ChildRun> run_child(const std::vector<std::string>& args) {
  int fds[2];
  if (::pipe(fds) != 0) return io_error("pipe failed");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const auto t0 = Clock::now();
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, "/proc/self/exe", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return io_error("cannot start " + args[0] + ": " + std::strerror(rc));
  }
  std::string out;
  char buf[65536];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof(buf))) > 0;)
    out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  struct rusage ru {};
  ::wait4(pid, &status, 0, &ru);
  ChildRun r;
  r.wall_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  r.peak_rss_mb = static_cast<double>(ru.ru_maxrss) / 1024.0;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return internal_error("`trinity route` child failed (status " + std::to_string(status) + ")");
  auto j = parse_ordered_json(out, "the child's route --json output");
  if (!j.ok()) return j.status();
  r.route = std::move(*j);
  return r;
}

std::vector<std::string> route_args(const Options& o, const std::string& cache_dir, bool no_cache) {
  std::vector<std::string> a = {"trinity",  "route",  "--base", o.src.base,
                                "--prompt", o.prompt, "--json"};
  if (!o.src.artifact.empty()) a.insert(a.end(), {"--artifact", o.src.artifact});
  if (!o.src.vector.empty()) a.insert(a.end(), {"--vector", o.src.vector});
  if (!o.src.profile.empty()) a.insert(a.end(), {"--profile", o.src.profile});
  if (!o.src.tokenizer.empty()) a.insert(a.end(), {"--tokenizer", o.src.tokenizer});
  if (o.src.threads > 0) a.insert(a.end(), {"--threads", std::to_string(o.src.threads)});
  if (no_cache)
    a.push_back("--no-cache");
  else
    a.insert(a.end(), {"--cache-dir", cache_dir});
  return a;
}

// `runs` whole-process routes: medians of wall time, peak RSS, route time and each load stage.
Result<OrderedJson> process_runs(const Options& o, const std::string& cache_dir, bool no_cache,
                                 bool fresh_each, int runs) {
  std::vector<double> wall, rss, route;
  std::map<std::string, std::vector<double>> stages;
  std::vector<std::string> order;
  for (int i = 0; i < runs; ++i) {
    std::error_code ec;
    if (fresh_each) fs::remove_all(cache_dir, ec);
    TRINITY_ASSIGN_OR_RETURN(ChildRun r, run_child(route_args(o, cache_dir, no_cache)));
    wall.push_back(r.wall_ms);
    rss.push_back(r.peak_rss_mb);
    route.push_back(r.route.value("route_ms", 0.0));
    for (const auto& [k, v] : r.route["load_ms"].items()) {
      if (!stages.count(k)) order.push_back(k);
      stages[k].push_back(v.get<double>());
    }
  }
  OrderedJson load = OrderedJson::object();
  for (const std::string& k : order) load[k] = median(stages[k]);
  return OrderedJson{{"runs", runs},
                     {"process_ms", median(wall)},
                     {"load_ms", load},
                     {"route_ms", median(route)},
                     {"peak_rss_mb", median(rss)}};
}

// A prompt of about `tokens` tokens.
std::string prompt_of(int64_t tokens) {
  std::string s = "Route";
  for (int64_t i = 1; i < tokens - 2; ++i) s += " word";
  return s;
}

// First route of each new length in a freshly opened router, then the same route after the
// prefix cache is cleared (median of `repeat`).
Result<OrderedJson> first_vs_steady(const Options& o, const std::string& cache_dir) {
  RouterSource src = o.src;
  src.cache.dir = cache_dir;
  TRINITY_ASSIGN_OR_RETURN(auto router, open_router(src));
  auto* mr = dynamic_cast<ModelRouter*>(router.get());
  if (!mr) return invalid_argument("bench load needs a model profile (not mock_tiny)");
  std::istringstream ss(o.lengths);
  OrderedJson cases = OrderedJson::array();
  for (std::string item; std::getline(ss, item, ',');) {
    const int64_t len = std::stoll(item);
    const std::vector<Message> msgs = {{"user", prompt_of(len)}};
    mr->engine().clear_prefix_cache();
    auto t0 = Clock::now();
    TRINITY_ASSIGN_OR_RETURN(RouteDecision d, router->route(msgs));
    const double first = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    std::vector<double> steady;
    for (int r = 0; r < std::max(1, o.repeat); ++r) {
      mr->engine().clear_prefix_cache();
      t0 = Clock::now();
      TRINITY_RETURN_IF_ERROR(router->route(msgs).status());
      steady.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    cases.push_back({{"tokens", d.token_count},
                     {"first_ms", first},
                     {"steady_ms", median(steady)},
                     {"first_over_steady", first / median(steady)}});
  }
  return cases;
}

int run(const Options& o) {
  const std::string cmd = "bench load";
  if (o.src.base.empty()) return report_error(cmd, invalid_argument("--base is required"));
  const fs::path parent =
      o.src.cache.dir.empty() ? fs::temp_directory_path() : fs::path(o.src.cache.dir);
  const std::string dir = (parent / ("trinity-bench-load-" + std::to_string(::getpid()))).string();
  OrderedJson j = {{"base", o.src.base},
                   {"artifact", o.src.artifact},
                   {"profile", o.src.profile.empty() ? default_profile_name() : o.src.profile},
                   {"prompt", o.prompt},
                   {"cache_dir", dir}};
  auto cold = process_runs(o, dir, false, true, 1);
  auto warm = cold.ok() ? process_runs(o, dir, false, false, o.repeat) : cold;
  auto none = warm.ok() ? process_runs(o, dir, true, false, o.repeat) : warm;
  auto fvs = none.ok() ? first_vs_steady(o, dir) : none.status();
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (!fvs.ok()) return report_error(cmd, fvs.status());
  j["cold_cache"] = *cold;
  j["warm_cache"] = *warm;
  j["no_cache"] = *none;
  j["warm_over_no_cache"] =
      (*none)["process_ms"].get<double>() / (*warm)["process_ms"].get<double>();
  j["first_route"] = *fvs;
  if (o.json) {
    std::printf("%s\n", j.dump(2).c_str());
    return kExitOk;
  }
  for (const char* mode : {"cold_cache", "warm_cache", "no_cache"})
    std::printf("%-10s process %8.1f ms  load %8.1f ms  route %7.1f ms  RSS %6.0f MB\n", mode,
                j[mode]["process_ms"].get<double>(), j[mode]["load_ms"].value("total", 0.0),
                j[mode]["route_ms"].get<double>(), j[mode]["peak_rss_mb"].get<double>());
  for (const auto& c : j["first_route"])
    std::printf("first route %4lld tokens: %8.1f ms, steady %8.1f ms (%.2fx)\n",
                static_cast<long long>(c["tokens"].get<int64_t>()), c["first_ms"].get<double>(),
                c["steady_ms"].get<double>(), c["first_over_steady"].get<double>());
  return kExitOk;
}

}  // namespace

void register_bench_load(CLI::App* bench, CommandRegistry& reg) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = bench->add_subcommand(
      "load",
      "Start-up cost: whole `route` processes with a cold, warm and no cache (load "
      "stages each), and the first route of new lengths against steady state");
  add_router_source_options(sub, o->src);
  sub->add_option("--prompt", o->prompt, "The prompt the route processes use");
  sub->add_option("--lengths", o->lengths, "Comma-separated token lengths for first vs steady");
  sub->add_option("--repeat", o->repeat, "Warm and no-cache processes, and steady repeats");
  sub->add_flag("--json", o->json, "Print the results as JSON");
  reg.add(sub, [o] { return run(*o); });
}

}  // namespace trinity::cli
