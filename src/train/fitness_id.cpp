#include "train/fitness_id.h"

#include <cstdint>

#include "core/sha256.h"
#include "router/etf.h"
#include "router/etf_hash.h"

namespace trinity::train {
namespace {

// SMALL_INTEGER_EXT / INTEGER_EXT / SMALL_BIG_EXT by value (nlohmann keeps parsed non-negative
// numbers unsigned, constructed ones signed).
void put_integer(std::string& out, const Json& v) {
  if (v.is_number_unsigned()) {
    etf::put_unsigned_integer(out, v.get<uint64_t>());
  } else {
    etf::put_integer(out, v.get<int64_t>());
  }
}

void put_term(std::string& out, const Json& v) {
  if (v.is_object()) {  // sorted {key, value} tuples (Json keeps keys sorted bytewise)
    etf::put_list_header(out, v.size());
    for (const auto& [key, nested] : v.items()) {
      etf::put_small_tuple_header(out, 2);
      etf::put_binary(out, key);
      put_term(out, nested);
    }
    etf::put_nil(out);
  } else if (v.is_array()) {
    etf::put_list_header(out, v.size());
    for (const Json& e : v) put_term(out, e);
    etf::put_nil(out);
  } else if (v.is_string()) {
    etf::put_binary(out, v.get<std::string>());
  } else if (v.is_number_integer()) {
    put_integer(out, v);
  } else if (v.is_number_float()) {
    etf::put_float(out, v.get<double>());
  } else if (v.is_boolean()) {
    etf::put_binary(out, v.get<bool>() ? "true" : "false");
  } else {
    etf::put_binary(out, "nil");
  }
}

}  // namespace

std::string canonical_json(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string etf_encode_normalized(const Json& value) {
  std::string out;
  etf::put_version(out);
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
