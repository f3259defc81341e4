// libFuzzer: task files (train/tasks.h) and run traces for fitness export (train/fitness_trace.h)
// on arbitrary bytes must return a Status, never crash; parsed tasks serialize and parse back to
// the same JSON, and their checkers run on any reply.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "train/fitness_trace.h"
#include "train/tasks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto tasks = trinity::train::parse_tasks(text, "fuzz_tasks.jsonl");
  if (tasks.ok()) {
    std::string once;
    for (const auto& t : *tasks) {
      once += trinity::train::task_to_json(t).dump() + "\n";
      (void)t.check.passes(text);
    }
    auto again = trinity::train::parse_tasks(once, "fuzz_tasks_again.jsonl");
    if (!again.ok() || again->size() != tasks->size()) std::abort();
    for (size_t i = 0; i < tasks->size(); ++i)
      if (trinity::train::task_to_json((*again)[i]) != trinity::train::task_to_json((*tasks)[i]))
        std::abort();
  }
  trinity::train::TraceReadResult traces;
  if (trinity::train::parse_jsonl_text(text, "fuzz_trace.jsonl", true, traces).ok()) {
    for (auto unit : {trinity::train::ExampleUnit::kRoute, trinity::train::ExampleUnit::kRun})
      (void)trinity::train::assemble_candidates(traces.entries, unit,
                                                trinity::coord::ContentMode::kHash);
  }
  return 0;
}
