#include "core/json_bounds.h"

#include <nlohmann/json.hpp>

namespace trinity {
namespace {

// Counts values and depth; returns false (stopping the parse) at the first bound exceeded.
class BoundsSax final : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit BoundsSax(const JsonBounds& b) : b_(b) {}
  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t&) override { return value(); }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override { return open(); }
  bool key(string_t&) override { return true; }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    invalid_ = true;
    return false;
  }
  bool too_many() const { return values_ > b_.max_values; }
  bool too_deep() const { return depth_ > b_.max_depth; }

 private:
  bool value() { return ++values_ <= b_.max_values; }
  bool open() { return value() && ++depth_ <= b_.max_depth; }
  bool close() {
    --depth_;
    return true;
  }
  const JsonBounds& b_;
  int64_t values_ = 0;
  int depth_ = 0;
  bool invalid_ = false;
};

}  // namespace

Status check_json_bounds(std::string_view text, const JsonBounds& bounds, const std::string& what) {
  BoundsSax sax(bounds);
  if (nlohmann::json::sax_parse(text.begin(), text.end(), &sax)) return ok_status();
  if (sax.too_deep())
    return invalid_argument(what + ": JSON nested deeper than " + std::to_string(bounds.max_depth) +
                            " levels");
  if (sax.too_many())
    return invalid_argument(what + ": more than " + std::to_string(bounds.max_values) +
                            " JSON values");
  return ok_status();  // invalid JSON: the parse that follows reports where
}

}  // namespace trinity
