#include "model/weights.h"

#include <cstring>

namespace trinity {

float Weight::at(int64_t i) const {
  const uint8_t* p = data + static_cast<size_t>(i) * dtype_size(dtype);
  uint16_t h;
  switch (dtype) {
    case DType::kF32: {
      float f;
      std::memcpy(&f, p, 4);
      return f;
    }
    case DType::kBF16:
      std::memcpy(&h, p, 2);
      return bf16_to_f32(h);
    case DType::kF16:
      std::memcpy(&h, p, 2);
      return f16_to_f32(h);
    default:
      TRINITY_CHECK(false, "weight of a non-float dtype");
  }
}

void Weight::row_to_f32(int64_t r, float* out) const {
  TensorView v;
  v.dtype = dtype;
  v.shape = {cols()};
  v.data = data + static_cast<size_t>(r * cols()) * dtype_size(dtype);
  v.nbytes = static_cast<size_t>(cols()) * dtype_size(dtype);
  tensor_to_f32(v, out);
}

TensorView Weight::view(const std::string& name) const {
  TensorView v;
  v.name = name;
  v.dtype = dtype;
  v.shape = shape;
  v.data = data;
  v.nbytes = static_cast<size_t>(numel()) * dtype_size(dtype);
  return v;
}

Weight make_owned_weight(const std::vector<float>& values, std::vector<int64_t> shape,
                         DType dtype) {
  Weight w;
  w.dtype = dtype;
  w.shape = std::move(shape);
  const size_t n = values.size();
  auto buf = std::make_shared<std::vector<uint8_t>>(n * dtype_size(dtype));
  for (size_t i = 0; i < n; ++i) {
    uint8_t* p = buf->data() + i * dtype_size(dtype);
    if (dtype == DType::kF32) {
      std::memcpy(p, &values[i], 4);
    } else if (dtype == DType::kBF16) {
      uint16_t h = f32_to_bf16(values[i]);
      std::memcpy(p, &h, 2);
    } else if (dtype == DType::kF16) {
      uint16_t h = f32_to_f16(values[i]);
      std::memcpy(p, &h, 2);
    } else {
      TRINITY_CHECK(false, "make_owned_weight: unsupported dtype");
    }
  }
  w.data = buf->data();
  w.owner = buf;
  return w;
}

namespace {

// The layer name table, indexed by LayerTensor.
struct LayerTensorSpec {
  const char* suffix;
  Weight Qwen3Layer::*slot;
};
constexpr LayerTensorSpec kLayerTensors[kLayerTensorCount] = {
    {"input_layernorm.weight", &Qwen3Layer::input_norm},
    {"self_attn.q_proj.weight", &Qwen3Layer::q_proj},
    {"self_attn.k_proj.weight", &Qwen3Layer::k_proj},
    {"self_attn.v_proj.weight", &Qwen3Layer::v_proj},
    {"self_attn.o_proj.weight", &Qwen3Layer::o_proj},
    {"self_attn.q_norm.weight", &Qwen3Layer::q_norm},
    {"self_attn.k_norm.weight", &Qwen3Layer::k_norm},
    {"post_attention_layernorm.weight", &Qwen3Layer::post_norm},
    {"mlp.gate_proj.weight", &Qwen3Layer::gate_proj},
    {"mlp.up_proj.weight", &Qwen3Layer::up_proj},
    {"mlp.down_proj.weight", &Qwen3Layer::down_proj},
};

const LayerTensorSpec& spec_of(LayerTensor t) {
  return kLayerTensors[static_cast<int>(t)];
}

}  // namespace

const char* layer_tensor_suffix(LayerTensor t) {
  return spec_of(t).suffix;
}

std::string layer_tensor_name(int64_t layer, LayerTensor t) {
  return "model.layers." + std::to_string(layer) + "." + layer_tensor_suffix(t);
}

std::vector<int64_t> layer_tensor_shape(const Qwen3Config& c, LayerTensor t) {
  const int64_t h = c.hidden_size, q = c.q_dim(), kv = c.kv_dim(), im = c.intermediate_size;
  switch (t) {
    case LayerTensor::kInputNorm:
    case LayerTensor::kPostNorm:
      return {h};
    case LayerTensor::kQProj:
      return {q, h};
    case LayerTensor::kKProj:
    case LayerTensor::kVProj:
      return {kv, h};
    case LayerTensor::kOProj:
      return {h, q};
    case LayerTensor::kQNorm:
    case LayerTensor::kKNorm:
      return {c.head_dim};
    case LayerTensor::kGateProj:
    case LayerTensor::kUpProj:
      return {im, h};
    case LayerTensor::kDownProj:
      return {h, im};
  }
  return {};
}

std::vector<Qwen3Weights::Slot> Qwen3Weights::slots() {
  const Qwen3Config& c = config;
  std::vector<Slot> s;
  s.push_back({kHfEmbedName, &embed, {c.vocab_size, c.hidden_size}});
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    Qwen3Layer& L = layers[static_cast<size_t>(i)];
    for (int k = 0; k < kLayerTensorCount; ++k) {
      const auto t = static_cast<LayerTensor>(k);
      s.push_back({layer_tensor_name(i, t), &(L.*spec_of(t).slot), layer_tensor_shape(c, t)});
    }
  }
  s.push_back({kHfFinalNormName, &final_norm, {c.hidden_size}});
  return s;
}

Result<std::shared_ptr<Qwen3Weights>> load_qwen3_weights(const std::string& dir) {
  auto w = std::make_shared<Qwen3Weights>();
  w->dir = dir;
  TRINITY_ASSIGN_OR_RETURN(w->config, load_qwen3_config(dir));
  TRINITY_ASSIGN_OR_RETURN(Checkpoint ck, Checkpoint::open_dir(dir));
  w->checkpoint = std::make_shared<Checkpoint>(std::move(ck));
  w->layers.resize(static_cast<size_t>(w->config.num_hidden_layers));

  auto bind = [&](const std::string& name, Weight* slot,
                  const std::vector<int64_t>& expected) -> Status {
    const TensorView* t = w->checkpoint->find(name);
    if (!t) return not_found(dir + ": tensor '" + name + "' is missing from the checkpoint");
    if (t->shape != expected)
      return mismatch(w->checkpoint->file_of(name) + ": tensor " + name + ": expected " +
                      shape_to_string(expected) + ", got " + shape_to_string(t->shape));
    if (t->dtype != DType::kF32 && t->dtype != DType::kBF16 && t->dtype != DType::kF16)
      return unsupported(w->checkpoint->file_of(name) + ": tensor " + name + " has dtype " +
                         dtype_name(t->dtype) + " (supported: F32, BF16, F16)");
    if (reinterpret_cast<uintptr_t>(t->data) % dtype_size(t->dtype) != 0)
      return unsupported(w->checkpoint->file_of(name) + ": tensor " + name +
                         " is not aligned to its element size in the file");
    slot->dtype = t->dtype;
    slot->shape = t->shape;
    slot->data = t->data;
    return ok_status();
  };

  for (auto& slot : w->slots())
    TRINITY_RETURN_IF_ERROR(bind(slot.hf_name, slot.weight, slot.expected_shape));
  const std::vector<int64_t> head_shape = {w->config.vocab_size, w->config.hidden_size};
  if (w->checkpoint->find(kHfLmHeadName)) {
    TRINITY_RETURN_IF_ERROR(bind(kHfLmHeadName, &w->lm_head, head_shape));
  } else if (w->config.tie_word_embeddings) {
    w->lm_head = w->embed;
  } else {
    return not_found(dir + ": tensor 'lm_head.weight' is missing and tie_word_embeddings is false");
  }
  w->storage_dtype = w->embed.dtype;
  for (auto& slot : w->slots()) {
    if (slot.weight->shape.size() == 2 && slot.weight->dtype != w->storage_dtype)
      return unsupported(dir + ": tensor " + slot.hf_name + " is " +
                         dtype_name(slot.weight->dtype) + " but the embedding is " +
                         dtype_name(w->storage_dtype) +
                         "; mixed-dtype checkpoints are not supported");
  }
  return w;
}

}  // namespace trinity
