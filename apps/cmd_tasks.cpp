// trinity tasks generate: the demo's task sets (the skills world, coord/skills.h).
#include <cstdio>

#include "cli_common.h"
#include "train/tasks.h"

namespace trinity::cli {
namespace {

struct Options {
  std::string kind = "skills", out;
  int64_t n = 200;
  uint64_t seed = 1;
};

int run(const Options& o) {
  const std::string cmd = "tasks generate";
  if (o.kind != "skills")
    return report_error(cmd, invalid_argument("--kind must be skills, got '" + o.kind + "'"));
  if (o.n < 1) return report_error(cmd, invalid_argument("--n must be >= 1"));
  const auto tasks = train::generate_skills_tasks(o.n, o.seed);
  const Status st = train::write_tasks(o.out, tasks);
  if (!st.ok()) return report_error(cmd, st.with_context(o.out));
  std::printf("wrote %lld %s tasks (seed %llu) to %s\n", static_cast<long long>(o.n),
              o.kind.c_str(), static_cast<unsigned long long>(o.seed), o.out.c_str());
  return kExitOk;
}

}  // namespace

void register_tasks(CLI::App& app, CommandRegistry& reg) {
  CLI::App* tasks = app.add_subcommand("tasks", "Task files for training and candidate eval");
  tasks->require_subcommand(1);
  auto o = std::make_shared<Options>();
  CLI::App* sub = tasks->add_subcommand(
      "generate",
      "Write a task set (JSONL). --kind skills: arithmetic, unit conversion, code output, "
      "lookup and word problems in equal shares, answered by the built-in `skills` pool");
  sub->add_option("--kind", o->kind, "Task kind: skills")->required();
  sub->add_option("--n", o->n, "Number of tasks (default 200)");
  sub->add_option("--seed", o->seed, "Seed (another seed: other tasks)");
  sub->add_option("--out", o->out, "Output file (written atomically)")->required();
  reg.add(sub, [o] { return run(*o); });
}

}  // namespace trinity::cli
