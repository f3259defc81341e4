#include "adapt/svf_targets.h"

#include <algorithm>

#include "model/weights.h"

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
  const std::vector<int64_t> vocab_shape = {c.vocab_size, c.hidden_size};
  const std::string bp = "decoder.blocks." + std::to_string(layer) + ".";
  // The seven layer kernels: bundle path suffix and HF source (model/weights.h names them).
  auto kernel = [&](int index, const char* bundle_suffix, LayerTensor src) {
    return SvfTarget{index, bp + bundle_suffix, layer_tensor_name(layer, src),
                     layer_tensor_shape(c, src), true};
  };
  std::vector<SvfTarget> t = {
      {1, "embedder.token_embedding.kernel", kHfEmbedName, vocab_shape, false},
      kernel(2, "self_attention.query.kernel", LayerTensor::kQProj),
      kernel(3, "self_attention.key.kernel", LayerTensor::kKProj),
      kernel(4, "self_attention.value.kernel", LayerTensor::kVProj),
      kernel(5, "self_attention.output.kernel", LayerTensor::kOProj),
      kernel(6, "ffn.gate.kernel", LayerTensor::kGateProj),
      kernel(7, "ffn.intermediate.kernel", LayerTensor::kUpProj),
      kernel(8, "ffn.output.kernel", LayerTensor::kDownProj),
      {9, "language_modeling_head.output.kernel",
       c.tie_word_embeddings ? kHfEmbedName : kHfLmHeadName, vocab_shape, false},
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
