// libFuzzer: manifest.json and pin parsing must never crash; a parsed manifest must serialize
// and re-parse to the same text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "adapt/artifact.h"
#include "adapt/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto m = trinity::parse_manifest(text, "fuzz/manifest.json");
  if (m.ok()) {
    const std::string out = trinity::manifest_to_text(*m);
    auto again = trinity::parse_manifest(out, "roundtrip");
    if (!again.ok() || trinity::manifest_to_text(*again) != out) std::abort();
  }
  (void)trinity::parse_pin(text, "fuzz/pin.json");
  return 0;
}
