#include <gtest/gtest.h>

#include "core/json.h"
#include "io/npy.h"
#include "io/qwen3_config.h"

namespace trinity {
namespace {

Json base_config() {
  return Json::parse(R"({"model_type": "qwen3", "architectures": ["Qwen3ForCausalLM"],
    "hidden_size": 32, "intermediate_size": 80, "num_hidden_layers": 4, "num_attention_heads": 4,
    "num_key_value_heads": 2, "head_dim": 12, "vocab_size": 151936, "rms_norm_eps": 1e-6,
    "rope_theta": 1000000, "tie_word_embeddings": true, "max_position_embeddings": 40960,
    "torch_dtype": "float32", "rope_scaling": null, "attention_bias": false,
    "use_sliding_window": false, "sliding_window": null})");
}

TEST(Qwen3Config, ParsesAllFieldsAndKeepsHeadDimFromFile) {
  auto c = parse_qwen3_config(base_config(), "config.json");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->head_dim, 12);  // not hidden / heads = 8
  EXPECT_EQ(c->q_dim(), 48);
  EXPECT_EQ(c->kv_dim(), 24);
  EXPECT_TRUE(c->tie_word_embeddings);
  EXPECT_DOUBLE_EQ(c->rope_theta, 1e6);
  EXPECT_EQ(c->torch_dtype, "float32");
}

TEST(Qwen3Config, RejectsUnsupportedFeaturesNamingTheField) {
  struct Case {
    const char* key;
    Json value;
  };
  std::vector<Case> cases = {{"rope_scaling", Json::parse(R"({"type": "yarn", "factor": 4})")},
                             {"attention_bias", true},
                             {"use_sliding_window", true},
                             {"model_type", "llama"},
                             {"hidden_act", "gelu"}};
  for (const auto& c : cases) {
    Json j = base_config();
    j[c.key] = c.value;
    auto r = parse_qwen3_config(j, "config.json");
    ASSERT_FALSE(r.ok()) << c.key;
    EXPECT_NE(r.status().message().find(c.key), std::string::npos) << r.status().message();
  }
}

TEST(Qwen3Config, RejectsMissingAndInvalidFields) {
  Json j = base_config();
  j.erase("head_dim");
  auto r = parse_qwen3_config(j, "config.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'head_dim' is missing"), std::string::npos);
  j = base_config();
  j["num_key_value_heads"] = 3;
  EXPECT_FALSE(parse_qwen3_config(j, "config.json").ok());
  j = base_config();
  j["hidden_size"] = "32";
  EXPECT_FALSE(parse_qwen3_config(j, "config.json").ok());
  j = base_config();
  j["hidden_size"] = 0;
  EXPECT_FALSE(parse_qwen3_config(j, "config.json").ok());
}

TEST(Npy, RoundTripF32) {
  std::vector<float> v = {1, 2, 3, 4, 5, 6};
  std::string bytes = npy_f32_bytes(v.data(), {2, 3});
  EXPECT_EQ((bytes.size() - v.size() * 4) % 64, 0u);
  auto a = parse_npy(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "t.npy");
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a->to_f32(), v);
  std::string one = npy_f32_bytes(v.data(), {6});
  EXPECT_NE(one.find("(6,)"), std::string::npos);
}

TEST(Npy, ReadsVersion2And3HeadersAndF64) {
  for (uint8_t major : {2, 3}) {
    std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
    dict.append(64 - (12 + dict.size() + 1) % 64, ' ');
    dict.push_back('\n');
    std::string b = "\x93NUMPY";
    b.push_back(static_cast<char>(major));
    b.push_back('\0');
    uint32_t n = static_cast<uint32_t>(dict.size());
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<char>(n >> (8 * i)));
    b += dict;
    double vals[2] = {0.5, -1.25};
    b.append(reinterpret_cast<const char*>(vals), 16);
    auto a = parse_npy(reinterpret_cast<const uint8_t*>(b.data()), b.size(), "v.npy");
    ASSERT_TRUE(a.ok()) << a.status().message();
    EXPECT_EQ(a->to_f64(), (std::vector<double>{0.5, -1.25}));
  }
}

TEST(Npy, RejectsMalformedHeaders) {
  auto bad = [](std::string dict, const char* expect) {
    std::string b = "\x93NUMPY\x01";
    b.push_back('\0');
    b.push_back(static_cast<char>(dict.size()));
    b.push_back('\0');
    b += dict;
    auto a = parse_npy(reinterpret_cast<const uint8_t*>(b.data()), b.size(), "bad.npy");
    ASSERT_FALSE(a.ok()) << dict;
    EXPECT_NE(a.status().message().find(expect), std::string::npos) << a.status().message();
  };
  bad("{'descr': '>f4', 'fortran_order': False, 'shape': (0,), }", "big-endian");
  bad("{'descr': '<f4', 'fortran_order': True, 'shape': (0,), }", "Fortran");
  bad("{'descr': '<c8', 'fortran_order': False, 'shape': (0,), }", "unsupported");
  bad("{'descr': '<f4', 'shape': (0,), }", "needs");
  bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", "shape needs 8");
  bad("garbage", "header");
  auto a = parse_npy(reinterpret_cast<const uint8_t*>("NUMPY"), 5, "x.npy");
  EXPECT_FALSE(a.ok());
}

}  // namespace
}  // namespace trinity
