#include "tokenizer/decoder.h"

#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/unicode.h"

namespace trinity::tok {

std::string ByteLevelDecoder::token_bytes(std::string_view token) {
  std::optional<std::string> bytes = ByteLevelAlphabet::get().decode(token);
  return bytes ? std::move(*bytes) : std::string(token);
}

std::string ByteLevelDecoder::finish(std::string_view bytes) {
  return utf8_lossy(bytes);
}

std::string ByteLevelDecoder::decode(const std::vector<std::string_view>& tokens) {
  std::string bytes;
  for (std::string_view t : tokens) bytes += token_bytes(t);
  return finish(bytes);
}

}  // namespace trinity::tok
