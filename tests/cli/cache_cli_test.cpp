// The cache from the command line: route --json reports its load stages; a second start reads
// the tokenizer, the bundle's sha256 memos and the packed weights from the cache with the same
// decision; a damaged entry is rebuilt; --no-cache writes nothing; cache list and clear.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "core/file_util.h"
#include "core/json.h"

namespace trinity {
namespace {

namespace fs = std::filesystem;
const std::string kGolden = std::string(TRINITY_TEST_DATA_DIR) + "/golden";

int sh(const std::string& cmd, std::string* out) {
  const std::string file =
      ::testing::TempDir() + "/" + std::to_string(::getpid()) + "_trinity_cache_cli_out.txt";
  const int rc = std::system((cmd + " >'" + file + "' 2>&1").c_str());
  auto r = read_file(file);
  *out = r.ok() ? *r : std::string();
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

class CacheCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/" + std::to_string(::getpid()) + "_trinity_cache_cli";
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string route(const std::string& cache_flags, std::string* out) const {
    const int rc =
        sh(std::string("'") + TRINITY_BINARY + "' route --base '" + kGolden +
               "/model_bf16' --tokenizer '" + TRINITY_TOKENIZER_DIR + "' --vector '" + kGolden +
               "/router_vector.safetensors' --threads 2 --prompt 'What is "
               "2+2?' --json " +
               cache_flags,
           out);
    return rc == 0 ? std::string() : "exit " + std::to_string(rc) + ": " + *out;
  }
  // The decision without the timings.
  static Json decision(const std::string& out) {
    const size_t b = out.find('{');
    auto j = parse_json(b == std::string::npos ? out : out.substr(b), "route --json");
    if (!j.ok()) return Json();
    j->erase("load_ms");
    j->erase("route_ms");
    return *j;
  }
  Json list() const {
    std::string out;
    EXPECT_EQ(
        sh(std::string("'") + TRINITY_BINARY + "' cache list --json --cache-dir '" + dir_ + "'",
           &out),
        0)
        << out;
    auto j = parse_json(out, "cache list --json");
    EXPECT_TRUE(j.ok()) << out;
    return j.ok() ? *j : Json();
  }
  std::string dir_;
};

TEST_F(CacheCli, SecondStartUsesTheCacheWithTheSameDecision) {
  std::string cold, warm;
  ASSERT_EQ(route("--cache-dir '" + dir_ + "'", &cold), "");
  auto j = parse_json(cold, "route --json");
  ASSERT_TRUE(j.ok()) << cold;
  for (const char* stage : {"total", "weights", "adapt", "tokenizer", "engine"})
    EXPECT_TRUE((*j)["load_ms"].contains(stage)) << stage << ": " << cold;
  EXPECT_TRUE(j->contains("route_ms"));
  std::set<std::string> kinds;
  const Json listed = list();
  for (const Json& e : listed["entries"]) kinds.insert(e["kind"].get<std::string>());
  EXPECT_EQ(kinds, (std::set<std::string>{"sha256", "tokenizer", "weights"}));

  ASSERT_EQ(route("--cache-dir '" + dir_ + "'", &warm), "");
  EXPECT_EQ(decision(warm), decision(cold));
  std::string none;
  ASSERT_EQ(route("--no-cache --cache-dir '" + dir_ + "/off'", &none), "");
  EXPECT_EQ(decision(none), decision(cold));
  EXPECT_FALSE(fs::exists(dir_ + "/off"));
}

TEST_F(CacheCli, DamagedEntriesAreRebuiltAndClearEmptiesTheCache) {
  std::string first, again;
  ASSERT_EQ(route("--cache-dir '" + dir_ + "'", &first), "");
  const Json listed = list();
  for (const Json& e : listed["entries"]) {  // flip the last byte of every entry
    std::fstream f(e["path"].get<std::string>(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(e["bytes"].get<uint64_t>() - 1));
    const int c = f.peek();
    f.put(static_cast<char>(c ^ 0x21));
  }
  ASSERT_EQ(route("--cache-dir '" + dir_ + "'", &again), "");
  EXPECT_EQ(decision(again), decision(first));
  EXPECT_NE(again.find("rebuilding it"), std::string::npos) << again;
  std::string out;
  ASSERT_EQ(route("--cache-dir '" + dir_ + "'", &out), "");  // the rebuilt entries are used
  EXPECT_EQ(out.find("rebuilding it"), std::string::npos) << out;
  EXPECT_EQ(decision(out), decision(first));
  ASSERT_EQ(
      sh(std::string("'") + TRINITY_BINARY + "' cache clear --cache-dir '" + dir_ + "'", &out), 0);
  EXPECT_TRUE(list()["entries"].empty());
}

}  // namespace
}  // namespace trinity
