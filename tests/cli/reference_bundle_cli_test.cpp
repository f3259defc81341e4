// A bundle whose manifest is in the Elixir reference's exact form (both layouts) passes
// `artifact verify`, `route` and `eval` end to end, with decisions, logits and route hashes
// identical to the same tensors under trinity's own manifest.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "common/cli_shell.h"
#include "common/reference_bundle.h"
#include "core/file_util.h"
#include "core/json.h"

namespace trinity {
namespace {

namespace fs = std::filesystem;

using testing::Cmd;
using testing::sh;

class ReferenceBundleCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ =
        fs::temp_directory_path().string() + "/trinity_refbundle_cli_" + std::to_string(::getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Cmd m = sh(bin() + " make-test-model --out " + dir_ + "/model --preset tiny --seed 3 " +
               "--dtype bf16 --tokenizer " + TRINITY_TOKENIZER_DIR);
    ASSERT_EQ(m.rc, 0) << m.out;
    Cmd e = sh(bin() + " export --base " + dir_ + "/model --vector " + dir_ +
               "/model/router_vector.npy --out " + dir_ + "/own");
    ASSERT_EQ(e.rc, 0) << e.out;
    ASSERT_TRUE(testing::make_reference_bundle(dir_ + "/own", dir_ + "/ref_dir").ok());
    ASSERT_TRUE(
        testing::make_reference_bundle(dir_ + "/own", dir_ + "/ref_single", "single_file").ok());
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static std::string bin() { return std::string("'") + TRINITY_BINARY + "'"; }

  static Json route(const std::string& bundle, const std::string& prompt,
                    const std::string& profile) {
    Cmd r = sh(bin() + " route --base " + dir_ + "/model --artifact " + dir_ + "/" + bundle +
                   " --profile " + profile + " --json --prompt '" + prompt + "'",
               false);
    EXPECT_EQ(r.rc, 0) << r.out;
    auto j = parse_json(r.out, "route --json");
    EXPECT_TRUE(j.ok()) << r.out;
    return j.ok() ? *j : Json();
  }
  static inline std::string dir_;
};

TEST_F(ReferenceBundleCli, ArtifactVerifyAcceptsBothLayouts) {
  for (const char* b : {"ref_dir", "ref_single"}) {
    Cmd v = sh(bin() + " artifact verify --artifact " + dir_ + "/" + b);
    EXPECT_EQ(v.rc, 0) << b << ": " << v.out;
    EXPECT_EQ(v.out.find("warning"), std::string::npos) << v.out;
  }
  // The manifest really is the reference's: compact, the inspect type names, no `layer`.
  auto text = read_file(dir_ + "/ref_dir/manifest.json");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->find('\n'), std::string::npos);
  EXPECT_NE(text->find("\"type\":\"{:bf, 16}\""), std::string::npos);
  EXPECT_EQ(text->find("\"layer\""), std::string::npos);
}

TEST_F(ReferenceBundleCli, RoutesIdenticallyToTrinitysOwnManifest) {
  for (const char* profile : {"reference", "cpu", "cpu-bf16"}) {
    for (const char* prompt : {"Prove that sqrt(2) is irrational.", "hello world",
                               "Write a haiku about routers, then check it."}) {
      const Json own = route("own", prompt, profile);
      for (const char* b : {"ref_dir", "ref_single"}) {
        const Json ref = route(b, prompt, profile);
        EXPECT_EQ(ref["agent_id"], own["agent_id"]) << b << " " << profile;
        EXPECT_EQ(ref["role_id"], own["role_id"]) << b << " " << profile;
        EXPECT_EQ(ref["agent_logits"], own["agent_logits"]) << b << " " << profile;
        EXPECT_EQ(ref["role_logits"], own["role_logits"]) << b << " " << profile;
        EXPECT_EQ(ref["route_hash"], own["route_hash"]) << b << " " << profile;
      }
    }
  }
}

TEST_F(ReferenceBundleCli, EvalPassesAgainstTheOwnBundlesSnapshot) {
  const std::string cases = std::string(TRINITY_SOURCE_DIR) + "/evals/router_cases.json";
  const std::string snap = dir_ + "/own_snapshot.json";
  const std::string common = bin() + " eval --base " + dir_ + "/model --cases " + cases +
                             " --profile cpu --min-agent-margin 0 --min-role-margin 0 --json";
  // Expectations in the cases file come from another model: only the snapshot is compared.
  Cmd own = sh(common + " --artifact " + dir_ + "/own --snapshot-out " + snap, false);
  ASSERT_TRUE(file_exists(snap)) << own.out;
  auto own_j = parse_json(own.out, "eval own");
  ASSERT_TRUE(own_j.ok()) << own.out;
  for (const char* b : {"ref_dir", "ref_single"}) {
    Cmd ref = sh(common + " --artifact " + dir_ + "/" + b + " --snapshot " + snap, false);
    auto ref_j = parse_json(ref.out, "eval ref");
    ASSERT_TRUE(ref_j.ok()) << ref.out;
    EXPECT_EQ(ref.rc, own.rc) << ref.out;
    ASSERT_EQ((*ref_j)["cases"].size(), (*own_j)["cases"].size());
    for (size_t i = 0; i < (*own_j)["cases"].size(); ++i) {
      const Json& a = (*own_j)["cases"][i]["decision"];
      const Json& r = (*ref_j)["cases"][i]["decision"];
      EXPECT_EQ(r["agent_id"], a["agent_id"]) << b << " case " << i;
      EXPECT_EQ(r["role_id"], a["role_id"]) << b << " case " << i;
      EXPECT_EQ(r["agent_logits"], a["agent_logits"]) << b << " case " << i;
      EXPECT_EQ(r["route_hash"], a["route_hash"]) << b << " case " << i;
      const Json& snap_check = (*ref_j)["cases"][i]["snapshot"];
      EXPECT_EQ(snap_check["checked"], true) << b << " case " << i;
      EXPECT_TRUE(snap_check["mismatches"].empty()) << b << " case " << i << ": " << snap_check;
    }
  }
}

}  // namespace
}  // namespace trinity
