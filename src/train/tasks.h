// Training and evaluation tasks: one JSON object per line (JSONL).
//
//   {"id": "t1", "prompt": "Compute 2 + 3. Reply with the number only.", "answer": "5",
//    "check": "number", "tags": ["arithmetic"]}
//
// Fields: `id` (string, unique in the file), `prompt` (string) or `messages` (an array of
// {role, content}; exactly one of the two), `answer` (string, or a number for `number`),
// `check` (a checker name, or {"type": name, ...options}; default "exact"), `tags` (array of
// strings, optional). Blank lines are skipped. Every error names the file and the line.
//
// Checkers, applied to the final answer of a run:
//   exact     the trimmed reply equals the trimmed answer; {"ignore_case": true} to fold ASCII case
//   number    the last number in the reply equals the answer within {"tolerance": 1e-6}
//             (absolute; default 1e-6); thousands separators "1,234" are read as 1234
//   contains  the reply contains the answer; {"ignore_case": true}
//   regex     the answer is a PCRE2 pattern that must match somewhere in the reply
//             ({"ignore_case": true} adds PCRE2_CASELESS); patterns are compiled at load
//   choice    the answer is a letter A-E; the reply's choice is the last standalone letter A-E
//             (as in "(B)", "Answer: C", "d)"; case-insensitive for a lone letter reply)
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "router/route.h"

namespace trinity::train {

enum class CheckKind { kExact, kNumber, kContains, kRegex, kChoice };
const char* check_kind_name(CheckKind k);

class Checker {
 public:
  // From the task's `check` field and its answer (regex compiles the answer); `what` prefixes
  // errors (e.g. "tasks.jsonl:12: check").
  static Result<Checker> parse(const Json& check, const std::string& answer,
                               const std::string& what);
  static Result<Checker> make(CheckKind kind, const std::string& answer, bool ignore_case = false,
                              double tolerance = 1e-6);
  bool passes(const std::string& reply) const;
  CheckKind kind() const { return kind_; }
  Json to_json() const;  // the `check` field that reproduces this checker

 private:
  struct Regex;
  CheckKind kind_ = CheckKind::kExact;
  std::string answer_;
  bool ignore_case_ = false;
  double tolerance_ = 1e-6;
  double number_ = 0;
  std::shared_ptr<const Regex> regex_;
};

struct Task {
  std::string id;
  std::vector<Message> messages;  // a `prompt` becomes one user message
  std::string answer;
  Checker check;
  std::vector<std::string> tags;
  int64_t line = 0;  // 1-based line in its file (0: built in memory)
  bool from_prompt = true;
};

Result<std::vector<Task>> parse_tasks(const std::string& text, const std::string& what);
Result<std::vector<Task>> load_tasks(const std::string& path);

Json task_to_json(const Task& t);
// Writes tasks as JSONL atomically.
Status write_tasks(const std::string& path, const std::vector<Task>& tasks);

// The last number in a text ("-12", "3.5", "1,234", "1e3"), if any.
std::optional<double> last_number(const std::string& text);

// The demo's task set: n tasks of the skills world (coord/skills.h) from `seed`, with ids
// "skills-<seed>-<i>", the `number` checker and the category as tag.
std::vector<Task> generate_skills_tasks(int64_t n, uint64_t seed);

}  // namespace trinity::train
