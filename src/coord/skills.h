// The `skills` world: a built-in, deterministic simulated pool and the tasks it is good and bad
// at, so that training can be shown to work without any live model (`--pool skills`,
// `trinity tasks generate --kind skills`).
//
// Tasks come in five categories, each with its own prompt template: arithmetic, unit
// conversion, code output, lookup (atomic numbers from a small table) and word problems. Every
// answer is a number.
//
// The seven agents see only the messages, as a real model would: an agent finds the user's
// question in the rendered transcript, recognises its category from the text, computes the true
// answer, and then answers correctly with its skill probability for that category; otherwise it
// gives a plausible wrong number. Draws are deterministic per (agent, question, role, turn).
//   Worker:   "The answer is N."
//   Verifier: judges the latest Worker answer right with its verification skill (ACCEPT a right
//             answer / REVISE a wrong one), else the opposite verdict.
//   Thinker:  suggests a Worker while no answer exists, else a Verifier.
// The skills (kSkillsWorker below) make routing matter: five specialists (0.95 in their category,
// 0.25-0.35 elsewhere), a generalist (0.55-0.6 everywhere) and a weak, cheap model. The best
// single agent averages ~0.58; the per-category oracle 0.95.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coord/pool.h"
#include "coord/provider.h"

namespace trinity::coord {

inline constexpr int kSkillsCategories = 5;
enum class SkillsCategory { kArithmetic, kUnits, kCode, kLookup, kWord };
const char* skills_category_name(SkillsCategory c);  // "arithmetic" | "units" | ...

// Worker accuracy and verification accuracy, per agent slot and category.
extern const std::array<std::array<double, kSkillsCategories>, kNumAgents> kSkillsWorker;
extern const std::array<std::array<double, kSkillsCategories>, kNumAgents> kSkillsVerify;
extern const std::array<const char*, kNumAgents> kSkillsAgentNames;

struct SkillsTask {
  SkillsCategory category = SkillsCategory::kArithmetic;
  std::string prompt;
  std::string answer;  // decimal integer
};

// Task `index` of the stream `seed`: category index % 5 (balanced), values drawn from
// (seed, index).
SkillsTask make_skills_task(uint64_t seed, uint64_t index);

// What an agent makes of a question: its category and true answer; nullopt when the text is
// not one of the five templates.
struct SkillsQuestion {
  SkillsCategory category;
  int64_t answer;
};
std::optional<SkillsQuestion> solve_skills_question(const std::string& text);

// The question and the latest Worker answer as an agent reads them from its request (the
// rendered shape's "### user" / "### assistant (turn N: Worker, ...)" sections, or the
// reference shape's messages).
struct SkillsView {
  std::string question;
  std::optional<std::string> worker_answer;
};
SkillsView read_skills_request(const std::vector<Message>& messages);

// The built-in pool "skills": slot i is skills agent i (provider "skills").
PoolConfig builtin_skills_pool();
std::unique_ptr<Provider> make_skills_provider(const ProviderSpec& spec);

}  // namespace trinity::coord
