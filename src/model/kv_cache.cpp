#include "model/kv_cache.h"

#include <algorithm>
#include <cstring>

#include "core/status.h"

namespace trinity {

KvState::KvState(int64_t layers, int64_t kv_dim, DType dtype)
    : layers_(layers), kv_dim_(kv_dim), dtype_(dtype) {
  k_.resize(static_cast<size_t>(layers));
  v_.resize(static_cast<size_t>(layers));
}

size_t KvState::bytes() const {
  return static_cast<size_t>(2 * layers_ * capacity_ * kv_dim_) * dtype_size(dtype_);
}

void KvState::reserve(int64_t n, int64_t headroom) {
  if (n <= capacity_) return;
  // Growing an existing state copies it: grow by at least a quarter so that copies stay rare.
  constexpr int64_t kGranule = 64;
  const int64_t want = std::max<int64_t>(n + std::max<int64_t>(headroom, 0),
                                         len_ > 0 ? capacity_ + capacity_ / 4 : 0);
  const int64_t cap = (want + kGranule - 1) / kGranule * kGranule;
  const size_t row = static_cast<size_t>(kv_dim_) * dtype_size(dtype_);
  for (auto* arr : {&k_, &v_}) {
    for (auto& p : *arr) {
      std::unique_ptr<uint8_t[]> grown(new uint8_t[static_cast<size_t>(cap) * row]);
      if (p && len_ > 0) std::memcpy(grown.get(), p.get(), static_cast<size_t>(len_) * row);
      p = std::move(grown);
    }
  }
  capacity_ = cap;
}

void KvState::set_len(int64_t n) {
  TRINITY_CHECK(n >= 0 && n <= capacity_, "KvState::set_len beyond capacity");
  len_ = n;
}

std::unique_ptr<KvState> KvState::copy_prefix(int64_t n) const {
  TRINITY_CHECK(n <= len_, "KvState::copy_prefix beyond len");
  auto s = std::make_unique<KvState>(layers_, kv_dim_, dtype_);
  s->reserve(n);
  const size_t bytes_n = static_cast<size_t>(n * kv_dim_) * dtype_size(dtype_);
  for (size_t l = 0; l < k_.size(); ++l) {
    if (n == 0) break;
    std::memcpy(s->k_[l].get(), k_[l].get(), bytes_n);
    std::memcpy(s->v_[l].get(), v_[l].get(), bytes_n);
  }
  s->len_ = n;
  return s;
}

}  // namespace trinity
