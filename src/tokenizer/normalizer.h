// NFC normalizer stage (utf8proc), with a quick check that skips text already in NFC.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace trinity::tok {

class NfcNormalizer {
 public:
  // True if `text` (valid UTF-8) is certainly NFC already: every code point is a starter
  // that neither decomposes under NFC nor composes with a preceding character.
  static bool quick_check(std::string_view text);
  // NFC(text) into *out (replacing its contents). `text` must be valid UTF-8.
  static Status normalize(std::string_view text, std::string* out);
};

}  // namespace trinity::tok
