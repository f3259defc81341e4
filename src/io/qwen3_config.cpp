#include "io/qwen3_config.h"

#include "core/file_util.h"

namespace trinity {

namespace {

Status positive(const Json& j, const char* key, const std::string& what, int64_t* out) {
  TRINITY_ASSIGN_OR_RETURN(*out, json_int(j, key, what));
  if (*out <= 0)
    return invalid_argument(what + ": '" + key + "' must be positive, got " + std::to_string(*out));
  return ok_status();
}

bool is_set(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && !it->is_null();
}

}  // namespace

Result<Qwen3Config> parse_qwen3_config(const Json& j, const std::string& what) {
  if (!j.is_object()) return parse_error(what + ": config must be a JSON object");
  if (is_set(j, "model_type")) {
    TRINITY_ASSIGN_OR_RETURN(std::string mt, json_string(j, "model_type", what));
    if (mt != "qwen3")
      return unsupported(what + ": model_type '" + mt + "' is not supported (only 'qwen3')");
  }
  if (is_set(j, "architectures")) {
    const Json& a = j["architectures"];
    if (!a.is_array() || a.empty() || !a[0].is_string())
      return parse_error(what + ": 'architectures' must be a non-empty array of strings");
    std::string arch = a[0].get<std::string>();
    if (arch != "Qwen3ForCausalLM" && arch != "Qwen3Model")
      return unsupported(what + ": architecture '" + arch + "' is not supported");
  }
  if (is_set(j, "rope_scaling"))
    return unsupported(what + ": 'rope_scaling' is set; RoPE scaling is not supported");
  if (is_set(j, "attention_bias") && (!j["attention_bias"].is_boolean() || j["attention_bias"]))
    return unsupported(what + ": 'attention_bias' true is not supported");
  if (is_set(j, "use_sliding_window") && j["use_sliding_window"].is_boolean() &&
      j["use_sliding_window"].get<bool>())
    return unsupported(what + ": 'use_sliding_window' true is not supported");
  if (is_set(j, "hidden_act")) {
    TRINITY_ASSIGN_OR_RETURN(std::string act, json_string(j, "hidden_act", what));
    if (act != "silu") return unsupported(what + ": hidden_act '" + act + "' (only 'silu')");
  }
  Qwen3Config c;
  TRINITY_RETURN_IF_ERROR(positive(j, "hidden_size", what, &c.hidden_size));
  TRINITY_RETURN_IF_ERROR(positive(j, "intermediate_size", what, &c.intermediate_size));
  TRINITY_RETURN_IF_ERROR(positive(j, "num_hidden_layers", what, &c.num_hidden_layers));
  TRINITY_RETURN_IF_ERROR(positive(j, "num_attention_heads", what, &c.num_attention_heads));
  TRINITY_RETURN_IF_ERROR(positive(j, "num_key_value_heads", what, &c.num_key_value_heads));
  TRINITY_RETURN_IF_ERROR(positive(j, "head_dim", what, &c.head_dim));
  TRINITY_RETURN_IF_ERROR(positive(j, "vocab_size", what, &c.vocab_size));
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    return invalid_argument(what + ": num_attention_heads (" +
                            std::to_string(c.num_attention_heads) +
                            ") must be a multiple of num_key_value_heads (" +
                            std::to_string(c.num_key_value_heads) + ")");
  if (c.head_dim % 2 != 0)
    return invalid_argument(what + ": head_dim must be even for RoPE, got " +
                            std::to_string(c.head_dim));
  if (c.hidden_size > (1 << 20) || c.intermediate_size > (1 << 22) || c.num_hidden_layers > 4096 ||
      c.vocab_size > (1 << 24) || c.head_dim > 4096 || c.num_attention_heads > 4096)
    return invalid_argument(what + ": dimensions are implausibly large");
  TRINITY_ASSIGN_OR_RETURN(c.rms_norm_eps, json_number(j, "rms_norm_eps", what));
  if (!(c.rms_norm_eps > 0)) return invalid_argument(what + ": 'rms_norm_eps' must be positive");
  TRINITY_ASSIGN_OR_RETURN(c.rope_theta, json_number(j, "rope_theta", what));
  if (!(c.rope_theta > 0)) return invalid_argument(what + ": 'rope_theta' must be positive");
  if (is_set(j, "tie_word_embeddings")) {
    TRINITY_ASSIGN_OR_RETURN(c.tie_word_embeddings, json_bool(j, "tie_word_embeddings", what));
  }
  if (is_set(j, "max_position_embeddings")) {
    TRINITY_RETURN_IF_ERROR(
        positive(j, "max_position_embeddings", what, &c.max_position_embeddings));
  }
  if (is_set(j, "torch_dtype")) {
    TRINITY_ASSIGN_OR_RETURN(c.torch_dtype, json_string(j, "torch_dtype", what));
  }
  return c;
}

Result<Qwen3Config> load_qwen3_config(const std::string& model_dir) {
  const std::string path = join_path(model_dir, "config.json");
  TRINITY_ASSIGN_OR_RETURN(Json j, load_json_file(path));
  return parse_qwen3_config(j, path);
}

Json qwen3_config_to_json(const Qwen3Config& c) {
  Json j;
  j["architectures"] = {"Qwen3ForCausalLM"};
  j["model_type"] = "qwen3";
  j["attention_bias"] = false;
  j["hidden_act"] = "silu";
  j["hidden_size"] = c.hidden_size;
  j["intermediate_size"] = c.intermediate_size;
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["num_attention_heads"] = c.num_attention_heads;
  j["num_key_value_heads"] = c.num_key_value_heads;
  j["head_dim"] = c.head_dim;
  j["vocab_size"] = c.vocab_size;
  j["rms_norm_eps"] = c.rms_norm_eps;
  j["rope_theta"] = c.rope_theta;
  j["rope_scaling"] = nullptr;
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["torch_dtype"] = c.torch_dtype;
  j["use_sliding_window"] = false;
  j["sliding_window"] = nullptr;
  j["bos_token_id"] = 151643;
  j["eos_token_id"] = 151645;
  return j;
}

}  // namespace trinity
