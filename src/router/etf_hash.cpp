#include "router/etf_hash.h"

#include <zlib.h>

#include "core/sha256.h"
#include "router/etf.h"

namespace trinity {
namespace {

// [map(m) for m in messages] as a proper list (NIL when empty), after the version byte.
template <typename PutMap>
std::string encode_message_list(const std::vector<Message>& messages, PutMap put_map) {
  std::string out;
  etf::put_version(out);
  etf::put_list_header(out, messages.size());
  for (const auto& m : messages) {
    etf::put_map_header(out, 2);
    put_map(out, m);
  }
  etf::put_nil(out);
  return out;
}

// The proper list of the logits as floats (NIL when empty).
void put_logits(std::string& out, const double* logits, size_t n) {
  etf::put_list_header(out, n);
  for (size_t i = 0; i < n; ++i) etf::put_float(out, logits[i]);
  etf::put_nil(out);
}

}  // namespace

std::string etf_encode_messages(const std::vector<Message>& messages) {
  return encode_message_list(messages, [](std::string& out, const Message& m) {
    etf::put_atom(out, "role");  // the VM emits role before content for this map
    etf::put_binary(out, m.role);
    etf::put_atom(out, "content");
    etf::put_binary(out, routed_content(m));
  });
}

std::string etf_encode_messages_form_b(const std::vector<Message>& messages) {
  return encode_message_list(messages, [](std::string& out, const Message& m) {
    etf::put_binary(out, "content");  // binary keys, sorted bytewise
    etf::put_binary(out, routed_content(m));
    etf::put_binary(out, "role");
    etf::put_binary(out, m.role);
  });
}

std::string etf_encode_route_map(int agent_id, int role_id, const double* logits, size_t n) {
  std::string out;
  etf::put_version(out);
  etf::put_map_header(out, 4);
  etf::put_binary(out, "agent_id");
  etf::put_integer(out, agent_id);
  etf::put_binary(out, "logits_rounded");
  put_logits(out, logits, n);
  etf::put_binary(out, "role_id");
  etf::put_integer(out, role_id);
  etf::put_binary(out, "schema");
  etf::put_binary(out, kRouteHashSchema);
  return out;
}

std::string etf_encode_route(int agent_id, int role_id, const double* logits, size_t n) {
  std::string out;
  etf::put_version(out);
  etf::put_list_header(out, 3);
  etf::put_integer(out, agent_id);
  etf::put_integer(out, role_id);
  put_logits(out, logits, n);
  etf::put_nil(out);
  return out;
}

Result<std::string> etf_compress(const std::string& uncompressed) {
  if (uncompressed.empty() || static_cast<uint8_t>(uncompressed[0]) != etf::kVersion)
    return internal_error("etf_compress: input is not an ETF term");
  const size_t body_len = uncompressed.size() - 1;
  if (body_len > 0xffffffffu) return invalid_argument("etf_compress: term larger than 4 GiB");
  // One deflate state per thread, reset between calls: compress2() would allocate and zero
  // ~270 KB of zlib state per transcript hash, and freeing it trims the heap (madvise and a TLB
  // shootdown on every core) on each routed turn. deflateReset gives the same stream as a fresh
  // deflateInit with the same parameters, so the bytes (and the hash) are unchanged.
  struct Deflater {
    z_stream s{};
    bool ok = false;
    Deflater() { ok = deflateInit(&s, 6) == Z_OK; }
    ~Deflater() {
      if (ok) deflateEnd(&s);
    }
  };
  thread_local Deflater d;
  if (!d.ok) return internal_error("zlib deflateInit failed");
  if (deflateReset(&d.s) != Z_OK) return internal_error("zlib deflateReset failed");
  uLongf z_len = deflateBound(&d.s, static_cast<uLong>(body_len));
  std::string z(z_len, '\0');
  d.s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(uncompressed.data() + 1));
  d.s.avail_in = static_cast<uInt>(body_len);
  d.s.next_out = reinterpret_cast<Bytef*>(z.data());
  d.s.avail_out = static_cast<uInt>(z_len);
  const int rc = deflate(&d.s, Z_FINISH);
  if (rc != Z_STREAM_END)
    return internal_error("zlib deflate failed with code " + std::to_string(rc));
  z_len = d.s.total_out;
  z.resize(z_len);
  if (body_len < 5 || z_len > body_len - 5) return uncompressed;
  std::string out;
  etf::put_compressed_header(out, static_cast<uint32_t>(body_len));
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
