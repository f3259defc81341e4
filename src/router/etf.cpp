#include "router/etf.h"

#include <cstring>

namespace trinity::etf {
namespace {

constexpr uint8_t kCompressed = 80;
constexpr uint8_t kNewFloat = 70;
constexpr uint8_t kSmallInteger = 97;
constexpr uint8_t kInteger = 98;
constexpr uint8_t kSmallTuple = 104;
constexpr uint8_t kNil = 106;
constexpr uint8_t kList = 108;
constexpr uint8_t kBinary = 109;
constexpr uint8_t kSmallBig = 110;
constexpr uint8_t kMap = 116;
constexpr uint8_t kSmallAtomUtf8 = 119;

void put_u8(std::string& out, uint8_t v) {
  out.push_back(static_cast<char>(v));
}
void put_u32be(std::string& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) put_u8(out, static_cast<uint8_t>(v >> s));
}
void put_big(std::string& out, bool negative, uint64_t magnitude) {
  std::string digits;
  for (; magnitude > 0; magnitude >>= 8) digits.push_back(static_cast<char>(magnitude & 0xff));
  put_u8(out, kSmallBig);
  put_u8(out, static_cast<uint8_t>(digits.size()));
  put_u8(out, negative ? 1 : 0);
  out += digits;
}

}  // namespace

void put_version(std::string& out) {
  put_u8(out, kVersion);
}

void put_compressed_header(std::string& out, uint32_t uncompressed_body_size) {
  put_u8(out, kVersion);
  put_u8(out, kCompressed);
  put_u32be(out, uncompressed_body_size);
}

void put_binary(std::string& out, std::string_view bytes) {
  put_u8(out, kBinary);
  put_u32be(out, static_cast<uint32_t>(bytes.size()));
  out += bytes;
}

void put_atom(std::string& out, std::string_view name) {
  put_u8(out, kSmallAtomUtf8);
  put_u8(out, static_cast<uint8_t>(name.size()));
  out += name;
}

void put_unsigned_integer(std::string& out, uint64_t v) {
  if (v <= 255) {
    put_u8(out, kSmallInteger);
    put_u8(out, static_cast<uint8_t>(v));
  } else if (v <= 0x7fffffffu) {
    put_u8(out, kInteger);
    put_u32be(out, static_cast<uint32_t>(v));
  } else {
    put_big(out, false, v);
  }
}

void put_integer(std::string& out, int64_t v) {
  if (v >= 0) {
    put_unsigned_integer(out, static_cast<uint64_t>(v));
  } else if (v >= INT32_MIN) {
    put_u8(out, kInteger);
    put_u32be(out, static_cast<uint32_t>(v));
  } else {
    put_big(out, true, static_cast<uint64_t>(-(v + 1)) + 1);  // no overflow at INT64_MIN
  }
}

void put_float(std::string& out, double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  put_u8(out, kNewFloat);
  for (int s = 56; s >= 0; s -= 8) put_u8(out, static_cast<uint8_t>(bits >> s));
}

void put_list_header(std::string& out, size_t n) {
  if (n == 0) return;
  put_u8(out, kList);
  put_u32be(out, static_cast<uint32_t>(n));
}

void put_nil(std::string& out) {
  put_u8(out, kNil);
}

void put_map_header(std::string& out, uint32_t arity) {
  put_u8(out, kMap);
  put_u32be(out, arity);
}

void put_small_tuple_header(std::string& out, uint8_t arity) {
  put_u8(out, kSmallTuple);
  put_u8(out, arity);
}

}  // namespace trinity::etf
