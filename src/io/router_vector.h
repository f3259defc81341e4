// The TRINITY router vector: a flat f32/f64 array holding the SVF offsets followed by the
// routing head [kRouterHeadRows = 10, hidden] row-major (io/router_head.h). Read from a 1-D .npy
// (f32/f64, little-endian, C order, header 1.0-3.0) or from a .safetensors file holding tensor
// `trinity_router_es_vector`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "io/router_head.h"

namespace trinity {

constexpr const char* kRouterVectorTensor = "trinity_router_es_vector";

struct RouterVector {
  std::string path;
  std::string tensor;          // safetensors tensor name; empty for .npy
  std::string source_dtype;    // "F32" or "F64" as stored
  std::vector<int64_t> shape;  // as stored ([N])
  std::string sha256;          // of the whole file, lowercase hex
  std::vector<float> offsets;  // the SVF offsets z, in target order
  std::vector<float> head;     // [kRouterHeadRows, hidden] row-major f32
  int64_t hidden = 0;
};

// Parses a router vector from memory (`what` names it in errors; `is_npy` picks the format) and
// splits it. The total length must be offset_count + kRouterHeadRows * hidden, else
// "router vector size mismatch: expected E, got G".
Result<RouterVector> parse_router_vector(const uint8_t* data, size_t size, bool is_npy,
                                         int64_t offset_count, int64_t hidden,
                                         const std::string& what);

// Reads `path` (.npy or .safetensors, chosen by extension) and splits it as above.
Result<RouterVector> load_router_vector(const std::string& path, int64_t offset_count,
                                        int64_t hidden);

}  // namespace trinity
