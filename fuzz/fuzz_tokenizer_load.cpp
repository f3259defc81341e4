// libFuzzer: tokenizer.json loading from arbitrary bytes (Tokenizer::load_from_json_text).
// Whatever loads must also encode and decode a fixed string without crashing.
#include <cstdint>
#include <string>

#include "tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto tok = trinity::tok::Tokenizer::load_from_json_text(text, "fuzz.json");
  if (!tok.ok()) return 0;
  auto ids = (*tok)->encode("Hello, world! 'll 123 \u4e2d\u6587 \U0001F600 <|im_end|>\r\n  x");
  if (ids.ok()) (void)(*tok)->decode(*ids);
  (void)(*tok)->id_to_token(0);
  (void)(*tok)->token_to_id("a");
  return 0;
}
