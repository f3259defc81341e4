// The simulated `skills` world: tasks, the agents' solver, what agents read, and that the
// skill table shows through the real orchestrator loop.
#include <gtest/gtest.h>

#include "coord/orchestrator.h"
#include "coord/prompts.h"
#include "coord/skills.h"
#include "coord_test_util.h"

namespace trinity::coord {
namespace {

TEST(Skills, EveryGeneratedTaskIsSolvedFromItsText) {
  int per_category[kSkillsCategories] = {};
  for (uint64_t i = 0; i < 1000; ++i) {
    const SkillsTask t = make_skills_task(42, i);
    const auto q = solve_skills_question(t.prompt);
    ASSERT_TRUE(q.has_value()) << t.prompt;
    EXPECT_EQ(q->category, t.category) << t.prompt;
    EXPECT_EQ(std::to_string(q->answer), t.answer) << t.prompt;
    ++per_category[static_cast<int>(t.category)];
  }
  for (int c : per_category) EXPECT_EQ(c, 200);
  // Deterministic per (seed, index); another seed gives other tasks.
  EXPECT_EQ(make_skills_task(42, 7).prompt, make_skills_task(42, 7).prompt);
  EXPECT_NE(make_skills_task(42, 7).prompt, make_skills_task(43, 7).prompt);
}

TEST(Skills, KnownAnswersAndRejectedTexts) {
  auto q = solve_skills_question("Compute 12 * 11. Reply with the number only.");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->answer, 132);
  q = solve_skills_question("Convert 7 feet to inches. Give just the converted value.");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->answer, 84);
  q = solve_skills_question(
      "Dana has 10 coins. Dana buys 5 more and gives 3 to a friend. How many coins does Dana "
      "have now?");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->answer, 12);
}

TEST(Skills, PythonModuloOfNegatives) {
  const auto q = solve_skills_question(
      "What does this Python snippet print?\nx = 2\nx = x * 3 - 40\nprint(x % 7)");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->answer, 1);  // Python: -34 % 7 == 1
}

TEST(Skills, UnrecognisedTextsAreNotSolved) {
  for (const char* t : {"", "Compute 1 + 2.", "Compute 1 / 2. Reply with the number only.",
                        "Convert 3 parsecs to m. Give just the converted value.",
                        "Look up the atomic number of kryptonite in the periodic table.",
                        "Alice has 5 apples. Bob buys 2 more and gives 1 to a friend. How many "
                        "apples does Alice have now?",
                        "Compute 1 + 2. Reply with the number only. And more."})
    EXPECT_FALSE(solve_skills_question(t).has_value()) << t;
}

TEST(Skills, AgentsReadTheRenderedRequest) {
  const std::string question = make_skills_task(1, 2).prompt;  // code: a multi-line question
  std::vector<Message> transcript = {{"user", question}, {"assistant", "The answer is 5."}};
  const auto msgs =
      build_agent_messages(default_role_prompts(), MessageShape::kRendered, kRoleVerifier, 2,
                           transcript, {"", speaker_note(1, kRoleWorker, 3)});
  const SkillsView v = read_skills_request(msgs);
  EXPECT_EQ(v.question, question);
  ASSERT_TRUE(v.worker_answer.has_value());
  EXPECT_EQ(*v.worker_answer, "The answer is 5.");
  // A Thinker's reply is not a Worker answer.
  const auto msgs2 =
      build_agent_messages(default_role_prompts(), MessageShape::kRendered, kRoleWorker, 2,
                           transcript, {"", speaker_note(1, kRoleThinker, 3)});
  EXPECT_FALSE(read_skills_request(msgs2).worker_answer.has_value());
  const auto ref = build_agent_messages(default_role_prompts(), MessageShape::kReference,
                                        kRoleVerifier, 2, transcript, {});
  EXPECT_EQ(read_skills_request(ref).question, question);
}

// Accuracy of one agent as the only Worker, over n tasks of one category.
double worker_accuracy(int agent, SkillsCategory cat, int n) {
  auto provider = make_skills_provider(builtin_skills_pool().slots[static_cast<size_t>(agent)]);
  int right = 0, seen = 0;
  for (uint64_t i = 0; seen < n; ++i) {
    const SkillsTask t = make_skills_task(9, i);
    if (t.category != cat) continue;
    ++seen;
    ChatRequest req;
    req.messages = build_agent_messages(default_role_prompts(), MessageShape::kRendered,
                                        kRoleWorker, 1, {{"user", t.prompt}}, {""});
    req.role_id = kRoleWorker;
    req.agent_id = agent;
    req.turn = 1;
    CallContext ctx;
    ctx.clock = &system_clock();
    auto r = provider->chat(req, ctx);
    EXPECT_TRUE(r.ok());
    if (r.ok() && r->text == "The answer is " + t.answer + ".") ++right;
  }
  return static_cast<double>(right) / n;
}

TEST(Skills, WorkerAccuracyFollowsTheSkillTable) {
  // 400 draws: the standard error of a 0.95 rate is 0.011, of 0.3 0.023; allow 4 sigma.
  EXPECT_NEAR(worker_accuracy(0, SkillsCategory::kArithmetic, 400), 0.95, 0.045);
  EXPECT_NEAR(worker_accuracy(0, SkillsCategory::kUnits, 400), 0.30, 0.092);
  EXPECT_NEAR(worker_accuracy(5, SkillsCategory::kCode, 400), 0.55, 0.1);
}

TEST(Skills, RunsThroughTheOrchestrator) {
  auto pool = AgentPool::create(builtin_skills_pool(), false, process_env());
  ASSERT_TRUE(pool.ok()) << pool.status().message();
  // Worker by the arithmetic specialist, then a Verifier turn by it.
  auto router = std::make_shared<testing::ScriptedRouter>(
      std::vector<testing::ScriptStep>{{0, kRoleWorker}, {0, kRoleVerifier}});
  Orchestrator orch(router, *pool);
  RunOptions opt;
  opt.run_id = "skills";
  const SkillsTask t = make_skills_task(3, 0);
  const RunResult r = orch.run({{"user", t.prompt}}, opt);
  ASSERT_TRUE(r.ok()) << r.status.message();
  ASSERT_TRUE(r.answer.has_value());
  EXPECT_NE(r.answer->find(t.answer), std::string::npos);
  EXPECT_FALSE(builtin_skills_pool().slots[0].is_live());
}

}  // namespace
}  // namespace trinity::coord
