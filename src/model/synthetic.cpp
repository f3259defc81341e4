#include "model/synthetic.h"

#include <cstring>
#include <memory>

#include "core/file_util.h"
#include "core/random.h"
#include "io/safetensors.h"
#include "model/weights.h"

namespace trinity {

Result<Qwen3Config> synthetic_preset(const std::string& name) {
  Qwen3Config c;
  c.vocab_size = 151936;
  c.rms_norm_eps = 1e-6;
  c.rope_theta = 1e6;
  c.max_position_embeddings = 40960;
  c.tie_word_embeddings = true;
  if (name == "tiny") {
    c.hidden_size = 64;
    c.intermediate_size = 160;
    c.num_hidden_layers = 4;
    c.num_attention_heads = 4;
    c.num_key_value_heads = 2;
    c.head_dim = 24;
  } else if (name == "qwen3-0.6b") {
    c.hidden_size = 1024;
    c.intermediate_size = 3072;
    c.num_hidden_layers = 28;
    c.num_attention_heads = 16;
    c.num_key_value_heads = 8;
    c.head_dim = 128;
  } else {
    return invalid_argument("unknown preset '" + name + "' (expected tiny or qwen3-0.6b)");
  }
  return c;
}

Status write_synthetic_checkpoint(const std::string& dir, const Qwen3Config& config,
                                  const SyntheticOptions& opt, ThreadPool& pool) {
  if (opt.dtype != DType::kF32 && opt.dtype != DType::kBF16 && opt.dtype != DType::kF16)
    return invalid_argument("synthetic checkpoints are f32, bf16 or f16");
  Qwen3Config c = config;
  c.torch_dtype = opt.dtype == DType::kF32    ? "float32"
                  : opt.dtype == DType::kBF16 ? "bfloat16"
                                              : "float16";
  // The name table fixes the tensor list and shapes; fill each with its own random stream.
  Qwen3Weights w;
  w.config = c;
  w.layers.resize(static_cast<size_t>(c.num_hidden_layers));
  std::vector<std::vector<uint8_t>> buffers;
  std::vector<TensorToWrite> tensors;
  auto slots = w.slots();
  if (!c.tie_word_embeddings)
    slots.push_back({kHfLmHeadName, &w.lm_head, {c.vocab_size, c.hidden_size}});
  buffers.resize(slots.size());
  const size_t esize = dtype_size(opt.dtype);
  for (size_t si = 0; si < slots.size(); ++si) {
    const auto& slot = slots[si];
    size_t numel = 1;
    for (int64_t d : slot.expected_shape) numel *= static_cast<size_t>(d);
    buffers[si].resize(numel * esize);
    uint8_t* dst = buffers[si].data();
    const bool is_norm = slot.expected_shape.size() == 1;
    const uint64_t stream = si + 1;
    pool.parallel_for(numel, [&](int, size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) {
        const double z = counter_normal(opt.seed, stream, i);
        const float v = static_cast<float>(is_norm ? 1.0 + opt.norm_std * z : opt.matrix_std * z);
        if (opt.dtype == DType::kF32) {
          std::memcpy(dst + 4 * i, &v, 4);
        } else {
          uint16_t h = opt.dtype == DType::kBF16 ? f32_to_bf16(v) : f32_to_f16(v);
          std::memcpy(dst + 2 * i, &h, 2);
        }
      }
    });
    tensors.push_back({slot.hf_name, opt.dtype, slot.expected_shape, dst, buffers[si].size()});
  }
  TRINITY_RETURN_IF_ERROR(write_safetensors(join_path(dir, "model.safetensors"), tensors,
                                            {{"format", "pt"},
                                             {"generator", "trinity make-test-model"},
                                             {"seed", std::to_string(opt.seed)}}));
  TRINITY_RETURN_IF_ERROR(
      write_file_atomic(join_path(dir, "config.json"), qwen3_config_to_json(c).dump(2) + "\n"));
  Json gen = {{"bos_token_id", 151643}, {"eos_token_id", 151645}, {"do_sample", false}};
  return write_file_atomic(join_path(dir, "generation_config.json"), gen.dump(2) + "\n");
}

}  // namespace trinity
