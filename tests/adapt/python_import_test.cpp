// `import python`: a router vector written in the Python (Sakana) exporter's layout comes back
// bit for bit; malformed exports fail naming the file and the field or tensor.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "adapt/python_import.h"
#include "common/python_export.h"
#include "core/file_util.h"
#include "core/json.h"

namespace trinity {
namespace {

constexpr int64_t kHidden = 1024, kK = 1024;

class PythonImport : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/python_import_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::mt19937 rng(7);
    std::normal_distribution<float> n(0.f, 0.05f);
    vector_.resize(9 * kK + 10 * kHidden);
    for (float& x : vector_) x = n(rng);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void write_export(Json manifest_patch = Json::object()) {
    ASSERT_TRUE(write_python_export(dir_, vector_, kHidden, manifest_patch).ok());
  }

  std::string error_of_import() {
    auto r = import_python_export(dir_);
    return r.ok() ? std::string("(imported)") : r.status().message();
  }

  std::string dir_;
  std::vector<float> vector_;
};

TEST_F(PythonImport, RoundTripsTheVectorBitForBit) {
  write_export();
  auto r = import_python_export(dir_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->offset_count, 9 * kK);
  EXPECT_EQ(r->rows, 10);
  EXPECT_EQ(r->hidden, kHidden);
  ASSERT_EQ(r->vector.size(), vector_.size());
  EXPECT_EQ(r->vector, vector_);
  ASSERT_EQ(r->parameters.size(), 9u);
  EXPECT_EQ(r->parameters.front(), "model.embed_tokens.weight");
  EXPECT_EQ(r->parameters.back(), "lm_head.weight");
}

TEST_F(PythonImport, MalformedExportsNameTheFileAndField) {
  write_export({{"format", "something_else"}});
  EXPECT_NE(error_of_import().find(std::string(kPythonManifest) + ": format"), std::string::npos);

  write_export({{"routing", {{"head_shape", {9, kHidden}}}}});
  EXPECT_NE(error_of_import().find("routing.head_shape"), std::string::npos) << error_of_import();

  write_export({{"svf", {{"scale_parameter_count", 9 * kK + 1}}}});
  EXPECT_NE(error_of_import().find("head_offset_start/end"), std::string::npos)
      << error_of_import();

  write_export();
  std::filesystem::remove(dir_ + "/" + kPythonComponents);
  EXPECT_NE(error_of_import().find(kPythonComponents), std::string::npos) << error_of_import();

  write_export();
  vector_[5] = std::nanf("");
  write_export();
  EXPECT_NE(error_of_import().find("NaN or Inf"), std::string::npos) << error_of_import();
}

TEST_F(PythonImport, EntriesMustTileTheOffsets) {
  write_export();
  auto m = load_json_file(dir_ + "/" + kPythonManifest);
  ASSERT_TRUE(m.ok());
  (*m)["svf"]["entries"][3]["offset_start"] = 5 * kK + 1;  // a gap and an overlap
  (*m)["svf"]["entries"][3]["offset_end"] = 6 * kK + 1;
  ASSERT_TRUE(write_file_atomic(dir_ + "/" + kPythonManifest, m->dump()).ok());
  const std::string e = error_of_import();
  EXPECT_NE(e.find("svf.entries"), std::string::npos) << e;
  EXPECT_NE(e.find("expected"), std::string::npos) << e;
}

}  // namespace
}  // namespace trinity
