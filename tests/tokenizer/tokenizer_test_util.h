// Shared helpers for the tokenizer tests: the real Qwen3 tokenizer (loaded once) and NFC.
#pragma once

#include <gtest/gtest.h>
#include <utf8proc.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "core/json.h"
#include "tokenizer/tokenizer.h"

namespace trinity::tok::testing {

inline std::shared_ptr<const Tokenizer> qwen3() {
  static std::shared_ptr<const Tokenizer> tok = [] {
    auto r = Tokenizer::load(TRINITY_TOKENIZER_DIR);
    if (!r.ok()) {
      ADD_FAILURE() << "cannot load " << TRINITY_TOKENIZER_DIR << ": " << r.status().message();
      return std::shared_ptr<const Tokenizer>();
    }
    return *r;
  }();
  return tok;
}

// Reference NFC straight from utf8proc (no quick check).
inline std::string nfc_reference(const std::string& s) {
  if (s.empty()) return s;
  utf8proc_uint8_t* out = nullptr;
  utf8proc_ssize_t n = utf8proc_map(
      reinterpret_cast<const utf8proc_uint8_t*>(s.data()), static_cast<utf8proc_ssize_t>(s.size()),
      &out, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) return "<nfc error>";
  std::string r(reinterpret_cast<char*>(out), static_cast<size_t>(n));
  std::free(out);
  return r;
}

inline Json load_golden(const std::string& name) {
  auto r = load_json_file(std::string(TRINITY_TEST_DATA_DIR) + "/golden/" + name);
  if (!r.ok()) {
    ADD_FAILURE() << r.status().message();
    return Json::array();
  }
  return *r;
}

inline std::string ids_str(const std::vector<int32_t>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? ", " : "") + std::to_string(ids[i]);
  return s + "]";
}

}  // namespace trinity::tok::testing
