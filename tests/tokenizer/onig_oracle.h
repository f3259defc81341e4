// A thin wrapper around Oniguruma (the regex engine of HF `tokenizers`), used as a test
// oracle. Kept in its own translation unit: oniguruma.h and glibc's regex.h (pulled in by
// gtest) both define `struct re_registers`.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace trinity::tok::testing {

class OnigOracle {
 public:
  explicit OnigOracle(std::string_view pattern);
  ~OnigOracle();
  OnigOracle(const OnigOracle&) = delete;
  OnigOracle& operator=(const OnigOracle&) = delete;

  bool ok() const { return impl_ != nullptr; }
  // True if the pattern matches exactly the whole of s (anchored at its start).
  bool full_match(std::string_view s);
  // Pieces of a Split(behavior=Isolated): the matches and the gaps between them.
  std::vector<std::string> isolated_pieces(std::string_view s);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trinity::tok::testing
