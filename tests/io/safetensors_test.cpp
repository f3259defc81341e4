// safetensors reader/writer: round trip, sharded checkpoints, and every malformed-file class
// the reader must reject with a clean error naming the file (and tensor).
#include "io/safetensors.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "core/file_util.h"

namespace trinity {
namespace {

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("trinity_st_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& f) const { return (dir_ / f).string(); }

  // A raw file: u64 header length + header + data.
  std::string raw(const std::string& header, const std::string& data, int64_t len_override = -1) {
    uint64_t n = len_override >= 0 ? static_cast<uint64_t>(len_override) : header.size();
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(n >> (8 * i));
    return out + header + data;
  }
  Status open_raw(const std::string& bytes) {
    EXPECT_TRUE(write_file_atomic(path("x.safetensors"), bytes).ok());
    return SafetensorsFile::open(path("x.safetensors")).status();
  }

  std::filesystem::path dir_;
};

TEST_F(SafetensorsTest, RoundTripKeepsValuesShapesAndMetadata) {
  std::vector<float> a = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -1.0f};
  std::vector<uint16_t> b = {f32_to_bf16(1.0f), f32_to_bf16(-0.5f), f32_to_bf16(3.0f)};
  ASSERT_TRUE(write_safetensors(path("m.safetensors"),
                                {{"a", DType::kF32, {2, 3}, a.data(), a.size() * 4},
                                 {"b", DType::kBF16, {3}, b.data(), b.size() * 2}},
                                {{"format", "pt"}})
                  .ok());
  auto f = SafetensorsFile::open(path("m.safetensors"));
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ((*f)->metadata().at("format"), "pt");
  const TensorView* ta = (*f)->find("a");
  ASSERT_NE(ta, nullptr);
  EXPECT_EQ(ta->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(ta->data) % 8, 0u) << "data must stay 8-byte aligned";
  EXPECT_EQ(std::memcmp(ta->data, a.data(), 24), 0);
  const TensorView* tb = (*f)->find("b");
  ASSERT_NE(tb, nullptr);
  std::vector<float> bf(3);
  tensor_to_f32(*tb, bf.data());
  EXPECT_EQ(bf, (std::vector<float>{1.0f, -0.5f, 3.0f}));
  EXPECT_EQ((*f)->find("missing"), nullptr);
}

TEST_F(SafetensorsTest, ShardedCheckpointViaIndex) {
  std::vector<float> a = {1, 2}, b = {3, 4, 5};
  ASSERT_TRUE(
      write_safetensors(path("s1.safetensors"), {{"a", DType::kF32, {2}, a.data(), 8}}).ok());
  ASSERT_TRUE(
      write_safetensors(path("s2.safetensors"), {{"b", DType::kF32, {3}, b.data(), 12}}).ok());
  ASSERT_TRUE(
      write_file_atomic(
          path("model.safetensors.index.json"),
          R"({"metadata": {}, "weight_map": {"a": "s1.safetensors", "b": "s2.safetensors"}})")
          .ok());
  auto ck = Checkpoint::open_dir(dir_.string());
  ASSERT_TRUE(ck.ok()) << ck.status().message();
  ASSERT_NE(ck->find("b"), nullptr);
  EXPECT_EQ(ck->find("b")->shape, (std::vector<int64_t>{3}));
  EXPECT_NE(ck->file_of("b").find("s2.safetensors"), std::string::npos);
  EXPECT_EQ(ck->names().size(), 2u);
}

TEST_F(SafetensorsTest, IndexNamingAMissingTensorIsAnError) {
  std::vector<float> a = {1, 2};
  ASSERT_TRUE(
      write_safetensors(path("s1.safetensors"), {{"a", DType::kF32, {2}, a.data(), 8}}).ok());
  ASSERT_TRUE(
      write_file_atomic(path("model.safetensors.index.json"),
                        R"({"weight_map": {"a": "s1.safetensors", "zz": "s1.safetensors"}})")
          .ok());
  auto ck = Checkpoint::open_dir(dir_.string());
  ASSERT_FALSE(ck.ok());
  EXPECT_NE(ck.status().message().find("'zz'"), std::string::npos);
}

TEST_F(SafetensorsTest, MissingCheckpointIsNotFound) {
  auto ck = Checkpoint::open_dir(dir_.string());
  ASSERT_FALSE(ck.ok());
  EXPECT_EQ(ck.status().code(), ErrorCode::kNotFound);
}

struct Malformed {
  const char* name;
  std::string header;
  std::string data;
  int64_t len_override;
  const char* expect;  // substring of the error
};

TEST_F(SafetensorsTest, MalformedFilesAreCleanErrors) {
  const std::string ok_entry = R"("t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]})";
  std::vector<Malformed> cases = {
      {"too small", "", "", -2, "too small"},
      {"oversized header", "{}", "", 200ull * 1000 * 1000, "100 MB"},
      {"header past eof", "{}", "", 1000, "exceeds the file size"},
      {"bad json", "{\"t\": ", std::string(8, '\0'), -1, "not valid JSON"},
      {"not an object", "[1, 2]", "", -1, "JSON object"},
      {"unknown dtype", R"({"t": {"dtype": "Q4", "shape": [2], "data_offsets": [0, 8]}})",
       std::string(8, '\0'), -1, "unknown dtype 'Q4'"},
      {"size mismatch", R"({"t": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})",
       std::string(8, '\0'), -1, "needs 12 bytes"},
      {"truncated data", "{" + ok_entry + "}", std::string(4, '\0'), -1, "truncated"},
      {"end before begin", R"({"t": {"dtype": "F32", "shape": [0], "data_offsets": [8, 0]}})",
       std::string(8, '\0'), -1, "end < begin"},
      {"overlap",
       R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
       std::string(12, '\0'), -1, "overlap"},
      {"negative shape", R"({"t": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}})",
       std::string(8, '\0'), -1, "non-negative"},
      {"missing offsets", R"({"t": {"dtype": "F32", "shape": [2]}})", std::string(8, '\0'), -1,
       "data_offsets"},
      {"huge shape",
       R"({"t": {"dtype": "F32", "shape": [4294967296, 4294967296, 16], "data_offsets": [0, 8]}})",
       std::string(8, '\0'), -1, "too large"},
      {"bad metadata", R"({"__metadata__": {"k": 1}})", "", -1, "__metadata__"},
  };
  for (const auto& c : cases) {
    std::string bytes =
        c.len_override == -2 ? std::string("abc") : raw(c.header, c.data, c.len_override);
    Status st = open_raw(bytes);
    ASSERT_FALSE(st.ok()) << c.name;
    EXPECT_NE(st.message().find(c.expect), std::string::npos) << c.name << ": " << st.message();
    EXPECT_NE(st.message().find("x.safetensors"), std::string::npos)
        << c.name << ": " << st.message();
  }
}

TEST_F(SafetensorsTest, TruncatedRealFileNeverCrashes) {
  std::vector<float> a(100, 1.0f);
  ASSERT_TRUE(
      write_safetensors(path("full.safetensors"), {{"a", DType::kF32, {100}, a.data(), 400}}).ok());
  auto bytes = read_file(path("full.safetensors"));
  ASSERT_TRUE(bytes.ok());
  for (size_t cut = 0; cut < bytes->size(); cut += 7) {
    Status st = open_raw(bytes->substr(0, cut));
    EXPECT_FALSE(st.ok()) << "cut at " << cut;
  }
}

}  // namespace
}  // namespace trinity
