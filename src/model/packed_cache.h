// The cpu engine's packed weights in the user's cache: packing 0.9 GB of matrices into oneDNN's
// blocked layout is most of a cold start, so it is done once and the result mapped afterwards.
// An entry is keyed by the weights' identity (base checkpoint contents, adaptation), the
// profile, oneDNN's version and the ISA it dispatches to, and a format version; it is verified
// when read (DiskCache checksums every byte) and each matrix's layout is checked against what
// oneDNN picks now. Anything off means the weights are packed afresh: results never depend on
// the cache.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/disk_cache.h"
#include "ops/cpu/matmul.h"

namespace trinity {

constexpr uint32_t kPackedCacheVersion = 1;

// One matrix the model packs: its shape and activation dtype, in the model's fixed order.
struct PackedSpec {
  int64_t k = 0, n = 0;
  DType act = DType::kBF16;
};

// The cache key of a model's packed weights: sha256 over `identity`, `profile`, oneDNN's
// version and the ISA of its bf16 matmul, and kPackedCacheVersion.
std::string packed_cache_key(const std::string& identity, const std::string& profile);

// The packed matrices of `key`, mapped in place; nullopt (with `why` when an entry was
// rejected) when there is no usable entry.
std::optional<std::vector<std::unique_ptr<cpu::PackedMatmul>>> load_packed(
    const DiskCache& cache, const std::string& key, const std::vector<PackedSpec>& specs,
    int threads, std::string* why);

// Stores the packed matrices under `key` (written from the matrices' own memory, no copy).
Status store_packed(const DiskCache& cache, const std::string& key,
                    const std::vector<const cpu::PackedMatmul*>& mats, int threads);

}  // namespace trinity
