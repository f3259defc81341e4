#include "core/sha256.h"

#include <openssl/evp.h>

#include <cstdio>
#include <vector>

namespace trinity {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  TRINITY_CHECK(ctx_ != nullptr, "EVP_MD_CTX_new");
  TRINITY_CHECK(EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr) == 1,
                "EVP_DigestInit_ex");
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_));
}

void Sha256::update(const void* data, size_t n) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, n);
}

Sha256Digest Sha256::finish() {
  Sha256Digest d{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), d.data(), &len);
  return d;
}

Sha256Digest sha256(std::string_view data) {
  Sha256 h;
  h.update(data.data(), data.size());
  return h.finish();
}

std::string to_hex(const uint8_t* data, size_t n) {
  static const char* kHex = "0123456789abcdef";
  std::string s(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    s[2 * i] = kHex[data[i] >> 4];
    s[2 * i + 1] = kHex[data[i] & 15];
  }
  return s;
}

std::string sha256_hex(std::string_view data) {
  auto d = sha256(data);
  return to_hex(d.data(), d.size());
}

Result<std::string> sha256_file_hex(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return not_found(path + ": cannot open for hashing");
  Sha256 h;
  std::vector<char> buf(1 << 20);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) h.update(buf.data(), n);
  bool err = std::ferror(f) != 0;
  std::fclose(f);
  if (err) return io_error(path + ": read error while hashing");
  auto d = h.finish();
  return to_hex(d.data(), d.size());
}

}  // namespace trinity
