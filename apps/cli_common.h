// Shared pieces of the `trinity` CLI: exit codes and error printing.
#pragma once

#include <CLI/CLI.hpp>
#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "coord/orchestrator.h"
#include "coord/reflex.h"
#include "core/status.h"
#include "router/open_router.h"

namespace trinity::cli {

// Exit codes (documented in the README).
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,   // the run completed but the verdict is negative (eval FAIL, ...)
  kExitBadInput = 2,  // usage errors, malformed files, verification failures
  kExitBudget = 3,    // a coordinator budget was exceeded
  kExitProvider = 4,  // an upstream provider failed
  kExitInternal = 70,
};

// Maps a Status to an exit code and prints "trinity <cmd>: error: <message>" to stderr.
int report_error(const std::string& command, const Status& status);

// Each subcommand registers itself: adds a CLI11 subcommand and sets the action to run
// after parsing. The action returns the process exit code.
using CommandAction = std::function<int()>;
struct CommandRegistry {
  std::vector<std::pair<CLI::App*, CommandAction>> commands;
  void add(CLI::App* sub, CommandAction action) { commands.emplace_back(sub, std::move(action)); }
};

// One registration function per apps/cmd_*.cpp file.
void register_make_test_model(CLI::App& app, CommandRegistry& reg);
void register_forward(CLI::App& app, CommandRegistry& reg);
void register_tokenize(CLI::App& app, CommandRegistry& reg);
void register_route(CLI::App& app, CommandRegistry& reg);
void register_profiles(CLI::App& app, CommandRegistry& reg);
void register_bench(CLI::App& app, CommandRegistry& reg);
void register_bench_export(CLI::App* bench);  // `bench export` (cmd_bench_export.cpp)
void register_export(CLI::App& app, CommandRegistry& reg);
void register_artifact(CLI::App& app, CommandRegistry& reg);
void register_eval(CLI::App& app, CommandRegistry& reg);
void register_run(CLI::App& app, CommandRegistry& reg);
void register_serve(CLI::App& app, CommandRegistry& reg);
void register_env(CLI::App& app, CommandRegistry& reg);
void register_import(CLI::App& app, CommandRegistry& reg);
void register_cache(CLI::App& app, CommandRegistry& reg);
void register_runs(CLI::App& app, CommandRegistry& reg);
void register_candidate(CLI::App& app, CommandRegistry& reg);  // cmd_candidate.cpp
void register_tasks(CLI::App& app, CommandRegistry& reg);      // cmd_tasks.cpp
void register_train(CLI::App& app, CommandRegistry& reg);      // cmd_train.cpp
void register_fitness(CLI::App& app, CommandRegistry& reg);
void register_reflex(CLI::App& app, CommandRegistry& reg);
void register_bench_load(CLI::App* bench, CommandRegistry& reg);
void register_bench_switch(CLI::App* bench, CommandRegistry& reg);  // cmd_bench_switch.cpp

// The conversation to route: the messages file when given, else one user message `text`.
Result<std::vector<Message>> load_messages(const std::string& messages_file,
                                           const std::string& text);

// --no-reflex, --reflex-margin-mode, --reflex-{agent,role}-floor,
// --reflex-{high,low}-{agent,role}-margin, --reflex-missing-margin (run, serve, eval).
struct ReflexFlags {
  bool disabled = false;
  std::string mode = "profile_floor";
  std::optional<double> agent_floor, role_floor, high_agent, high_role, low_agent, low_role;
  std::string missing_margin = "medium";
  Result<coord::ReflexConfig> to_config() const;
};
void add_reflex_options(CLI::App* sub, ReflexFlags& flags);

// artifact_ref / artifact_revision / artifact_hash_ref of the routes (trace route_decision):
// mock_tiny -> artifact:mock-tiny-route-runtime; a bundle -> the sha256 of its manifest.json and
// the revision of an artifact_pin.json in or beside it (the pinned published bundle is
// artifact:qwen3-0.6b-sakana).
coord::ArtifactIdentity artifact_identity(const RouterSource& src, const std::string& profile);

// --cache-dir DIR, --no-cache.
void add_cache_options(CLI::App* sub, CacheConfig& cache);

// The median of benchmark samples (0 for none): what the bench commands report.
inline double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Adds --base/--artifact/--vector/--profile/--tokenizer/--threads/--prefix-cache-mb/--layer and
// the cache options.
void add_router_source_options(CLI::App* sub, RouterSource& src);

}  // namespace trinity::cli
