#include "onig_oracle.h"

#include <oniguruma.h>

namespace trinity::tok::testing {

struct OnigOracle::Impl {
  OnigRegex re = nullptr;
  OnigRegion* region = nullptr;
};

OnigOracle::OnigOracle(std::string_view pattern) {
  static bool initialized = [] {
    OnigEncoding encs[1] = {ONIG_ENCODING_UTF8};
    onig_initialize(encs, 1);
    return true;
  }();
  (void)initialized;
  auto impl = std::make_unique<Impl>();
  OnigErrorInfo einfo;
  const auto* p = reinterpret_cast<const OnigUChar*>(pattern.data());
  // Default options and syntax, as the `onig` crate's Regex::new uses.
  if (onig_new(&impl->re, p, p + pattern.size(), ONIG_OPTION_NONE, ONIG_ENCODING_UTF8,
               ONIG_SYNTAX_ONIGURUMA, &einfo) != ONIG_NORMAL) {
    return;
  }
  impl->region = onig_region_new();
  impl_ = std::move(impl);
}

OnigOracle::~OnigOracle() {
  if (!impl_) return;
  onig_region_free(impl_->region, 1);
  onig_free(impl_->re);
}

bool OnigOracle::full_match(std::string_view s) {
  const auto* b = reinterpret_cast<const OnigUChar*>(s.data());
  return onig_match(impl_->re, b, b + s.size(), b, impl_->region, ONIG_OPTION_NONE) ==
         static_cast<int>(s.size());
}

std::vector<std::string> OnigOracle::isolated_pieces(std::string_view s) {
  std::vector<std::string> out;
  const auto* b = reinterpret_cast<const OnigUChar*>(s.data());
  const OnigUChar* end = b + s.size();
  size_t pos = 0, last = 0;
  while (pos <= s.size()) {
    int r = onig_search(impl_->re, b, end, b + pos, end, impl_->region, ONIG_OPTION_NONE);
    if (r < 0) break;
    auto ms = static_cast<size_t>(impl_->region->beg[0]);
    auto me = static_cast<size_t>(impl_->region->end[0]);
    if (ms > last) out.emplace_back(s.substr(last, ms - last));
    if (me > ms) out.emplace_back(s.substr(ms, me - ms));
    last = me;
    pos = me > ms ? me : me + 1;
  }
  if (last < s.size()) out.emplace_back(s.substr(last));
  return out;
}

}  // namespace trinity::tok::testing
