// libFuzzer: the tokenizer's binary form (a cache entry) from arbitrary bytes. Whatever loads
// must also encode and decode a fixed string without crashing.
#include <cstdint>
#include <span>

#include "tokenizer/binary_form.h"
#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto tok = trinity::tok::tokenizer_from_binary(std::span<const uint8_t>(data, size));
  if (!tok.ok()) return 0;
  auto ids = (*tok)->encode("Hello, world! 'll 123 \u4e2d\u6587 \U0001F600 <|im_end|>\r\n  x");
  if (ids.ok()) (void)(*tok)->decode(*ids);
  (void)(*tok)->id_to_token(0);
  (void)(*tok)->token_to_id("a");
  return 0;
}
