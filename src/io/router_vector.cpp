#include "io/router_vector.h"

#include <cstring>

#include "core/file_util.h"
#include "core/sha256.h"
#include "io/npy.h"
#include "io/safetensors.h"

namespace trinity {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Widens f32/f64 little-endian values to f32.
Result<std::vector<float>> to_values(DType dtype, const uint8_t* p, int64_t n,
                                     const std::string& what) {
  std::vector<float> out(static_cast<size_t>(n));
  if (dtype == DType::kF32) {
    std::memcpy(out.data(), p, static_cast<size_t>(n) * 4);
  } else if (dtype == DType::kF64) {
    for (int64_t i = 0; i < n; ++i) {
      double d;
      std::memcpy(&d, p + i * 8, 8);
      out[static_cast<size_t>(i)] = static_cast<float>(d);
    }
  } else {
    return unsupported(what + ": router vector dtype " + dtype_name(dtype) +
                       " is not supported (expected float32 or float64)");
  }
  return out;
}

}  // namespace

Result<RouterVector> parse_router_vector(const uint8_t* data, size_t size, bool is_npy,
                                         int64_t offset_count, int64_t hidden,
                                         const std::string& what) {
  RouterVector rv;
  rv.path = what;
  rv.hidden = hidden;
  rv.sha256 = sha256_hex(std::string_view(reinterpret_cast<const char*>(data), size));
  DType dtype;
  const uint8_t* values = nullptr;
  NpyArray npy;
  if (is_npy) {
    TRINITY_ASSIGN_OR_RETURN(npy, parse_npy(data, size, what));
    dtype = npy.dtype;
    rv.shape = npy.shape;
    values = npy.data.data();
  } else {
    TRINITY_ASSIGN_OR_RETURN(SafetensorsHeader h, parse_safetensors(data, size, what));
    const TensorView* t = nullptr;
    for (const auto& tv : h.tensors)
      if (tv.name == kRouterVectorTensor) t = &tv;
    if (!t) return not_found(what + ": tensor '" + kRouterVectorTensor + "' is missing");
    dtype = t->dtype;
    rv.shape = t->shape;
    rv.tensor = kRouterVectorTensor;
    values = t->data;
  }
  if (rv.shape.size() != 1)
    return invalid_argument(what + ": router vector must be 1-D, got shape " +
                            std::to_string(rv.shape.size()) + "-D");
  rv.source_dtype = dtype_name(dtype);
  const int64_t expected = offset_count + kRouterHeadRows * hidden;
  const int64_t got = rv.shape[0];
  if (got != expected)
    return invalid_argument("router vector size mismatch: expected " + std::to_string(expected) +
                            ", got " + std::to_string(got));
  TRINITY_ASSIGN_OR_RETURN(std::vector<float> all, to_values(dtype, values, got, what));
  rv.offsets.assign(all.begin(), all.begin() + offset_count);
  rv.head.assign(all.begin() + offset_count, all.end());
  return rv;
}

Result<RouterVector> load_router_vector(const std::string& path, int64_t offset_count,
                                        int64_t hidden) {
  bool is_npy;
  if (ends_with(path, ".npy")) {
    is_npy = true;
  } else if (ends_with(path, ".safetensors")) {
    is_npy = false;
  } else {
    return invalid_argument(path + ": router vector must be a .npy or .safetensors file");
  }
  TRINITY_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  return parse_router_vector(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), is_npy,
                             offset_count, hidden, path);
}

}  // namespace trinity
