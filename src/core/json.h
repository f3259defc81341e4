// nlohmann::json plus helpers that turn shape errors into Status with the field path.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/status.h"

namespace trinity {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

// Arrays and objects nested deeper than this are a parse error: whatever walks a value
// recursively (dump, copy, compare, canonical forms) would overflow the stack on them.
inline constexpr size_t kMaxJsonDepth = 512;

// Parses text; the error names `what` (usually a file path) and, for syntax errors, the position
// (1-based byte; line and column too past the first line) and what was found there:
// "<what>: invalid JSON at byte 8: unexpected '}'; expected string literal", "<what>: invalid
// JSON at line 3, column 5 (byte 41): ...". Never the library's "[json.exception...]" prefix;
// quoted input is cut to its last 32 bytes and printed as ASCII (other bytes as \xNN), so the
// message is short and valid UTF-8 whatever the text. Every nlohmann exception becomes a parse
// error (numbers out of range included), and so does nesting deeper than kMaxJsonDepth.
Result<Json> parse_json(const std::string& text, const std::string& what);
// The same, keeping the objects' key order (files we rewrite byte for byte).
Result<OrderedJson> parse_ordered_json(const std::string& text, const std::string& what);
Result<Json> load_json_file(const std::string& path);

// Typed field access: "<ctx>: field 'key' missing" / "... must be <type>".
Result<const Json*> json_field(const Json& obj, const std::string& key, const std::string& ctx);
Result<std::string> json_string(const Json& obj, const std::string& key, const std::string& ctx);
Result<int64_t> json_int(const Json& obj, const std::string& key, const std::string& ctx);
Result<double> json_number(const Json& obj, const std::string& key, const std::string& ctx);
Result<bool> json_bool(const Json& obj, const std::string& key, const std::string& ctx);

// The value, or null when it is absent.
template <typename T>
OrderedJson opt_json(const std::optional<T>& v) {
  return v ? OrderedJson(*v) : OrderedJson(nullptr);
}

}  // namespace trinity
