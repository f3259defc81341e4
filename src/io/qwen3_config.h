// config.json of a Hugging Face Qwen3 checkpoint -> a validated config struct.
#pragma once

#include <cstdint>
#include <string>

#include "core/json.h"
#include "core/status.h"

namespace trinity {

struct Qwen3Config {
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;  // read from the file; Qwen3 does not derive it from hidden/heads
  int64_t vocab_size = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 1e6;
  bool tie_word_embeddings = false;
  int64_t max_position_embeddings = 0;
  std::string torch_dtype;  // "float32", "bfloat16", "float16" (informational)

  int64_t q_dim() const { return num_attention_heads * head_dim; }
  int64_t kv_dim() const { return num_key_value_heads * head_dim; }
  int64_t kv_groups() const { return num_attention_heads / num_key_value_heads; }
};

// Parses and validates; unsupported features (rope_scaling, attention_bias, an active sliding
// window, other model types or activations) are rejected with an error naming the field.
Result<Qwen3Config> parse_qwen3_config(const Json& j, const std::string& what);
Result<Qwen3Config> load_qwen3_config(const std::string& model_dir);

Json qwen3_config_to_json(const Qwen3Config& c);

}  // namespace trinity
