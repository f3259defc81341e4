// `trinity export` end to end: the golden model, a SIGKILL mid-export, then --resume must finish
// with byte-identical checkpoints; existing output without --force/--resume; --dry-run; --json.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "adapt/bundle.h"
#include "common/python_export.h"
#include "core/file_util.h"
#include "core/json.h"
#include "io/router_vector.h"

namespace trinity {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& p) {
  auto r = read_file(p);
  return r.ok() ? *r : std::string("<missing " + p + ">");
}
const std::string kGolden = std::string(TRINITY_TEST_DATA_DIR) + "/golden";

std::string tmp(const std::string& n) {
  const std::string d =
      ::testing::TempDir() + "/" + std::to_string(::getpid()) + "_trinity_export_cli_" + n;
  fs::remove_all(d);
  return d;
}

int sh(const std::string& cmd, std::string* out = nullptr) {
  const std::string file =
      ::testing::TempDir() + "/" + std::to_string(::getpid()) + "_trinity_export_cli_out.txt";
  const int rc = std::system((cmd + " >'" + file + "' 2>&1").c_str());
  if (out) *out = slurp(file);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string export_cmd(const std::string& out, const std::string& extra = "") {
  return std::string("'") + TRINITY_BINARY + "' export --base '" + kGolden +
         "/model_bf16' --vector '" + kGolden + "/router_vector.safetensors' --out '" + out + "' " +
         extra;
}

TEST(ExportCli, KilledMidExportThenResumeFinishesIdentically) {
  const std::string ref = tmp("ref"), cut = tmp("cut");
  std::string log;
  ASSERT_EQ(sh(export_cmd(ref), &log), 0) << log;
  // Start a second export and SIGKILL it once its first checkpoints are on disk.
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string c = export_cmd(cut);
    execl("/bin/sh", "sh", "-c", ("exec " + c + " >/dev/null 2>&1").c_str(), nullptr);
    _exit(127);
  }
  // Once checkpoint 2 exists, checkpoint 1 is recorded in the manifest.
  const std::string first =
      cut + "/checkpoints/0002_decoder.blocks.2.self_attention.query.kernel.safetensors";
  for (int i = 0; i < 20000 && !fs::exists(first); ++i)
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  // Checkpoints are committed in index order; what remains after 0002 (six layer checkpoints,
  // the LM head's rename, a manifest rewrite with its fsync after each) takes far longer than
  // the poll interval, so the process dies mid-export.
  EXPECT_TRUE(WIFSIGNALED(status)) << "export finished before the kill";
  if (WIFSIGNALED(status)) {
    // Killed mid-way: the manifest may exist but never claims completion.
    auto m = read_file(cut + "/manifest.json");
    if (m.ok()) {
      auto j = parse_json(*m, "manifest");
      ASSERT_TRUE(j.ok());
      EXPECT_NE((*j)["status"], "complete");
    }
    EXPECT_FALSE(load_bundle(cut).ok());
  }
  ASSERT_NE(sh(export_cmd(cut), &log), 0) << "existing output without --resume must fail";
  EXPECT_NE(log.find("--resume"), std::string::npos) << log;
  ASSERT_EQ(sh(export_cmd(cut, "--resume --json"), &log), 0) << log;
  auto j = parse_json(log, "json summary");
  ASSERT_TRUE(j.ok()) << log;
  EXPECT_EQ((*j)["status"], "complete");
  int kept = 0;
  for (const Json& t : (*j)["tensors"]) kept += t["action"] == "kept";
  EXPECT_GE(kept, 1);  // at least the checkpoint written before the kill was kept
  EXPECT_LT(kept, 9);
  ASSERT_TRUE(load_bundle(cut).ok());
  for (const auto& e : fs::directory_iterator(ref + "/checkpoints")) {
    const std::string name = e.path().filename().string();
    EXPECT_EQ(slurp(e.path().string()), slurp(cut + "/checkpoints/" + name)) << name;
  }
  EXPECT_EQ(slurp(ref + "/router_head.safetensors"), slurp(cut + "/router_head.safetensors"));
  ASSERT_EQ(
      sh(std::string("'") + TRINITY_BINARY + "' artifact verify --artifact '" + cut + "'", &log), 0)
      << log;
}

TEST(BenchExportCli, ReportsStagesPerTensorAndPeakRss) {
  const std::string out = tmp("bench");
  std::string log;
  ASSERT_EQ(sh(std::string("'") + TRINITY_BINARY + "' bench export --base '" + kGolden +
                   "/model_bf16' --vector '" + kGolden + "/router_vector.safetensors' --out '" +
                   out + "' --repeat 2 --json",
               &log),
            0)
      << log;
  auto j = parse_json(log, "bench export json");
  ASSERT_TRUE(j.ok()) << log;
  EXPECT_EQ((*j)["repeat"], 2);
  EXPECT_EQ((*j)["total_ms_runs"].size(), 2u);
  EXPECT_GT((*j)["peak_rss_mb"].get<double>(), 0.0);
  ASSERT_EQ((*j)["tensors"].size(), 9u);
  for (const Json& t : (*j)["tensors"])
    for (const char* s : {"gram_ms", "eigh_ms", "reconstruct_ms", "cast_ms", "write_ms", "sync_ms"})
      EXPECT_GE(t[s].get<double>(), 0.0) << s;
  EXPECT_GT((*j)["tensors"][0]["gram_ms"].get<double>(), 0.0);
  EXPECT_TRUE(load_bundle(out).ok());
  EXPECT_NE(sh(std::string("'") + TRINITY_BINARY + "' bench export --base /nonexistent --vector x"),
            0);
}

TEST(ExportCli, DryRunWritesNothingAndBadVectorIsClear) {
  const std::string d = tmp("dry");
  std::string log;
  ASSERT_EQ(sh(export_cmd(d, "--dry-run"), &log), 0) << log;
  EXPECT_NE(log.find("0009_language_modeling_head.output.kernel.safetensors"), std::string::npos);
  EXPECT_FALSE(fs::exists(d));
  const std::string bad = std::string("'") + TRINITY_BINARY + "' export --base '" + kGolden +
                          "/model_f32' --vector '" + kGolden + "/router_head.npy' --out '" + d +
                          "'";
  EXPECT_EQ(sh(bad, &log), 2);
  EXPECT_NE(log.find("router vector"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(d));
}

// `import python` writes the vector a Python export holds, bit for bit, in both formats.
TEST(ImportPythonCli, RoundTripsAVectorInThePythonLayout) {
  const std::string d = tmp("python");
  fs::create_directories(d);
  std::vector<float> v(9 * 1024 + 10 * 1024);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(std::sin(0.37 * i)) * 0.1f;
  ASSERT_TRUE(write_python_export(d, v, 1024).ok());
  for (const char* ext : {".npy", ".safetensors"}) {
    const std::string out = d + "/imported" + ext;
    std::string log;
    ASSERT_EQ(sh(std::string("'") + TRINITY_BINARY + "' import python --dir '" + d + "' --out '" +
                     out + "'",
                 &log),
              0)
        << log;
    EXPECT_NE(log.find("imported 9 SVF targets (9216 offsets) and the [10, 1024] head"),
              std::string::npos)
        << log;
    auto back = load_router_vector(out, 9216, 1024);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->offsets, std::vector<float>(v.begin(), v.begin() + 9216));
    EXPECT_EQ(back->head, std::vector<float>(v.begin() + 9216, v.end()));
  }
  std::string log;
  EXPECT_EQ(sh(std::string("'") + TRINITY_BINARY + "' import python --dir '" + d + "' --out '" + d +
                   "/v.txt'",
               &log),
            2);
  EXPECT_NE(log.find("must end in .npy or .safetensors"), std::string::npos) << log;
}

}  // namespace
}  // namespace trinity
