// A typed, shaped, read-only view of tensor bytes owned elsewhere (an mmap or a buffer).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace trinity {

struct TensorView {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  size_t nbytes = 0;

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

std::string shape_to_string(const std::vector<int64_t>& shape);  // "[a, b]"

// Widens any floating tensor to f32 (f64 is narrowed). `out` must hold numel() floats.
void tensor_to_f32(const TensorView& t, float* out);

}  // namespace trinity
