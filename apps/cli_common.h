// Shared pieces of the `trinity` CLI: exit codes and error printing.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

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
void register_export(CLI::App& app, CommandRegistry& reg);
void register_artifact(CLI::App& app, CommandRegistry& reg);
void register_eval(CLI::App& app, CommandRegistry& reg);
void register_run(CLI::App& app, CommandRegistry& reg);
void register_serve(CLI::App& app, CommandRegistry& reg);

// The conversation to route: the messages file when given, else one user message `text`.
Result<std::vector<Message>> load_messages(const std::string& messages_file,
                                           const std::string& text);

// Adds --base/--artifact/--vector/--profile/--tokenizer/--threads/--prefix-cache-mb/--layer.
void add_router_source_options(CLI::App* sub, RouterSource& src);

}  // namespace trinity::cli
