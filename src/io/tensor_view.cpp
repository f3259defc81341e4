#include "io/tensor_view.h"

#include <cstring>

#include "core/status.h"

namespace trinity {

std::string shape_to_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

void tensor_to_f32(const TensorView& t, float* out) {
  const size_t n = static_cast<size_t>(t.numel());
  switch (t.dtype) {
    case DType::kF32:
      std::memcpy(out, t.data, n * 4);
      return;
    case DType::kBF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, t.data + 2 * i, 2);
        out[i] = bf16_to_f32(h);
      }
      return;
    case DType::kF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, t.data + 2 * i, 2);
        out[i] = f16_to_f32(h);
      }
      return;
    case DType::kF64:
      for (size_t i = 0; i < n; ++i) {
        double d;
        std::memcpy(&d, t.data + 8 * i, 8);
        out[i] = static_cast<float>(d);
      }
      return;
    default:
      TRINITY_CHECK(false, "tensor_to_f32 on a non-float tensor");
  }
}

}  // namespace trinity
