#include "tokenizer/normalizer.h"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>

#include "tokenizer/unicode.h"

namespace trinity::tok {

namespace {

// Bit set of code points that may change (or make a neighbour change) under NFC.
class NfcUnsafeSet {
 public:
  static const NfcUnsafeSet& get() {
    static const NfcUnsafeSet set;
    return set;
  }
  bool unsafe(char32_t cp) const { return (bits_[cp >> 6] >> (cp & 63)) & 1; }

 private:
  NfcUnsafeSet() : bits_(0x110000 / 64, 0) {
    for (char32_t cp = 0x80; cp < 0x110000; ++cp) {
      if (cp >= 0xD800 && cp <= 0xDFFF) continue;
      const utf8proc_property_t* p = utf8proc_get_property(static_cast<utf8proc_int32_t>(cp));
      if (p->combining_class != 0) set(cp);
      bool hangul_syllable = cp >= 0xAC00 && cp <= 0xD7A3;
      if (p->decomp_seqindex == UINT16_MAX || p->decomp_type != 0 || hangul_syllable) continue;
      utf8proc_int32_t buf[32];
      int boundclass = 0;
      utf8proc_ssize_t n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cp), buf, 32,
                                                   UTF8PROC_DECOMPOSE, &boundclass);
      if (n <= 0 || n > 32) {
        set(cp);
        continue;
      }
      if (n >= 2) set(static_cast<char32_t>(buf[n - 1]));  // can compose with a predecessor
      // Singletons and composition exclusions change under NFC.
      std::string one;
      append_utf8(one, cp);
      std::string nfc;
      if (!NfcNormalizer::normalize(one, &nfc).ok() || nfc != one) set(cp);
    }
    for (char32_t cp = 0x1161; cp <= 0x1175; ++cp) set(cp);  // Hangul V jamo
    for (char32_t cp = 0x11A8; cp <= 0x11C2; ++cp) set(cp);  // Hangul T jamo
  }
  void set(char32_t cp) { bits_[cp >> 6] |= uint64_t{1} << (cp & 63); }
  std::vector<uint64_t> bits_;
};

}  // namespace

bool NfcNormalizer::quick_check(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size(), i = 0;
  const NfcUnsafeSet* set = nullptr;
  while (i < n) {
    if (s[i] < 0x80) {
      ++i;
      continue;
    }
    if (set == nullptr) set = &NfcUnsafeSet::get();
    size_t len;
    char32_t cp = decode_utf8(s + i, &len);
    if (set->unsafe(cp)) return false;
    i += len;
  }
  return true;
}

Status NfcNormalizer::normalize(std::string_view text, std::string* out) {
  out->clear();
  if (text.empty()) return ok_status();
  utf8proc_uint8_t* dst = nullptr;
  utf8proc_ssize_t n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                   static_cast<utf8proc_ssize_t>(text.size()), &dst,
                   static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) {
    return internal_error(std::string("NFC normalization failed: ") +
                          utf8proc_errmsg(static_cast<utf8proc_ssize_t>(n)));
  }
  std::unique_ptr<utf8proc_uint8_t, void (*)(void*)> guard(dst, std::free);
  out->assign(reinterpret_cast<const char*>(dst), static_cast<size_t>(n));
  return ok_status();
}

}  // namespace trinity::tok
