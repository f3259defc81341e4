// libFuzzer: the safetensors header parser on arbitrary bytes must return a Status, never
// crash or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Copy so ASan sees the exact buffer bounds.
  std::vector<uint8_t> buf(data, data + size);
  auto h = trinity::parse_safetensors(buf.data(), buf.size(), "fuzz.safetensors");
  if (h.ok()) {
    volatile uint8_t sink = 0;
    for (const auto& t : h->tensors)
      if (t.nbytes > 0) sink = sink ^ t.data[0] ^ t.data[t.nbytes - 1];
    (void)sink;
  }
  return 0;
}
