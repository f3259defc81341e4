// SHA-256 (OpenSSL EVP) of memory and of files, as lowercase hex.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace trinity {

using Sha256Digest = std::array<uint8_t, 32>;

Sha256Digest sha256(std::string_view data);
std::string sha256_hex(std::string_view data);
std::string to_hex(const uint8_t* data, size_t n);
Result<std::string> sha256_file_hex(const std::string& path);

// Incremental hashing for streamed data.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t n);
  Sha256Digest finish();

 private:
  void* ctx_;
};

}  // namespace trinity
