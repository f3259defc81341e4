// KvState: the keys (normed and rotated) and values of positions [0, len) of one token sequence,
// for every layer, stored as f32 or bf16 rows of kv_dim ([KV heads, head_dim]).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/dtype.h"

namespace trinity {

class KvState {
 public:
  KvState(int64_t layers, int64_t kv_dim, DType dtype);

  int64_t len() const { return len_; }
  int64_t capacity() const { return capacity_; }
  DType dtype() const { return dtype_; }
  int64_t kv_dim() const { return kv_dim_; }
  // Bytes held (capacity, keys and values of every layer).
  size_t bytes() const;

  // Grows the capacity to at least n + headroom positions (in granules of 64; by at least a
  // quarter when it must copy), keeping positions [0, len). No-op when n already fits.
  void reserve(int64_t n, int64_t headroom = 0);
  // Sets len (<= capacity); positions past it are garbage until written.
  void set_len(int64_t n);
  // Layer l's key / value row of position 0; position p is at + p * kv_dim elements.
  void* k(int64_t l) { return k_[static_cast<size_t>(l)].get(); }
  void* v(int64_t l) { return v_[static_cast<size_t>(l)].get(); }
  const void* k(int64_t l) const { return k_[static_cast<size_t>(l)].get(); }
  const void* v(int64_t l) const { return v_[static_cast<size_t>(l)].get(); }

  // A new state holding the first n positions of this one.
  std::unique_ptr<KvState> copy_prefix(int64_t n) const;

 private:
  int64_t layers_, kv_dim_;
  DType dtype_;
  int64_t len_ = 0, capacity_ = 0;
  std::vector<std::unique_ptr<uint8_t[]>> k_, v_;
};

}  // namespace trinity
