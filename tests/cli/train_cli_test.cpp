// `trinity tasks generate`, `candidate eval` and `train` end to end on the tiny synthetic model
// with the real tokenizer and the built-in skills pool: the demo learns (asserted on
// accuracies), a SIGKILLed run resumes to the identical vector, --threads does not change it.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "common/cli_shell.h"
#include "core/file_util.h"
#include "core/json.h"

extern char** environ;

namespace trinity {
namespace {

namespace fs = std::filesystem;

using testing::Cmd;
using testing::sh;

class TrainCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path().string() + "/trinity_train_cli_" + std::to_string(::getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // The demo's model: tiny preset, seed 1.
    Cmd m = sh(bin() + " make-test-model --out " + dir_ + "/model --preset tiny --seed 1 " +
               "--tokenizer " + TRINITY_TOKENIZER_DIR);
    ASSERT_EQ(m.rc, 0) << m.out;
    for (auto [name, seed, n] : {std::tuple{"train", 1, 300}, std::tuple{"heldout", 2, 200},
                                 std::tuple{"fresh", 3, 200}}) {
      Cmd g = sh(bin() + " tasks generate --kind skills --n " + std::to_string(n) + " --seed " +
                 std::to_string(seed) + " --out " + dir_ + "/" + name + ".jsonl");
      ASSERT_EQ(g.rc, 0) << g.out;
    }
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static std::string bin() { return std::string("'") + TRINITY_BINARY + "'"; }
  static std::string train_cmd(const std::string& out, const std::string& extra) {
    // One compute thread: ctest runs two tests at once on two cores, and oversubscribed OpenMP
    // teams run several times slower; the vector does not depend on --threads (tested below).
    return bin() + " train --base " + dir_ + "/model --train " + dir_ + "/train.jsonl --out " +
           dir_ + "/" + out + " --quiet " +
           (extra.find("--threads") == std::string::npos ? "--threads 1 " : "") + extra;
  }
  static Json eval_json(const std::string& vector, const std::string& extra = "") {
    Cmd r = sh(bin() + " candidate eval --base " + dir_ + "/model --vector " + vector +
                   " --tasks " + dir_ + "/fresh.jsonl --threads 1 --json " + extra,
               false);
    EXPECT_EQ(r.rc, 0) << r.out;
    auto j = parse_json(r.out, "candidate eval --json");
    EXPECT_TRUE(j.ok()) << r.out;
    return j.ok() ? *j : Json();
  }
  static std::string bytes(const std::string& path) {
    auto t = read_file(path);
    EXPECT_TRUE(t.ok()) << path;
    return t.ok() ? *t : std::string();
  }
  static inline std::string dir_;
};

// Acceptance: the demo's training (its defaults) beats every fixed agent by >= 10 points on
// tasks of another seed, and the held-out report says the same.
TEST_F(TrainCli, SkillsDemoLearns) {
  Cmd t = sh(train_cmd("demo", "--heldout " + dir_ + "/heldout.jsonl --json"), false);
  ASSERT_EQ(t.rc, 0) << t.out;
  auto report = parse_json(t.out, "train --json");
  ASSERT_TRUE(report.ok()) << t.out;
  const Json& h = (*report)["heldout"];
  EXPECT_GE(h["trained"].get<double>(), h["untrained"].get<double>() + 0.2) << h.dump();
  EXPECT_GE(h["trained"].get<double>(), h["best_single_agent"].get<double>() + 0.1) << h.dump();
  EXPECT_GE(h["oracle"].get<double>(), h["trained"].get<double>()) << h.dump();
  const std::string vec = dir_ + "/demo/vector.npy";
  const double trained = eval_json(vec)["accuracy"].get<double>();
  for (int k = 0; k < 7; ++k) {
    const Json fixed = eval_json(vec, "--fixed-agent " + std::to_string(k));
    EXPECT_GE(trained, fixed["accuracy"].get<double>() + 0.10) << "agent " << k;
    EXPECT_EQ(fixed["agent_histogram"][k].get<int64_t>(), fixed["provider_calls"].get<int64_t>());
  }
  EXPECT_TRUE(fs::exists(dir_ + "/demo/report.html"));
  EXPECT_TRUE(fs::exists(dir_ + "/demo/best.npy"));
  EXPECT_TRUE(fs::exists(dir_ + "/demo/vector.safetensors"));
}

// kill -9 in the middle, --resume: the same vector, ES state and log as an uninterrupted run.
TEST_F(TrainCli, ResumeAfterSigkillIsIdentical) {
  const std::string flags = "--iterations 6 --population 6 --replications 8 --seed 5";
  Cmd whole = sh(train_cmd("whole", flags));
  ASSERT_EQ(whole.rc, 0) << whole.out;
  const std::string out = dir_ + "/killed";
  // The trinity process itself (no shell), so SIGKILL hits it.
  std::vector<std::string> args = {TRINITY_BINARY,
                                   "train",
                                   "--base",
                                   dir_ + "/model",
                                   "--train",
                                   dir_ + "/train.jsonl",
                                   "--out",
                                   out,
                                   "--quiet",
                                   "--iterations",
                                   "6",
                                   "--population",
                                   "6",
                                   "--replications",
                                   "8",
                                   "--threads",
                                   "1",
                                   "--seed",
                                   "5"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, TRINITY_BINARY, nullptr, nullptr, argv.data(), environ), 0);
  // Kill once at least two iterations are on disk (and before the run ends).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (;;) {
    auto log = read_file(out + "/log.jsonl");
    if (log.ok() && std::count(log->begin(), log->end(), '\n') >= 2) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the run never logged";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run ended before the kill";
  auto partial = read_file(out + "/log.jsonl");
  ASSERT_TRUE(partial.ok());
  EXPECT_LT(std::count(partial->begin(), partial->end(), '\n'), 6);
  Cmd again = sh(train_cmd("killed", flags));  // without --resume: refused, nothing lost
  EXPECT_EQ(again.rc, 2) << again.out;
  EXPECT_NE(again.out.find("--resume"), std::string::npos) << again.out;
  Cmd resumed = sh(train_cmd("killed", flags + " --resume"));
  ASSERT_EQ(resumed.rc, 0) << resumed.out;
  for (const char* f : {"vector.npy", "best.npy", "es_state.safetensors", "vector.safetensors"})
    EXPECT_EQ(bytes(out + "/" + f), bytes(dir_ + "/whole/" + f)) << f;
  // The log holds each iteration once, with the same fitness values.
  auto a = read_file(out + "/log.jsonl"), b = read_file(dir_ + "/whole/log.jsonl");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(std::count(a->begin(), a->end(), '\n'), 6);
  auto fitness_lines = [](const std::string& text) {
    std::vector<std::string> lines;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      auto j = parse_json(text.substr(pos, end - pos), "log");
      if (j.ok()) lines.push_back((*j)["fitness"].dump());
      pos = end + 1;
    }
    return lines;
  };
  EXPECT_EQ(fitness_lines(*a), fitness_lines(*b));
}

TEST_F(TrainCli, ThreadsDoNotChangeTheVector) {
  const std::string flags = "--iterations 3 --population 6 --replications 8 --seed 9";
  Cmd one = sh(train_cmd("t1", flags + " --threads 1"));
  ASSERT_EQ(one.rc, 0) << one.out;
  Cmd two = sh(train_cmd("t2", flags + " --threads 2"));
  ASSERT_EQ(two.rc, 0) << two.out;
  EXPECT_EQ(bytes(dir_ + "/t1/vector.npy"), bytes(dir_ + "/t2/vector.npy"));
  EXPECT_NE(bytes(dir_ + "/t1/vector.npy"), std::string());
}

TEST_F(TrainCli, BadInputIsNamed) {
  const std::string bad = dir_ + "/bad.jsonl";
  ASSERT_TRUE(write_file_atomic(bad,
                                "{\"id\": \"a\", \"prompt\": \"p\", \"answer\": \"1\"}\n"
                                "{\"id\": \"b\", \"prompt\": \"p\"\n")
                  .ok());
  Cmd t = sh(bin() + " train --base " + dir_ + "/model --train " + bad + " --out " + dir_ +
             "/never --quiet");
  EXPECT_EQ(t.rc, 2) << t.out;
  EXPECT_NE(t.out.find(bad + ":2"), std::string::npos) << t.out;
  Cmd f = sh(bin() + " candidate eval --base " + dir_ + "/model --vector " + dir_ +
             "/model/router_vector.npy --tasks " + dir_ + "/fresh.jsonl --fixed-agent 7");
  EXPECT_NE(f.rc, 0) << f.out;
  Cmd s = sh(train_cmd("never2", "--shaping diversity=x"));
  EXPECT_EQ(s.rc, 2) << s.out;
  EXPECT_NE(s.out.find("--shaping"), std::string::npos) << s.out;
  Cmd live = sh(bin() + " train --base " + dir_ + "/model --train " + dir_ + "/train.jsonl --out " +
                dir_ + "/never3 --pool default --quiet");
  EXPECT_EQ(live.rc, 2) << live.out;  // a live pool needs --allow-live
}

// Spend stops at --budget-usd: a priced (mock) pool, a cap below one candidate's spend.
TEST_F(TrainCli, BudgetStopsSpend) {
  std::string slots;
  for (int i = 0; i < 7; ++i)
    slots += std::string(i ? "," : "") + "{\"provider\": \"mock\", \"model\": \"m" +
             std::to_string(i) + "\", \"price_in_per_mtok\": 1, \"price_out_per_mtok\": 1}";
  const std::string pool = dir_ + "/priced_pool.json";
  ASSERT_TRUE(write_file_atomic(pool, "{\"name\": \"priced\", \"slots\": [" + slots + "]}").ok());
  Cmd t = sh(train_cmd("budget", "--pool " + pool + " --budget-usd 0.001 --iterations 5 --json"),
             false);
  ASSERT_EQ(t.rc, 0) << t.out;
  auto j = parse_json(t.out, "train --json");
  ASSERT_TRUE(j.ok()) << t.out;
  EXPECT_TRUE((*j)["stopped_by_budget"].get<bool>());
  // One candidate (16 episodes, ~60 calls of ~150 tokens at $1/Mtok: ~$0.01) passes the cap:
  // the first iteration is dropped, nothing more is spent.
  EXPECT_EQ((*j)["iterations"].get<int64_t>(), 0);
  EXPECT_GE((*j)["cost_usd"].get<double>(), 0.001);
  EXPECT_LT((*j)["cost_usd"].get<double>(), 0.05);
}

TEST_F(TrainCli, CandidateEvalReportsEverything) {
  const Json j = eval_json(dir_ + "/model/router_vector.npy");
  for (const char* k : {"accuracy", "mean_reward", "mean_turns", "agent_histogram",
                        "role_histogram", "cost_usd", "by_tag", "results", "episodes_per_s"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["results"].size(), 200u);
  EXPECT_EQ(j["by_tag"].size(), 5u);
  // Deterministic: the same vector and tasks give the same results.
  EXPECT_EQ(eval_json(dir_ + "/model/router_vector.npy")["results"], j["results"]);
}

}  // namespace
}  // namespace trinity
