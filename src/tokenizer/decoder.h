// ByteLevel decoder stage: token strings -> bytes -> text, as `tokenizers` does it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace trinity::tok {

class ByteLevelDecoder {
 public:
  // The bytes one token contributes: each character mapped back through the byte-level
  // alphabet; a token with any character outside the alphabet contributes its own UTF-8.
  static std::string token_bytes(std::string_view token);
  // Concatenated bytes -> text; invalid UTF-8 becomes U+FFFD per maximal ill-formed subpart
  // (Rust String::from_utf8_lossy).
  static std::string finish(std::string_view bytes);
  static std::string decode(const std::vector<std::string_view>& tokens);
};

}  // namespace trinity::tok
