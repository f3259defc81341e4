#include "core/json.h"

#include "core/file_util.h"

namespace trinity {

namespace {

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
    return parse_error(what + ": invalid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  } catch (const typename J::exception& e) {  // e.g. out_of_range.406: number overflow
    return parse_error(what + ": invalid JSON: " + e.what());
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
