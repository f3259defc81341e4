#include "train/fitness_id.h"

#include <cstdint>
#include <cstring>

#include "core/sha256.h"
#include "router/etf_hash.h"

namespace trinity::train {
namespace {

constexpr uint8_t kVersion = 131;
constexpr uint8_t kNewFloat = 70;
constexpr uint8_t kSmallInteger = 97;
constexpr uint8_t kInteger = 98;
constexpr uint8_t kSmallTuple = 104;
constexpr uint8_t kNil = 106;
constexpr uint8_t kList = 108;
constexpr uint8_t kBinary = 109;
constexpr uint8_t kSmallBig = 110;

void put_u8(std::string& out, uint8_t v) {
  out.push_back(static_cast<char>(v));
}
void put_u32be(std::string& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) put_u8(out, static_cast<uint8_t>(v >> s));
}
void put_binary(std::string& out, const std::string& s) {
  put_u8(out, kBinary);
  put_u32be(out, static_cast<uint32_t>(s.size()));
  out += s;
}
// SMALL_BIG_EXT: byte count, sign, magnitude little-endian.
void put_big(std::string& out, bool negative, uint64_t magnitude) {
  std::string digits;
  for (; magnitude > 0; magnitude >>= 8) digits.push_back(static_cast<char>(magnitude & 0xff));
  put_u8(out, kSmallBig);
  put_u8(out, static_cast<uint8_t>(digits.size()));
  put_u8(out, negative ? 1 : 0);
  out += digits;
}
// SMALL_INTEGER_EXT for 0..255, INTEGER_EXT for the rest of int32, else SMALL_BIG_EXT (by
// value: nlohmann keeps parsed non-negative numbers unsigned, constructed ones signed).
void put_integer(std::string& out, const Json& v) {
  const bool is_unsigned = v.is_number_unsigned();
  const uint64_t u = is_unsigned ? v.get<uint64_t>() : 0;
  const int64_t i = is_unsigned ? 0 : v.get<int64_t>();
  if (is_unsigned ? u <= 255 : (i >= 0 && i <= 255)) {
    put_u8(out, kSmallInteger);
    put_u8(out, static_cast<uint8_t>(is_unsigned ? u : static_cast<uint64_t>(i)));
  } else if (is_unsigned ? u <= 0x7fffffffu : (i >= INT32_MIN && i <= INT32_MAX)) {
    put_u8(out, kInteger);
    put_u32be(out, static_cast<uint32_t>(is_unsigned ? u : static_cast<uint64_t>(i)));
  } else if (is_unsigned || i > 0) {
    put_big(out, false, is_unsigned ? u : static_cast<uint64_t>(i));
  } else {
    put_big(out, true, static_cast<uint64_t>(-(i + 1)) + 1);
  }
}
void put_float(std::string& out, double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof(bits));
  put_u8(out, kNewFloat);
  for (int s = 56; s >= 0; s -= 8) put_u8(out, static_cast<uint8_t>(bits >> s));
}

void put_term(std::string& out, const Json& v);

void put_list_header(std::string& out, size_t n) {
  if (n == 0) return;  // the empty list is NIL alone
  put_u8(out, kList);
  put_u32be(out, static_cast<uint32_t>(n));
}

void put_term(std::string& out, const Json& v) {
  if (v.is_object()) {  // sorted {key, value} tuples (Json keeps keys sorted bytewise)
    put_list_header(out, v.size());
    for (const auto& [key, nested] : v.items()) {
      put_u8(out, kSmallTuple);
      put_u8(out, 2);
      put_binary(out, key);
      put_term(out, nested);
    }
    put_u8(out, kNil);
  } else if (v.is_array()) {
    put_list_header(out, v.size());
    for (const Json& e : v) put_term(out, e);
    put_u8(out, kNil);
  } else if (v.is_string()) {
    put_binary(out, v.get<std::string>());
  } else if (v.is_number_integer()) {
    put_integer(out, v);
  } else if (v.is_number_float()) {
    put_float(out, v.get<double>());
  } else if (v.is_boolean()) {
    put_binary(out, v.get<bool>() ? "true" : "false");
  } else {
    put_binary(out, "nil");
  }
}

}  // namespace

std::string canonical_json(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string etf_encode_normalized(const Json& value) {
  std::string out;
  put_u8(out, kVersion);
  put_term(out, value);
  return out;
}

Result<std::string> reference_digest(const Json& value) {
  TRINITY_ASSIGN_OR_RETURN(std::string term, etf_compress(etf_encode_normalized(value)));
  return sha256_hex(term);
}

Result<std::string> fitness_example_id(const Json& run_id, const Json& turn, const Json& case_id,
                                       const Json& route_hash) {
  const Json identity = {
      {"run_id", run_id}, {"turn", turn}, {"case_id", case_id}, {"route_hash", route_hash}};
  TRINITY_ASSIGN_OR_RETURN(std::string digest, reference_digest(identity));
  return "fitness:sha256:" + digest;
}

}  // namespace trinity::train
