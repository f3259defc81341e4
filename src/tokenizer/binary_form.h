// The tokenizer's compact binary form: what Tokenizer::load keeps in the user's cache so that a
// start does not parse 11 MB of tokenizer.json again. It holds the parsed stages (vocabulary by
// id, merge table, split pattern, NFC flag, added tokens); the tokenizer built from it is the
// same object the JSON path builds, so its output is bit-identical.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"

namespace trinity {
class DiskCache;
}

namespace trinity::tok {

class Tokenizer;

// Bumped whenever the binary layout or what the tokenizer derives from its parts changes.
constexpr uint32_t kTokenizerBinaryVersion = 2;

// Bounds-checked little reader over a byte span; every read fails cleanly past the end.
class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> data) : data_(data) {}
  Result<uint32_t> u32();
  Result<int32_t> i32();
  Result<uint8_t> u8();
  Result<std::string_view> bytes(size_t n);
  Result<std::string_view> str();  // u32 length + bytes
  // `count` elements of T at the next 8-byte boundary (relative to the start), used in place:
  // the start of the data must itself be 8-byte aligned.
  template <typename T>
  Result<std::span<const T>> array(size_t count) {
    TRINITY_RETURN_IF_ERROR(align8());
    if (count > (data_.size() - pos_) / sizeof(T)) return bytes(data_.size() + 1).status();
    std::span<const T> v(reinterpret_cast<const T*>(data_.data() + pos_), count);
    pos_ += count * sizeof(T);
    return v;
  }
  bool at_end() const { return pos_ == data_.size(); }

 private:
  Status align8();
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

void put_u32(std::string* out, uint32_t v);
void put_i32(std::string* out, int32_t v);
void put_str(std::string* out, std::string_view s);
// Zero bytes up to the next 8-byte boundary, then the raw bytes (ByteReader::array's layout).
void put_array(std::string* out, const void* data, size_t bytes);

std::string tokenizer_to_binary(const Tokenizer& t);
// Builds the tokenizer from its binary form. With `owner` (keeping `data` alive, e.g. a mapped
// cache entry) and 8-byte aligned data the tables are used in place; otherwise they are copied.
Result<std::shared_ptr<const Tokenizer>> tokenizer_from_binary(
    std::span<const uint8_t> data, std::shared_ptr<const void> owner = nullptr);

// Tokenizer::load through the cache: the binary form keyed by the sha256 of tokenizer.json's
// bytes (remembered per file identity) and kTokenizerBinaryVersion; on a miss, parses the JSON
// and stores the binary form. A null or disabled cache parses the JSON every time.
Result<std::shared_ptr<const Tokenizer>> load_tokenizer_cached(const std::string& path,
                                                               const DiskCache* cache);

}  // namespace trinity::tok
