#include "adapt/svf_targets.h"

#include <algorithm>

namespace trinity {

std::string SvfTarget::checkpoint_file() const {
  char idx[8];
  std::snprintf(idx, sizeof(idx), "%04d", index);
  std::string safe = path;
  for (char& ch : safe) {
    const bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
    if (!ok) ch = '_';
  }
  return std::string(idx) + "_" + safe + ".safetensors";
}

std::vector<SvfTarget> svf_targets(const Qwen3Config& c, int64_t layer) {
  if (layer < 0) layer = c.num_hidden_layers - 2;
  const int64_t h = c.hidden_size, q = c.q_dim(), kv = c.kv_dim(), im = c.intermediate_size;
  const std::string L = std::to_string(layer);
  const std::string hf = "model.layers." + L + ".";
  const std::string bp = "decoder.blocks." + L + ".";
  std::vector<SvfTarget> t = {
      {1, "embedder.token_embedding.kernel", "model.embed_tokens.weight", {c.vocab_size, h}, false},
      {2, bp + "self_attention.query.kernel", hf + "self_attn.q_proj.weight", {q, h}, true},
      {3, bp + "self_attention.key.kernel", hf + "self_attn.k_proj.weight", {kv, h}, true},
      {4, bp + "self_attention.value.kernel", hf + "self_attn.v_proj.weight", {kv, h}, true},
      {5, bp + "self_attention.output.kernel", hf + "self_attn.o_proj.weight", {h, q}, true},
      {6, bp + "ffn.gate.kernel", hf + "mlp.gate_proj.weight", {im, h}, true},
      {7, bp + "ffn.intermediate.kernel", hf + "mlp.up_proj.weight", {im, h}, true},
      {8, bp + "ffn.output.kernel", hf + "mlp.down_proj.weight", {h, im}, true},
      {9,
       "language_modeling_head.output.kernel",
       c.tie_word_embeddings ? "model.embed_tokens.weight" : "lm_head.weight",
       {c.vocab_size, h},
       false},
  };
  int64_t off = 0;
  for (auto& x : t) {
    x.k = std::min(x.hf_shape[0], x.hf_shape[1]);
    x.offset_start = off;
    off += x.k;
    x.offset_end = off;
  }
  return t;
}

int64_t svf_offset_count(const std::vector<SvfTarget>& targets) {
  return targets.empty() ? 0 : targets.back().offset_end;
}

int64_t router_vector_length(const Qwen3Config& c, const std::vector<SvfTarget>& targets) {
  return svf_offset_count(targets) + kRouterHeadRows * c.hidden_size;
}

}  // namespace trinity
