// libFuzzer: encode arbitrary bytes with the real Qwen3 tokenizer, loaded once from
// $TRINITY_TOKENIZER_DIR or ./.cache/qwen3-tokenizer. Checks: never crashes; invalid UTF-8
// is an error naming the offset; valid input round-trips through decode as NFC and ids are
// in range.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tokenizer/normalizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace {

const trinity::tok::Tokenizer& tokenizer() {
  static std::shared_ptr<const trinity::tok::Tokenizer> tok = [] {
    const char* env = std::getenv("TRINITY_TOKENIZER_DIR");
    std::string dir = env && *env ? env : "./.cache/qwen3-tokenizer";
    auto r = trinity::tok::Tokenizer::load(dir);
    if (!r.ok()) {
      std::fprintf(stderr, "fuzz_tokenizer_encode: %s\n", r.status().message().c_str());
      std::abort();
    }
    return *r;
  }();
  return *tok;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const trinity::tok::Tokenizer& tok = tokenizer();
  std::string text(reinterpret_cast<const char*>(data), size);
  auto ids = tok.encode(text);
  std::optional<size_t> bad = trinity::tok::find_invalid_utf8(text);
  if (bad.has_value() == ids.ok()) std::abort();
  if (!ids.ok()) return 0;
  for (int32_t id : *ids) {
    if (id < 0 || static_cast<size_t>(id) >= tok.vocab_size()) std::abort();
  }
  std::string nfc;
  if (!trinity::tok::NfcNormalizer::normalize(text, &nfc).ok()) std::abort();
  if (tok.decode(*ids) != nfc) std::abort();
  return 0;
}
