// Task files and checkers (train/tasks.h).
#include <gtest/gtest.h>

#include <filesystem>

#include "core/file_util.h"
#include "train/tasks.h"

namespace trinity::train {
namespace {

Checker check(CheckKind k, const std::string& answer, bool ignore_case = false, double tol = 1e-6) {
  auto c = Checker::make(k, answer, ignore_case, tol);
  EXPECT_TRUE(c.ok()) << c.status().message();
  return *c;
}

TEST(Checkers, Exact) {
  EXPECT_TRUE(check(CheckKind::kExact, "Paris").passes("  Paris\n"));
  EXPECT_FALSE(check(CheckKind::kExact, "Paris").passes("paris"));
  EXPECT_TRUE(check(CheckKind::kExact, "Paris", true).passes("PARIS "));
  EXPECT_FALSE(check(CheckKind::kExact, "Paris").passes("Paris, France"));
}

TEST(Checkers, NumberTakesTheLastNumber) {
  const Checker c = check(CheckKind::kNumber, "42");
  EXPECT_TRUE(c.passes("The answer is 42."));
  EXPECT_TRUE(c.passes("41 is close but the answer is 42"));
  EXPECT_FALSE(c.passes("The answer is 42, not 43."));
  EXPECT_FALSE(c.passes("no number here"));
  EXPECT_TRUE(check(CheckKind::kNumber, "-7").passes("x = -7"));
  EXPECT_TRUE(check(CheckKind::kNumber, "1234").passes("It is 1,234."));
  EXPECT_TRUE(check(CheckKind::kNumber, "0.5", false, 0.01).passes("about 0.495"));
  EXPECT_FALSE(check(CheckKind::kNumber, "0.5", false, 0.001).passes("about 0.495"));
  EXPECT_TRUE(check(CheckKind::kNumber, "1000").passes("1e3"));
  EXPECT_EQ(last_number("a 3.25 b"), 3.25);
  EXPECT_EQ(last_number("v2 and 10,5"), 5);  // "10,5" is not a thousands group
  EXPECT_FALSE(last_number("").has_value());
}

TEST(Checkers, ContainsRegexChoice) {
  EXPECT_TRUE(check(CheckKind::kContains, "blue").passes("The sky is blue today"));
  EXPECT_FALSE(check(CheckKind::kContains, "blue").passes("The sky is BLUE"));
  EXPECT_TRUE(check(CheckKind::kContains, "blue", true).passes("The sky is BLUE"));
  EXPECT_TRUE(check(CheckKind::kRegex, "^\\s*4[0-9]\\b").passes(" 45 apples"));
  EXPECT_FALSE(check(CheckKind::kRegex, "^\\s*4[0-9]\\b").passes("145 apples"));
  EXPECT_TRUE(check(CheckKind::kRegex, "yes", true).passes("YES"));
  const Checker c = check(CheckKind::kChoice, "b");
  EXPECT_TRUE(c.passes("The answer is (B)."));
  EXPECT_TRUE(c.passes("A is wrong. Answer: B"));
  EXPECT_TRUE(c.passes("b"));
  EXPECT_FALSE(c.passes("B is tempting, but the answer is C"));
  EXPECT_FALSE(c.passes("Because"));  // letters inside words do not count
}

TEST(Checkers, BadCheckersAreErrors) {
  EXPECT_FALSE(Checker::make(CheckKind::kNumber, "forty-two").ok());
  EXPECT_FALSE(Checker::make(CheckKind::kChoice, "F").ok());
  EXPECT_FALSE(Checker::make(CheckKind::kChoice, "AB").ok());
  auto r = Checker::make(CheckKind::kRegex, "(unclosed");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("(unclosed"), std::string::npos);
  EXPECT_FALSE(Checker::make(CheckKind::kNumber, "1", false, -1).ok());
  EXPECT_FALSE(Checker::parse(Json("fuzzy"), "x", "t:1: check").ok());
  EXPECT_FALSE(Checker::parse(Json{{"type", "exact"}, {"tolerance", 1}}, "x", "w").ok());
  EXPECT_FALSE(Checker::parse(Json{{"type", "number"}, {"tolerance", "big"}}, "1", "w").ok());
  EXPECT_TRUE(Checker::parse(Json{{"type", "number"}, {"tolerance", 0.5}}, "1", "w").ok());
}

TEST(Tasks, ParseAndRoundTrip) {
  const std::string text =
      "{\"id\": \"a\", \"prompt\": \"2+2?\", \"answer\": 4, \"check\": \"number\", \"tags\": "
      "[\"math\"]}\n"
      "\n"
      "{\"id\": \"b\", \"messages\": [{\"role\": \"system\", \"content\": \"be brief\"}, "
      "{\"role\": \"user\", \"content\": \"capital of France?\"}], \"answer\": \"paris\", "
      "\"check\": {\"type\": \"exact\", \"ignore_case\": true}}\r\n";
  auto tasks = parse_tasks(text, "t.jsonl");
  ASSERT_TRUE(tasks.ok()) << tasks.status().message();
  ASSERT_EQ(tasks->size(), 2u);
  EXPECT_EQ((*tasks)[0].line, 1);
  EXPECT_EQ((*tasks)[1].line, 3);
  EXPECT_TRUE((*tasks)[0].check.passes("It is 4."));
  EXPECT_TRUE((*tasks)[1].check.passes("Paris"));
  EXPECT_EQ((*tasks)[1].messages.size(), 2u);
  const std::string path = (std::filesystem::path(::testing::TempDir()) / "rt.jsonl").string();
  ASSERT_TRUE(write_tasks(path, *tasks).ok());
  auto again = load_tasks(path);
  ASSERT_TRUE(again.ok()) << again.status().message();
  ASSERT_EQ(again->size(), 2u);
  EXPECT_EQ(task_to_json((*again)[1]), task_to_json((*tasks)[1]));
}

void expect_error(const std::string& text, const std::string& needle) {
  auto r = parse_tasks(text, "tasks.jsonl");
  ASSERT_FALSE(r.ok()) << text;
  EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
}

TEST(Tasks, BrokenLinesNameTheLine) {
  const std::string good = "{\"id\": \"a\", \"prompt\": \"p\", \"answer\": \"x\"}\n";
  expect_error(good + "{\"id\": \"b\", \"prompt\": \"p\", \"answer\": \n", "tasks.jsonl:2");
  expect_error(good + good, "tasks.jsonl:2: duplicate id \"a\" (first on line 1)");
  expect_error(good + "[1, 2]\n", "tasks.jsonl:2: a task must be a JSON object");
  expect_error("{\"prompt\": \"p\", \"answer\": \"x\"}", "tasks.jsonl:1: \"id\"");
  expect_error("{\"id\": \"a\", \"answer\": \"x\"}", "exactly one of");
  expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"messages\": [], \"answer\": \"x\"}",
               "exactly one of");
  expect_error("{\"id\": \"a\", \"prompt\": \"p\"}", "\"answer\" is required");
  expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"answer\": \"x\", \"check\": \"number\"}",
               "tasks.jsonl:1: check");
  expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"answer\": \"x\", \"tag\": []}",
               "unknown field \"tag\"");
  expect_error(
      "{\"id\": \"a\", \"messages\": [{\"role\": \"robot\", \"content\": \"c\"}], "
      "\"answer\": \"x\"}",
      "tasks.jsonl:1");
  expect_error("\n\n", "no tasks");
  auto missing = load_tasks("/nonexistent/tasks.jsonl");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/tasks.jsonl"), std::string::npos);
}

TEST(Tasks, SkillsGeneratorIsDeterministicAndChecks) {
  const auto a = generate_skills_tasks(50, 7), b = generate_skills_tasks(50, 7);
  ASSERT_EQ(a.size(), 50u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(task_to_json(a[i]), task_to_json(b[i]));
    EXPECT_TRUE(a[i].check.passes("The answer is " + a[i].answer + "."));
    EXPECT_EQ(a[i].tags.size(), 1u);
  }
  EXPECT_NE(task_to_json(generate_skills_tasks(1, 8)[0]), task_to_json(a[0]));
}

}  // namespace
}  // namespace trinity::train
