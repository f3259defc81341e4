// The nine matrices TRINITY adapts by singular-value fine-tuning, in offset order, with their
// Hugging Face source names and their paths/orientation in the reference (Elixir) bundle.
#pragma once

#include <string>
#include <vector>

#include "io/qwen3_config.h"
#include "io/router_head.h"  // kRouterHeadRows

namespace trinity {

struct SvfTarget {
  int index;                      // 1-based, as in the bundle's file names
  std::string path;               // bundle path, e.g. decoder.blocks.26.self_attention.query.kernel
  std::string hf_name;            // source tensor in the HF checkpoint
  std::vector<int64_t> hf_shape;  // [out, in] / [vocab, hidden]
  bool transposed_in_bundle = false;  // the 7 layer kernels are stored [in, out]
  int64_t k = 0;                      // min(shape): number of singular values = offsets consumed
  int64_t offset_start = 0, offset_end = 0;

  std::vector<int64_t> bundle_shape() const {
    return transposed_in_bundle ? std::vector<int64_t>{hf_shape[1], hf_shape[0]} : hf_shape;
  }
  // "0002_decoder.blocks.26.self_attention.query.kernel.safetensors"
  std::string checkpoint_file() const;
};

// layer < 0 selects num_hidden_layers - 2. For tied models the LM head's source is the
// embedding matrix.
std::vector<SvfTarget> svf_targets(const Qwen3Config& c, int64_t layer = -1);

// Total offsets (sum of k) and the full router-vector length (offsets + 10 * hidden).
int64_t svf_offset_count(const std::vector<SvfTarget>& targets);
int64_t router_vector_length(const Qwen3Config& c, const std::vector<SvfTarget>& targets);

}  // namespace trinity
