// libFuzzer: an Anthropic Messages API response body (replies and error bodies), parsed as the
// anthropic provider parses it (coord/provider.h parse_anthropic_response, directly and through
// the provider's HTTP path), must give a reply or a kProvider error, never crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "provider_reply_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  trinity::fuzzing::fuzz_provider_reply("anthropic", trinity::coord::parse_anthropic_response,
                                        body);
  return 0;
}
