// Erlang external term format (ETF) writer: the primitives `:erlang.term_to_binary/1` emits for
// the terms the reference hashes (router/etf_hash.h, train/fitness_id.h). Each put_* appends the
// encoding of one term (or a term's header) to `out`; a whole term is put_version followed by
// the body. All lengths and integers are big-endian.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace trinity::etf {

inline constexpr uint8_t kVersion = 131;

// 131, the version byte every (uncompressed or compressed) term starts with.
void put_version(std::string& out);
// 131, 80 (COMPRESSED), u32be(uncompressed_body_size): the zlib data follows.
void put_compressed_header(std::string& out, uint32_t uncompressed_body_size);

// BINARY_EXT: 109, u32be(len), bytes.
void put_binary(std::string& out, std::string_view bytes);
// SMALL_ATOM_UTF8_EXT: 119, u8(len), name (names under 256 bytes).
void put_atom(std::string& out, std::string_view name);

// Integers as the VM encodes them: SMALL_INTEGER_EXT (97, u8) for 0..255, INTEGER_EXT (98,
// i32be) for the rest of the int32 range, else SMALL_BIG_EXT (110, byte count, sign,
// magnitude little-endian).
void put_integer(std::string& out, int64_t v);
void put_unsigned_integer(std::string& out, uint64_t v);

// NEW_FLOAT_EXT: 70, the IEEE 754 double big-endian.
void put_float(std::string& out, double v);

// LIST_EXT header of a proper list of n elements: 108, u32be(n). Writes nothing when n == 0
// (the empty list is NIL alone), so the elements are always followed by put_nil.
void put_list_header(std::string& out, size_t n);
// NIL_EXT (106): the empty list, and the tail of a proper list.
void put_nil(std::string& out);
// MAP_EXT header: 116, u32be(arity); arity key, value pairs follow.
void put_map_header(std::string& out, uint32_t arity);
// SMALL_TUPLE_EXT header: 104, u8(arity); arity elements follow.
void put_small_tuple_header(std::string& out, uint8_t arity);

}  // namespace trinity::etf
