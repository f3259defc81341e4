// GCC 12 reports a false -Wrestrict in inlined std::string concatenation (GCC bug 105329).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif
// trinity fitness export|inspect|replay and trinity reflex calibrate end to end, on traces of
// real mock runs; the recommended flags are fed back to `trinity run`.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/file_util.h"
#include "core/json.h"

namespace trinity {
namespace {

struct CmdResult {
  int rc = -1;
  std::string out, err;
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "/fitness_cli_" + std::to_string(::getpid()) + "_" + name;
}

CmdResult trinity_cmd(const std::vector<std::string>& args) {
  const std::string out = temp_path("out.txt"), err = temp_path("err.txt");
  std::string cmd = quote(TRINITY_BINARY);
  for (const auto& a : args) cmd += " " + quote(a);
  cmd += " >" + quote(out) + " 2>" + quote(err);
  const int status = std::system(cmd.c_str());
  CmdResult r;
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out).ok() ? *read_file(out) : "";
  r.err = read_file(err).ok() ? *read_file(err) : "";
  return r;
}

std::vector<std::string> split_flags(const std::string& flags) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < flags.size()) {
    size_t end = flags.find(' ', start);
    if (end == std::string::npos) end = flags.size();
    out.push_back(flags.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Six mock runs in one trace.
std::string mock_trace() {
  const std::string trace = temp_path("trace.jsonl");
  std::remove(trace.c_str());
  for (int i = 0; i < 6; ++i) {
    auto r = trinity_cmd({"run", "--profile", "mock_tiny", "--pool", "mock", "--query",
                          "What is " + std::to_string(i) + " + 3?", "--trace-out", trace});
    EXPECT_LE(r.rc, 1) << r.err;
  }
  return trace;
}

TEST(FitnessCli, ExportInspectReplayCalibrateOnMockRuns) {
  const std::string trace = mock_trace();
  const std::string out = temp_path("out");
  auto ex = trinity_cmd({"fitness", "export", "--trace", trace, "--out", out, "--json"});
  ASSERT_EQ(ex.rc, 0) << ex.err;
  const Json manifest = Json::parse(ex.out)["manifest"];
  EXPECT_GE(manifest["record_count"].get<int>(), 6);  // at least one route per run
  EXPECT_EQ(manifest["conflict_count"], 0);
  const std::string file = out + "/fitness.jsonl";

  auto inspect = trinity_cmd({"fitness", "inspect", file, "--json"});
  ASSERT_EQ(inspect.rc, 0) << inspect.err;
  const Json report = Json::parse(inspect.out);
  EXPECT_EQ(report["manifest_digest_verified"], true);
  EXPECT_EQ(report["record_count"], manifest["record_count"]);
  auto text = trinity_cmd({"fitness", "inspect", file});
  ASSERT_EQ(text.rc, 0);
  EXPECT_NE(text.out.find("digest verified"), std::string::npos) << text.out;

  auto replay = trinity_cmd({"fitness", "replay", file});
  ASSERT_EQ(replay.rc, 0) << replay.out << replay.err;
  EXPECT_NE(replay.out.find("0 score and 0 label mismatches: ok"), std::string::npos) << replay.out;

  auto cal = trinity_cmd({"reflex", "calibrate", "--fitness", file, "--json"});
  ASSERT_EQ(cal.rc, 0) << cal.err;
  const Json calibration = Json::parse(cal.out);
  EXPECT_EQ(calibration["candidate_count"], 6);
  const std::string flags = calibration["recommended_flags"];
  auto human = trinity_cmd({"reflex", "calibrate", "--fitness", file});
  EXPECT_NE(human.out.find(flags), std::string::npos) << human.out;

  // The recommended flags are run's own.
  std::vector<std::string> run = {"run",  "--profile", "mock_tiny",     "--pool",
                                  "mock", "--query",   "What is 1 + 1?"};
  for (const std::string& f : split_flags(flags)) run.push_back(f);
  auto rerun = trinity_cmd(run);
  EXPECT_LE(rerun.rc, 1) << rerun.err;
  EXPECT_EQ(rerun.err.find("error"), std::string::npos) << rerun.err;
}

TEST(FitnessCli, RunUnitAndMalformedTrace) {
  const std::string trace = mock_trace();
  auto ex = trinity_cmd(
      {"fitness", "export", "--trace", trace, "--out", temp_path("runs"), "--unit", "run"});
  ASSERT_EQ(ex.rc, 0) << ex.err;
  EXPECT_NE(ex.out.find("fitness export: 6 examples"), std::string::npos) << ex.out;

  const std::string bad = temp_path("bad.jsonl");
  ASSERT_TRUE(write_file_atomic(bad, *read_file(trace) + "{\"event\":\n").ok());
  auto fail = trinity_cmd({"fitness", "export", "--trace", bad, "--out", temp_path("bad")});
  EXPECT_EQ(fail.rc, 2);
  EXPECT_NE(fail.err.find(bad + ":"), std::string::npos) << fail.err;
  auto missing = trinity_cmd({"reflex", "calibrate", "--fitness", temp_path("none.jsonl")});
  EXPECT_EQ(missing.rc, 2);
  EXPECT_NE(missing.err.find("none.jsonl"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace trinity
