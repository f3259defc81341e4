// libFuzzer: the .npy reader and the router-vector split must never crash or read out of bounds.
#include <cstddef>
#include <cstdint>

#include "io/npy.h"
#include "io/router_vector.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto a = trinity::parse_npy(data, size, "fuzz.npy");
  if (a.ok() && a->numel() < (1 << 20)) {
    if (a->dtype == trinity::DType::kI64 || a->dtype == trinity::DType::kI32 ||
        a->dtype == trinity::DType::kU8) {
      (void)a->to_i64();
    } else {
      (void)a->to_f32();
    }
  }
  (void)trinity::parse_router_vector(data, size, true, 4, 2, "fuzz.npy");
  (void)trinity::parse_router_vector(data, size, false, 4, 2, "fuzz.safetensors");
  return 0;
}
