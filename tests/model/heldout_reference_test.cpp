// The reference forward against an independent float64 numpy implementation
// (tools/qwen3_reference.py) on checkpoints of other shapes: untied, sharded, GQA ratio 3,
// head_dim != hidden/heads, f32 and bf16 weights. Tolerance 1e-5 relative L2 per row: both
// sides use the stored weights exactly; the f32 activations of ours add ~1e-7..1e-6.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "core/file_util.h"
#include "io/npy.h"
#include "model/cpu_test_util.h"
#include "model/forward.h"
#include "model/synthetic.h"

namespace trinity {
namespace {

struct Shape {
  const char* name;
  int64_t hidden, inter, layers, heads, kv, head_dim, vocab;
  bool tied, sharded;
  DType dtype;
};

// Splits model.safetensors into two shards + model.safetensors.index.json.
void shard(const std::string& dir) {
  auto f = SafetensorsFile::open(dir + "/model.safetensors");
  ASSERT_TRUE(f.ok());
  std::vector<TensorToWrite> a, b;
  Json wm = Json::object();
  for (size_t i = 0; i < (*f)->tensors().size(); ++i) {
    const TensorView& t = (*f)->tensors()[i];
    (i % 2 ? a : b).push_back({t.name, t.dtype, t.shape, t.data, t.nbytes});
    wm[t.name] = i % 2 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  ASSERT_TRUE(write_safetensors(dir + "/model-00001-of-00002.safetensors", a).ok());
  ASSERT_TRUE(write_safetensors(dir + "/model-00002-of-00002.safetensors", b).ok());
  ASSERT_TRUE(write_file_atomic(dir + "/model.safetensors.index.json",
                                Json({{"metadata", Json::object()}, {"weight_map", wm}}).dump())
                  .ok());
  f->reset();
  std::filesystem::remove(dir + "/model.safetensors");
}

class HeldOut : public ::testing::TestWithParam<Shape> {};

TEST_P(HeldOut, MatchesFloat64Numpy) {
  if (std::system("/usr/bin/python3 -c 'import numpy' 2>/dev/null") != 0)
    GTEST_SKIP() << "Debian python3-numpy is not installed (scripts/setup.sh installs it)";
  const Shape s = GetParam();
  const std::string dir = std::filesystem::temp_directory_path().string() + "/trinity_heldout_" +
                          s.name + "_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  Qwen3Config c;
  c.hidden_size = s.hidden;
  c.intermediate_size = s.inter;
  c.num_hidden_layers = s.layers;
  c.num_attention_heads = s.heads;
  c.num_key_value_heads = s.kv;
  c.head_dim = s.head_dim;
  c.vocab_size = s.vocab;
  c.tie_word_embeddings = s.tied;
  c.max_position_embeddings = 4096;
  SyntheticOptions opt;
  opt.seed = 7;
  opt.dtype = s.dtype;
  opt.matrix_std = 0.08;  // larger than 0.02 so attention is far from uniform
  ThreadPool pool(2);
  ASSERT_TRUE(write_synthetic_checkpoint(dir, c, opt, pool).ok());
  if (s.sharded) shard(dir);

  std::vector<int32_t> ids;
  for (int i = 0; i < 37; ++i) ids.push_back(static_cast<int32_t>((i * 7919 + 13) % s.vocab));
  ASSERT_TRUE(write_file_atomic(dir + "/ids.json", Json(ids).dump()).ok());
  const std::string cmd = "/usr/bin/python3 " + std::string(TRINITY_SOURCE_DIR) +
                          "/tools/qwen3_reference.py " + dir + " " + dir + "/ids.json " + dir +
                          "/ref.npy";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto want = read_npy(dir + "/ref.npy");
  ASSERT_TRUE(want.ok()) << want.status().message();
  auto w = load_qwen3_weights(dir);
  ASSERT_TRUE(w.ok()) << w.status().message();
  std::vector<float> got(ids.size() * s.hidden);
  ASSERT_TRUE(forward_reference(**w, ids, got.data()).ok());
  const std::vector<float> ref = want->to_f32();
  EXPECT_LE(testing_cpu::max_row_rel_l2(got.data(), ref.data(), static_cast<int64_t>(ids.size()),
                                        s.hidden),
            1e-5)
      << s.name;
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, HeldOut,
    ::testing::Values(Shape{"untied_gqa3_f32", 48, 72, 3, 6, 2, 20, 311, false, false, DType::kF32},
                      Shape{"sharded_bf16", 40, 96, 2, 4, 4, 16, 257, true, true, DType::kBF16},
                      Shape{"odd_hidden_f32", 33, 50, 2, 3, 1, 14, 300, true, true, DType::kF32},
                      Shape{"untied_bf16", 64, 128, 2, 8, 2, 12, 260, false, false, DType::kBF16}),
    [](const ::testing::TestParamInfo<Shape>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace trinity
