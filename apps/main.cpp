// trinity: the command-line entry point. Each subcommand lives in apps/cmd_<name>.cpp.
#include <cstdio>

#include "cli_common.h"

namespace trinity::cli {

int report_error(const std::string& command, const Status& status) {
  std::fprintf(stderr, "trinity %s: error: %s\n", command.c_str(), status.message().c_str());
  switch (status.code()) {
    case ErrorCode::kBudgetExceeded:
      return kExitBudget;
    case ErrorCode::kProvider:
      return kExitProvider;
    case ErrorCode::kInternal:
      return kExitInternal;
    default:
      return kExitBadInput;
  }
}

}  // namespace trinity::cli

int main(int argc, char** argv) {
  using namespace trinity::cli;
  CLI::App app{"trinity: a native runtime for TRINITY-style LLM coordination"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "trinity.cpp 0.1.0");
  CommandRegistry reg;
  register_make_test_model(app, reg);
  register_forward(app, reg);
  register_tokenize(app, reg);
  register_route(app, reg);
  register_profiles(app, reg);
  register_bench(app, reg);
  register_export(app, reg);
  register_artifact(app, reg);
  register_eval(app, reg);
  register_run(app, reg);
  register_serve(app, reg);
  register_env(app, reg);
  register_import(app, reg);
  register_cache(app, reg);
  register_runs(app, reg);
  register_tasks(app, reg);
  register_candidate(app, reg);
  register_train(app, reg);
  register_fitness(app, reg);
  register_reflex(app, reg);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitBadInput;
  }
  for (auto& [sub, action] : reg.commands) {
    if (sub->parsed()) return action();
  }
  return kExitBadInput;
}
