#include "core/json.h"

#include <algorithm>
#include <string_view>

#include "core/file_util.h"

namespace trinity {

namespace {

// Printable ASCII as is, every other byte as \xNN: the message stays valid UTF-8 (it is sent in
// JSON error bodies) whatever bytes the input had.
std::string printable(std::string_view s) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// nlohmann's message without its "[json.exception.<kind>.<id>] " prefix, its "parse error at
// line L, column C: " (the caller names the position) and "syntax error while parsing <ctx> - ",
// with the quoted input ("last read: '...'") cut to its last kMaxQuoted bytes.
std::string library_detail(const std::string& what) {
  constexpr size_t kMaxQuoted = 32;
  std::string d = what;
  if (d.rfind("[json.exception.", 0) == 0) {
    const size_t end = d.find("] ");
    if (end != std::string::npos) d.erase(0, end + 2);
  }
  if (d.rfind("parse error", 0) == 0) {
    const size_t colon = d.find(": ");
    if (colon != std::string::npos) d.erase(0, colon + 2);
  }
  if (d.rfind("syntax error", 0) == 0) {
    const size_t dash = d.find(" - ");
    if (dash != std::string::npos) d.erase(0, dash + 3);
  }
  const std::string tag = "last read: '";
  if (const size_t q = d.find(tag); q != std::string::npos) {
    const size_t begin = q + tag.size();
    size_t end = d.find("'; expected ", begin);
    if (end == std::string::npos) end = d.rfind('\'');
    if (end != std::string::npos && end >= begin && end - begin > kMaxQuoted)
      d.replace(begin, end - begin - kMaxQuoted, "...");
  }
  return printable(d);
}

// "byte B", or "line L, column C (byte B)" past the first line. `byte` is nlohmann's: the
// number of bytes read when the error was found, i.e. the 1-based position of the offending
// byte (text.size() + 1 at the end of the input).
std::string position(const std::string& text, size_t byte) {
  const size_t before = std::min(byte == 0 ? 0 : byte - 1, text.size());
  size_t line = 1, line_start = 0;
  for (size_t i = 0; i < before; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  if (line == 1) return "byte " + std::to_string(byte);
  return "line " + std::to_string(line) + ", column " + std::to_string(byte - line_start) +
         " (byte " + std::to_string(byte) + ")";
}

// Whether arrays and objects nest deeper than kMaxJsonDepth in `text` (brackets inside strings
// do not count; on malformed text the parser reports the error).
bool nested_too_deep(const std::string& text) {
  size_t depth = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

template <typename J>
Result<J> parse_any_json(const std::string& text, const std::string& what) {
  if (nested_too_deep(text))
    return parse_error(what + ": invalid JSON: arrays and objects nested deeper than " +
                       std::to_string(kMaxJsonDepth) + " levels");
  try {
    return J::parse(text);
  } catch (const typename J::parse_error& e) {
    return parse_error(what + ": invalid JSON at " + position(text, e.byte) + ": " +
                       library_detail(e.what()));
  } catch (const typename J::exception& e) {  // e.g. out_of_range.406: number overflow
    return parse_error(what + ": invalid JSON: " + library_detail(e.what()));
  }
}

}  // namespace

Result<Json> parse_json(const std::string& text, const std::string& what) {
  return parse_any_json<Json>(text, what);
}

Result<OrderedJson> parse_ordered_json(const std::string& text, const std::string& what) {
  return parse_any_json<OrderedJson>(text, what);
}

Result<Json> load_json_file(const std::string& path) {
  TRINITY_ASSIGN_OR_RETURN(std::string text, read_file(path));
  return parse_json(text, path);
}

Result<const Json*> json_field(const Json& obj, const std::string& key, const std::string& ctx) {
  if (!obj.is_object()) return parse_error(ctx + ": expected a JSON object");
  auto it = obj.find(key);
  if (it == obj.end()) return parse_error(ctx + ": field '" + key + "' is missing");
  return &*it;
}

Result<std::string> json_string(const Json& obj, const std::string& key, const std::string& ctx) {
  TRINITY_ASSIGN_OR_RETURN(const Json* v, json_field(obj, key, ctx));
  if (!v->is_string()) return parse_error(ctx + ": field '" + key + "' must be a string");
  return v->get<std::string>();
}

Result<int64_t> json_int(const Json& obj, const std::string& key, const std::string& ctx) {
  TRINITY_ASSIGN_OR_RETURN(const Json* v, json_field(obj, key, ctx));
  if (!v->is_number_integer()) return parse_error(ctx + ": field '" + key + "' must be an integer");
  return v->get<int64_t>();
}

Result<double> json_number(const Json& obj, const std::string& key, const std::string& ctx) {
  TRINITY_ASSIGN_OR_RETURN(const Json* v, json_field(obj, key, ctx));
  if (!v->is_number()) return parse_error(ctx + ": field '" + key + "' must be a number");
  return v->get<double>();
}

Result<bool> json_bool(const Json& obj, const std::string& key, const std::string& ctx) {
  TRINITY_ASSIGN_OR_RETURN(const Json* v, json_field(obj, key, ctx));
  if (!v->is_boolean()) return parse_error(ctx + ": field '" + key + "' must be true or false");
  return v->get<bool>();
}

}  // namespace trinity
