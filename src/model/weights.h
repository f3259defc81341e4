// Qwen3 weights: one name table maps every Hugging Face tensor name to a slot, each shape is
// checked at load, and tensors stay in their stored dtype (zero-copy views into the mmap'ed
// checkpoint). A slot can be replaced by an owned tensor (SVF-adapted weights).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "io/qwen3_config.h"
#include "io/safetensors.h"

namespace trinity {

// A weight in its stored dtype. HF orientation: matrices are [out, in] row-major.
struct Weight {
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  std::shared_ptr<const void> owner;  // keeps an owned buffer alive; null for mmap views

  int64_t rows() const { return shape.empty() ? 0 : shape[0]; }
  int64_t cols() const { return shape.size() < 2 ? 1 : shape[1]; }
  int64_t numel() const { return rows() * cols(); }
  bool empty() const { return data == nullptr; }
  // Element i widened to f32.
  float at(int64_t i) const;
  // Copies row r (cols() elements) widened to f32 into out.
  void row_to_f32(int64_t r, float* out) const;
  TensorView view(const std::string& name) const;
};

// Makes an owned weight from f32 values, stored as `dtype` (bf16: round to nearest even).
Weight make_owned_weight(const std::vector<float>& values, std::vector<int64_t> shape, DType dtype);

struct Qwen3Layer {
  Weight input_norm;                      // [hidden]
  Weight q_proj, k_proj, v_proj, o_proj;  // [q_dim, hidden], [kv_dim, hidden] x2, [hidden, q_dim]
  Weight q_norm, k_norm;                  // [head_dim]
  Weight post_norm;                       // [hidden]
  Weight gate_proj, up_proj;              // [intermediate, hidden]
  Weight down_proj;                       // [hidden, intermediate]
};

struct Qwen3Weights {
  Qwen3Config config;
  std::string dir;
  Weight embed;  // [vocab, hidden]
  std::vector<Qwen3Layer> layers;
  Weight final_norm;                  // [hidden]
  Weight lm_head;                     // [vocab, hidden]; for tied models the embedding (same data)
  DType storage_dtype = DType::kF32;  // dtype of the checkpoint's matrices
  std::shared_ptr<Checkpoint> checkpoint;  // keeps the mmaps alive

  // Every weight slot with its HF name, in a fixed order (the name table).
  struct Slot {
    std::string hf_name;
    Weight* weight;
    std::vector<int64_t> expected_shape;
  };
  std::vector<Slot> slots();
};

// Loads config.json and the safetensors checkpoint (single file or sharded) of `dir`.
// Errors: "tensor X: expected [a, b], got [c, d]", missing tensors, mixed/unsupported dtypes.
Result<std::shared_ptr<Qwen3Weights>> load_qwen3_weights(const std::string& dir);

// The Hugging Face tensor names: the one table, used by the weight slots here and by the SVF
// targets in adapt.
inline constexpr const char* kHfEmbedName = "model.embed_tokens.weight";
inline constexpr const char* kHfFinalNormName = "model.norm.weight";
inline constexpr const char* kHfLmHeadName = "lm_head.weight";

// The tensors of one decoder layer, in slot order.
enum class LayerTensor {
  kInputNorm,
  kQProj,
  kKProj,
  kVProj,
  kOProj,
  kQNorm,
  kKNorm,
  kPostNorm,
  kGateProj,
  kUpProj,
  kDownProj,
};
inline constexpr int kLayerTensorCount = 11;

// "self_attn.q_proj.weight"
const char* layer_tensor_suffix(LayerTensor t);
// The HF name of layer i's tensor: "model.layers.<i>.self_attn.q_proj.weight".
std::string layer_tensor_name(int64_t layer, LayerTensor t);
// Its HF shape: [q_dim, hidden] for q_proj, [head_dim] for q_norm, ...
std::vector<int64_t> layer_tensor_shape(const Qwen3Config& c, LayerTensor t);

}  // namespace trinity
