// libFuzzer target: pool-file parsing (JSON -> 7 provider specs) must never crash or throw.
#include <cstddef>
#include <cstdint>
#include <string>

#include "coord/pool.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto pool = trinity::coord::parse_pool_text(text, "fuzz.json");
  if (pool.ok()) {
    auto env = [](const std::string&) -> std::optional<std::string> { return "k"; };
    (void)trinity::coord::resolve_api_keys(*pool, true, env);
  }
  return 0;
}
