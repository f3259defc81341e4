// Opens a Router from user-facing options (CLI flags, server config): the model-free
// `mock_tiny` profile, or a Qwen3 base checkpoint adapted by a bundle (--artifact) or a router
// vector (--vector), run by the forward engine of a runtime profile (reference, cpu, ...).
#pragma once

#include <memory>
#include <string>

#include "router/route.h"

namespace trinity {

struct RouterSource {
  std::string profile;    // "" = the default runtime profile; "mock_tiny" needs nothing else
  std::string base;       // HF Qwen3 checkpoint directory (with tokenizer.json)
  std::string artifact;   // adapted bundle directory (manifest.json), or
  std::string vector;     // router vector (.npy / .safetensors), adapted in memory
  std::string tokenizer;  // tokenizer directory; default: `base`
  int threads = 0;
  int64_t prefix_cache_mb = 256;
  int64_t layer = -1;  // SVF layer for --vector (-1: num_hidden_layers - 2)
};

Result<std::shared_ptr<Router>> open_router(const RouterSource& src);

}  // namespace trinity
