// The weight name table: shape checks name the tensor, tied/untied heads, missing tensors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/file_util.h"
#include "model/synthetic.h"
#include "model/weights.h"

namespace trinity {
namespace {

class WeightsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path().string() + "/trinity_w_" +
           std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::create_directories(dir_);
    c_.hidden_size = 16;
    c_.intermediate_size = 24;
    c_.num_hidden_layers = 2;
    c_.num_attention_heads = 2;
    c_.num_key_value_heads = 1;
    c_.head_dim = 8;
    c_.vocab_size = 50;
    c_.max_position_embeddings = 128;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(bool tied) {
    c_.tie_word_embeddings = tied;
    ThreadPool pool(1);
    ASSERT_TRUE(write_synthetic_checkpoint(dir_, c_, SyntheticOptions{}, pool).ok());
  }
  // Rewrites model.safetensors with one tensor replaced/removed.
  void rewrite(const std::string& name, std::vector<int64_t> shape, bool drop) {
    auto f = SafetensorsFile::open(dir_ + "/model.safetensors");
    ASSERT_TRUE(f.ok());
    std::vector<TensorToWrite> ts;
    std::vector<float> repl;
    for (const auto& t : (*f)->tensors()) {
      if (t.name == name) {
        if (drop) continue;
        int64_t n = 1;
        for (auto d : shape) n *= d;
        repl.assign(static_cast<size_t>(n), 0.5f);
        ts.push_back({t.name, DType::kF32, shape, repl.data(), repl.size() * 4});
        continue;
      }
      ts.push_back({t.name, t.dtype, t.shape, t.data, t.nbytes});
    }
    std::string tmp = dir_ + "/new.safetensors";
    ASSERT_TRUE(write_safetensors(tmp, ts).ok());
    f->reset();
    std::filesystem::rename(tmp, dir_ + "/model.safetensors");
  }
  std::string dir_;
  Qwen3Config c_;
};

TEST_F(WeightsTest, TiedModelWithoutLmHeadUsesTheEmbedding) {
  write(true);
  auto w = load_qwen3_weights(dir_);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ((*w)->lm_head.data, (*w)->embed.data);
  EXPECT_EQ((*w)->layers.size(), 2u);
}

TEST_F(WeightsTest, UntiedModelLoadsItsOwnLmHead) {
  write(false);
  auto w = load_qwen3_weights(dir_);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_NE((*w)->lm_head.data, (*w)->embed.data);
  EXPECT_EQ((*w)->lm_head.shape, (std::vector<int64_t>{50, 16}));
}

TEST_F(WeightsTest, WrongShapeNamesTensorExpectedAndGot) {
  write(true);
  rewrite("model.layers.1.self_attn.k_proj.weight", {9, 16}, false);
  auto w = load_qwen3_weights(dir_);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find(
                "tensor model.layers.1.self_attn.k_proj.weight: expected [8, 16], got [9, 16]"),
            std::string::npos)
      << w.status().message();
}

TEST_F(WeightsTest, MissingTensorIsNamed) {
  write(true);
  rewrite("model.layers.0.self_attn.q_norm.weight", {}, true);
  auto w = load_qwen3_weights(dir_);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("model.layers.0.self_attn.q_norm.weight"), std::string::npos);
}

TEST_F(WeightsTest, MixedDtypesAreRejected) {
  write(true);
  {
    // bf16 checkpoint with one matrix in f32
    c_.tie_word_embeddings = true;
    ThreadPool pool(1);
    SyntheticOptions o;
    o.dtype = DType::kBF16;
    ASSERT_TRUE(write_synthetic_checkpoint(dir_, c_, o, pool).ok());
  }
  rewrite("model.layers.0.mlp.up_proj.weight", {24, 16}, false);
  auto w = load_qwen3_weights(dir_);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("mixed-dtype"), std::string::npos);
}

TEST_F(WeightsTest, NameTableSpellsTheHuggingFaceNames) {
  Qwen3Weights w;
  w.config = c_;
  w.layers.resize(2);
  std::vector<std::string> names;
  std::vector<std::vector<int64_t>> shapes;
  for (const auto& s : w.slots()) names.push_back(s.hf_name), shapes.push_back(s.expected_shape);
  ASSERT_EQ(names.size(), 2u + 2u * kLayerTensorCount);
  EXPECT_EQ(names.front(), "model.embed_tokens.weight");
  EXPECT_EQ(names.back(), "model.norm.weight");
  const std::vector<std::string> layer1(names.begin() + 1 + kLayerTensorCount, names.end() - 1);
  EXPECT_EQ(layer1, (std::vector<std::string>{
                        "model.layers.1.input_layernorm.weight",
                        "model.layers.1.self_attn.q_proj.weight",
                        "model.layers.1.self_attn.k_proj.weight",
                        "model.layers.1.self_attn.v_proj.weight",
                        "model.layers.1.self_attn.o_proj.weight",
                        "model.layers.1.self_attn.q_norm.weight",
                        "model.layers.1.self_attn.k_norm.weight",
                        "model.layers.1.post_attention_layernorm.weight",
                        "model.layers.1.mlp.gate_proj.weight",
                        "model.layers.1.mlp.up_proj.weight",
                        "model.layers.1.mlp.down_proj.weight",
                    }));
  EXPECT_EQ(shapes[2], (std::vector<int64_t>{16, 16}));   // q_proj [heads * head_dim, hidden]
  EXPECT_EQ(shapes[5], (std::vector<int64_t>{16, 16}));   // o_proj
  EXPECT_EQ(shapes[6], (std::vector<int64_t>{8}));        // q_norm
  EXPECT_EQ(shapes[11], (std::vector<int64_t>{16, 24}));  // down_proj
  EXPECT_EQ(layer_tensor_name(7, LayerTensor::kVProj), "model.layers.7.self_attn.v_proj.weight");
  EXPECT_STREQ(kHfLmHeadName, "lm_head.weight");
}

TEST_F(WeightsTest, MissingConfigIsAnError) {
  auto w = load_qwen3_weights(dir_);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("config.json"), std::string::npos);
}

}  // namespace
}  // namespace trinity
