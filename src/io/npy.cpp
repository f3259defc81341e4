#include "io/npy.h"

#include <cstring>
#include <limits>

#include "core/file_util.h"

namespace trinity {

namespace {

// A tiny parser for the Python-literal header dict: {'descr': '<f4', 'fortran_order': False,
// 'shape': (3, 4), }. Only these three keys, in any order, are accepted.
class HeaderParser {
 public:
  HeaderParser(std::string_view s, std::string what) : s_(s), what_(std::move(what)) {}

  Status parse(std::string* descr, bool* fortran, std::vector<int64_t>* shape) {
    bool have_descr = false, have_fortran = false, have_shape = false;
    skip_ws();
    if (!eat('{')) return err("header must start with '{'");
    while (true) {
      skip_ws();
      if (eat('}')) break;
      std::string key;
      TRINITY_RETURN_IF_ERROR(string_lit(&key));
      skip_ws();
      if (!eat(':')) return err("expected ':' after key '" + key + "'");
      skip_ws();
      if (key == "descr") {
        TRINITY_RETURN_IF_ERROR(string_lit(descr));
        have_descr = true;
      } else if (key == "fortran_order") {
        if (s_.substr(pos_, 4) == "True") {
          *fortran = true;
          pos_ += 4;
        } else if (s_.substr(pos_, 5) == "False") {
          *fortran = false;
          pos_ += 5;
        } else {
          return err("fortran_order must be True or False");
        }
        have_fortran = true;
      } else if (key == "shape") {
        TRINITY_RETURN_IF_ERROR(tuple(shape));
        have_shape = true;
      } else {
        return err("unexpected header key '" + key + "'");
      }
      skip_ws();
      if (eat(',')) continue;
      skip_ws();
      if (eat('}')) break;
      return err("expected ',' or '}' in header");
    }
    if (!have_descr || !have_fortran || !have_shape)
      return err("header needs 'descr', 'fortran_order' and 'shape'");
    return ok_status();
  }

 private:
  Status err(const std::string& m) const {
    return parse_error(what_ + ": invalid .npy header: " + m);
  }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t')) ++pos_;
  }
  bool eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  Status string_lit(std::string* out) {
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) return err("expected a string");
    char q = s_[pos_++];
    size_t end = s_.find(q, pos_);
    if (end == std::string_view::npos) return err("unterminated string");
    *out = std::string(s_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return ok_status();
  }
  Status tuple(std::vector<int64_t>* out) {
    if (!eat('(')) return err("shape must be a tuple");
    out->clear();
    while (true) {
      skip_ws();
      if (eat(')')) return ok_status();
      if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9')
        return err("shape entries must be non-negative integers");
      int64_t v = 0;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
        if (v > (std::numeric_limits<int64_t>::max() - 9) / 10) return err("shape entry too large");
        v = v * 10 + (s_[pos_++] - '0');
      }
      out->push_back(v);
      skip_ws();
      if (eat(',')) continue;
      skip_ws();
      if (eat(')')) return ok_status();
      return err("expected ',' or ')' in shape");
    }
  }

  std::string_view s_;
  std::string what_;
  size_t pos_ = 0;
};

Result<DType> dtype_from_descr(const std::string& d, const std::string& what) {
  if (d == "<f4") return DType::kF32;
  if (d == "<f8") return DType::kF64;
  if (d == "<f2") return DType::kF16;
  if (d == "<i8") return DType::kI64;
  if (d == "<i4") return DType::kI32;
  if (d == "|u1" || d == "<u1") return DType::kU8;
  if (!d.empty() && d[0] == '>')
    return unsupported(what + ": big-endian .npy arrays ('" + d + "') are not supported");
  return unsupported(what + ": unsupported .npy dtype '" + d + "'");
}

}  // namespace

Result<NpyArray> parse_npy(const uint8_t* data, size_t size, const std::string& what) {
  static const uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (size < 10 || std::memcmp(data, kMagic, 6) != 0)
    return parse_error(what + ": not a .npy file (bad magic)");
  const uint8_t major = data[6];
  size_t header_len, header_start;
  if (major == 1) {
    header_len = data[8] | (static_cast<size_t>(data[9]) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) return parse_error(what + ": truncated .npy header");
    header_len = data[8] | (static_cast<size_t>(data[9]) << 8) |
                 (static_cast<size_t>(data[10]) << 16) | (static_cast<size_t>(data[11]) << 24);
    header_start = 12;
  } else {
    return unsupported(what + ": .npy format version " + std::to_string(major) + "." +
                       std::to_string(data[7]) + " (supported: 1.0-3.0)");
  }
  if (header_len > size - header_start) return parse_error(what + ": truncated .npy header");
  std::string_view header(reinterpret_cast<const char*>(data + header_start), header_len);
  std::string descr;
  bool fortran = false;
  NpyArray arr;
  TRINITY_RETURN_IF_ERROR(HeaderParser(header, what).parse(&descr, &fortran, &arr.shape));
  if (fortran) return unsupported(what + ": Fortran-order .npy arrays are not supported");
  TRINITY_ASSIGN_OR_RETURN(arr.dtype, dtype_from_descr(descr, what));
  uint64_t numel = 1;
  for (int64_t d : arr.shape) {
    if (d != 0 && numel > (1ull << 40) / static_cast<uint64_t>(d))
      return parse_error(what + ": shape too large");
    numel *= static_cast<uint64_t>(d);
  }
  const size_t payload = header_start + header_len;
  const uint64_t need = numel * dtype_size(arr.dtype);
  if (size - payload != need)
    return parse_error(what + ": data section has " + std::to_string(size - payload) +
                       " bytes, shape needs " + std::to_string(need));
  arr.data.assign(data + payload, data + size);
  return arr;
}

Result<NpyArray> read_npy(const std::string& path) {
  TRINITY_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  return parse_npy(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path);
}

namespace {

bool is_integer(DType t) {
  return t == DType::kI64 || t == DType::kI32 || t == DType::kU8;
}

// Element at p of an integer dtype.
int64_t integer_at(const uint8_t* p, DType t) {
  switch (t) {
    case DType::kI64: {
      int64_t v;
      std::memcpy(&v, p, 8);
      return v;
    }
    case DType::kI32: {
      int32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    case DType::kU8:
      return *p;
    default:
      TRINITY_CHECK(false, "integer_at on a float dtype");
  }
}

// Element at p of a floating dtype, widened to f64.
double float_at(const uint8_t* p, DType t) {
  uint16_t h;
  switch (t) {
    case DType::kF32: {
      float v;
      std::memcpy(&v, p, 4);
      return v;
    }
    case DType::kF64: {
      double v;
      std::memcpy(&v, p, 8);
      return v;
    }
    case DType::kF16:
      std::memcpy(&h, p, 2);
      return f16_to_f32(h);
    case DType::kBF16:
      std::memcpy(&h, p, 2);
      return bf16_to_f32(h);
    default:
      TRINITY_CHECK(false, "float_at on an integer dtype");
  }
}

}  // namespace

std::vector<double> NpyArray::to_f64() const {
  const size_t n = static_cast<size_t>(numel()), es = dtype_size(dtype);
  std::vector<double> out(n);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* p = data.data() + i * es;
    out[i] = is_integer(dtype) ? static_cast<double>(integer_at(p, dtype)) : float_at(p, dtype);
  }
  return out;
}

std::vector<float> NpyArray::to_f32() const {
  std::vector<double> d = to_f64();
  return std::vector<float>(d.begin(), d.end());
}

std::vector<int64_t> NpyArray::to_i64() const {
  TRINITY_CHECK(is_integer(dtype), "to_i64 on a float .npy array");
  const size_t n = static_cast<size_t>(numel()), es = dtype_size(dtype);
  std::vector<int64_t> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = integer_at(data.data() + i * es, dtype);
  return out;
}

std::string npy_f32_bytes(const float* data, const std::vector<int64_t>& shape) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  size_t numel = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    dict += std::to_string(shape[i]);
    if (shape.size() == 1 || i + 1 < shape.size()) dict += ",";
    if (i + 1 < shape.size()) dict += " ";
    numel *= static_cast<size_t>(shape[i]);
  }
  dict += "), }";
  // Pad with spaces and end with '\n' so that 10 + len is a multiple of 64.
  size_t total = 10 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict.push_back('\n');
  std::string out = "\x93NUMPY";
  out.push_back('\x01');
  out.push_back('\x00');
  out.push_back(static_cast<char>(dict.size() & 0xff));
  out.push_back(static_cast<char>(dict.size() >> 8));
  out += dict;
  out.append(reinterpret_cast<const char*>(data), numel * 4);
  return out;
}

Status write_npy_f32(const std::string& path, const float* data,
                     const std::vector<int64_t>& shape) {
  return write_file_atomic(path, npy_f32_bytes(data, shape));
}

}  // namespace trinity
