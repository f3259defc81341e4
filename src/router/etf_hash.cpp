#include "router/etf_hash.h"

#include <zlib.h>

#include <cstring>

#include "core/sha256.h"

namespace trinity {
namespace {

constexpr uint8_t kVersion = 131;
constexpr uint8_t kCompressed = 80;
constexpr uint8_t kSmallInteger = 97;
constexpr uint8_t kInteger = 98;
constexpr uint8_t kNewFloat = 70;
constexpr uint8_t kNil = 106;
constexpr uint8_t kList = 108;
constexpr uint8_t kBinary = 109;
constexpr uint8_t kMap = 116;
constexpr uint8_t kSmallAtomUtf8 = 119;

void put_u8(std::string& out, uint8_t v) {
  out.push_back(static_cast<char>(v));
}
void put_u32be(std::string& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) put_u8(out, static_cast<uint8_t>(v >> s));
}
void put_atom(std::string& out, const char* name) {
  size_t n = std::strlen(name);
  put_u8(out, kSmallAtomUtf8);
  put_u8(out, static_cast<uint8_t>(n));
  out.append(name, n);
}
void put_binary(std::string& out, const std::string& s) {
  put_u8(out, kBinary);
  put_u32be(out, static_cast<uint32_t>(s.size()));
  out += s;
}
void put_int(std::string& out, int v) {
  if (v >= 0 && v <= 255) {
    put_u8(out, kSmallInteger);
    put_u8(out, static_cast<uint8_t>(v));
  } else {
    put_u8(out, kInteger);
    put_u32be(out, static_cast<uint32_t>(v));
  }
}
void put_float(std::string& out, double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  put_u8(out, kNewFloat);
  for (int s = 56; s >= 0; s -= 8) put_u8(out, static_cast<uint8_t>(bits >> s));
}

}  // namespace

namespace {

// [map(m) for m in messages] as a proper list (NIL when empty), after the version byte.
template <typename PutMap>
std::string encode_message_list(const std::vector<Message>& messages, PutMap put_map) {
  std::string out;
  put_u8(out, kVersion);
  if (!messages.empty()) {
    put_u8(out, kList);
    put_u32be(out, static_cast<uint32_t>(messages.size()));
    for (const auto& m : messages) {
      put_u8(out, kMap);
      put_u32be(out, 2);
      put_map(out, m);
    }
  }
  put_u8(out, kNil);
  return out;
}

}  // namespace

std::string etf_encode_messages(const std::vector<Message>& messages) {
  return encode_message_list(messages, [](std::string& out, const Message& m) {
    put_atom(out, "role");  // the VM emits role before content for this map
    put_binary(out, m.role);
    put_atom(out, "content");
    put_binary(out, m.content);
  });
}

std::string etf_encode_messages_form_b(const std::vector<Message>& messages) {
  return encode_message_list(messages, [](std::string& out, const Message& m) {
    put_binary(out, "content");  // binary keys, sorted bytewise
    put_binary(out, m.content);
    put_binary(out, "role");
    put_binary(out, m.role);
  });
}

std::string etf_encode_route_map(int agent_id, int role_id, const double* logits, size_t n) {
  std::string out;
  put_u8(out, kVersion);
  put_u8(out, kMap);
  put_u32be(out, 4);
  put_binary(out, "agent_id");
  put_int(out, agent_id);
  put_binary(out, "logits_rounded");
  if (n > 0) {
    put_u8(out, kList);
    put_u32be(out, static_cast<uint32_t>(n));
    for (size_t i = 0; i < n; ++i) put_float(out, logits[i]);
  }
  put_u8(out, kNil);
  put_binary(out, "role_id");
  put_int(out, role_id);
  put_binary(out, "schema");
  put_binary(out, kRouteHashSchema);
  return out;
}

std::string etf_encode_route(int agent_id, int role_id, const double* logits, size_t n) {
  std::string out;
  put_u8(out, kVersion);
  put_u8(out, kList);
  put_u32be(out, 3);
  put_int(out, agent_id);
  put_int(out, role_id);
  if (n == 0) {
    put_u8(out, kNil);
  } else {
    put_u8(out, kList);
    put_u32be(out, static_cast<uint32_t>(n));
    for (size_t i = 0; i < n; ++i) put_float(out, logits[i]);
    put_u8(out, kNil);
  }
  put_u8(out, kNil);
  return out;
}

Result<std::string> etf_compress(const std::string& uncompressed) {
  if (uncompressed.empty() || static_cast<uint8_t>(uncompressed[0]) != kVersion)
    return internal_error("etf_compress: input is not an ETF term");
  const size_t body_len = uncompressed.size() - 1;
  if (body_len > 0xffffffffu) return invalid_argument("etf_compress: term larger than 4 GiB");
  uLongf z_len = compressBound(static_cast<uLong>(body_len));
  std::string z(z_len, '\0');
  int rc = compress2(reinterpret_cast<Bytef*>(z.data()), &z_len,
                     reinterpret_cast<const Bytef*>(uncompressed.data() + 1),
                     static_cast<uLong>(body_len), 6);
  if (rc != Z_OK) return internal_error("zlib compress2 failed with code " + std::to_string(rc));
  z.resize(z_len);
  if (body_len < 5 || z_len > body_len - 5) return uncompressed;
  std::string out;
  put_u8(out, kVersion);
  put_u8(out, kCompressed);
  put_u32be(out, static_cast<uint32_t>(body_len));
  out += z;
  return out;
}

Result<std::string> transcript_hash(const std::vector<Message>& messages) {
  TRINITY_ASSIGN_OR_RETURN(std::string term, etf_compress(etf_encode_messages(messages)));
  return sha256_hex(term);
}

Result<std::string> route_hash(int agent_id, int role_id, const double* logits, size_t n) {
  TRINITY_ASSIGN_OR_RETURN(std::string term,
                           etf_compress(etf_encode_route(agent_id, role_id, logits, n)));
  return sha256_hex(term);
}

Result<std::string> trace_transcript_hash(const std::vector<Message>& messages) {
  TRINITY_ASSIGN_OR_RETURN(std::string term, etf_compress(etf_encode_messages_form_b(messages)));
  return sha256_hex(term);
}

Result<std::string> trace_route_hash(int agent_id, int role_id, const double* logits, size_t n) {
  TRINITY_ASSIGN_OR_RETURN(std::string term,
                           etf_compress(etf_encode_route_map(agent_id, role_id, logits, n)));
  return sha256_hex(term);
}

}  // namespace trinity
