// The synthetic demo artifact (make-test-model tiny, seed 1, exported) still routes every case
// of evals/router_cases.json as the shipped expectations and per-profile snapshots say, under
// the reference, cpu and cpu-bf16 profiles. Floors are 0 because the synthetic head is random.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

std::string sh(const std::string& cmd) {
  return cmd + " >/dev/null 2>&1";
}

TEST(DemoArtifact, ShippedSnapshotsPassOnEveryComputingProfile) {
  const std::string bin = TRINITY_BINARY, src = TRINITY_SOURCE_DIR;
  const std::string dir = std::filesystem::temp_directory_path().string() + "/trinity_demo_" +
                          std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  ASSERT_EQ(std::system(sh(bin + " make-test-model --out " + dir +
                           "/model --preset tiny --seed 1 "
                           "--tokenizer " +
                           TRINITY_TOKENIZER_DIR)
                            .c_str()),
            0);
  ASSERT_EQ(std::system(sh(bin + " export --base " + dir + "/model --vector " + dir +
                           "/model/router_vector.npy --out " + dir + "/bundle")
                            .c_str()),
            0);
  for (const char* profile : {"reference", "cpu", "cpu-bf16"}) {
    const std::string cmd = "cd " + src + " && " + bin + " eval --base " + dir +
                            "/model --artifact " + dir +
                            "/bundle --cases evals/router_cases.json "
                            "--profile " +
                            profile +
                            " --min-agent-margin 0 --min-role-margin 0 "
                            "--determinism-runs 2";
    EXPECT_EQ(std::system(sh(cmd).c_str()), 0) << cmd;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
