// NumPy .npy files: reader for header versions 1.0-3.0 (little-endian or byte-less dtypes,
// C order) and an atomic float32 writer (version 1.0).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"

namespace trinity {

struct NpyArray {
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;  // raw little-endian elements, C order

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  // Converts float arrays (f32/f64/bf16/f16) to f32 and integer arrays to f64 values.
  std::vector<float> to_f32() const;
  std::vector<double> to_f64() const;
  std::vector<int64_t> to_i64() const;  // integer arrays only
};

// Parses an in-memory .npy; errors name `what`.
Result<NpyArray> parse_npy(const uint8_t* data, size_t size, const std::string& what);
Result<NpyArray> read_npy(const std::string& path);

// Serializes float32 data of the given shape as a version 1.0 .npy.
std::string npy_f32_bytes(const float* data, const std::vector<int64_t>& shape);
Status write_npy_f32(const std::string& path, const float* data, const std::vector<int64_t>& shape);

}  // namespace trinity
