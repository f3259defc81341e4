#include "train/es_state.h"

#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <utility>

#include "core/file_util.h"
#include "core/sha256.h"
#include "io/safetensors.h"

namespace trinity::train {
namespace {

constexpr int64_t kMaxDim = int64_t{1} << 40;
constexpr int64_t kMaxLambda = int64_t{1} << 20;
constexpr const char* kVectorNames[] = {"mean", "diag_c", "p_sigma", "p_c", "best_x"};
constexpr const char* kDoubleNames[] = {"sigma", "best_f", "gen_f_best", "gen_f_worst"};

std::vector<const std::vector<double>*> vectors_of(const SepCmaesState& s) {
  return {&s.mean, &s.diag_c, &s.p_sigma, &s.p_c, &s.best_x};
}
std::vector<std::vector<double>*> vectors_of(SepCmaesState& s) {
  return {&s.mean, &s.diag_c, &s.p_sigma, &s.p_c, &s.best_x};
}
std::vector<double*> doubles_of(SepCmaesState& s) {
  return {&s.sigma, &s.best_f, &s.gen_f_best, &s.gen_f_worst};
}

Status field_error(const std::string& what, const std::string& field, const std::string& msg) {
  return invalid_argument(what + ": field '" + field + "': " + msg);
}

std::string double_bits(double v) {
  uint64_t u;
  std::memcpy(&u, &v, 8);
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%016" PRIx64, u);
  return buf;
}

Result<uint64_t> parse_u64(const std::string& text, int base) {
  uint64_t v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v, base);
  if (text.empty() || ec != std::errc() || p != end) return parse_error("not an unsigned integer");
  return v;
}

Result<double> parse_double_bits(const std::string& text) {
  if (text.size() != 18 || text.compare(0, 2, "0x") != 0) {
    return parse_error("expected \"0x\" + 16 hex digits (IEEE-754 bits), got \"" + text + "\"");
  }
  TRINITY_ASSIGN_OR_RETURN(uint64_t u, parse_u64(text.substr(2), 16));
  double v;
  std::memcpy(&v, &u, 8);
  return v;
}

// Finite, or +inf ("nothing seen yet").
bool finite_or_pos_inf(double v) {
  return std::isfinite(v) || v == std::numeric_limits<double>::infinity();
}

std::string digest(const std::map<std::string, std::string>& meta, const SepCmaesState& s) {
  Sha256 h;
  for (const auto& [k, v] : meta) {
    if (k == "sha256") continue;
    const std::string line = k + "=" + v + "\n";
    h.update(line.data(), line.size());
  }
  for (const std::vector<double>* v : vectors_of(s)) h.update(v->data(), v->size() * 8);
  const Sha256Digest d = h.finish();
  return to_hex(d.data(), d.size());
}

std::map<std::string, std::string> metadata_of(const SepCmaesState& s) {
  std::map<std::string, std::string> m;
  m["format"] = kSepCmaesFormat;
  m["n"] = std::to_string(s.n);
  m["lambda"] = std::to_string(s.lambda);
  m["mu"] = std::to_string(s.mu);
  m["iteration"] = std::to_string(s.iteration);
  m["seed"] = std::to_string(s.seed);
  m["sigma"] = double_bits(s.sigma);
  m["best_f"] = double_bits(s.best_f);
  m["gen_f_best"] = double_bits(s.gen_f_best);
  m["gen_f_worst"] = double_bits(s.gen_f_worst);
  return m;
}

Result<std::string> meta_field(const std::map<std::string, std::string>& meta,
                               const std::string& what, const std::string& key) {
  auto it = meta.find(key);
  if (it == meta.end()) return field_error(what, key, "missing from __metadata__");
  return it->second;
}

// Reads the integer and double scalars of the metadata into `s`.
Status read_scalars(const std::map<std::string, std::string>& meta, const std::string& what,
                    SepCmaesState& s) {
  const std::pair<const char*, uint64_t*> u64s[] = {{"iteration", &s.iteration}, {"seed", &s.seed}};
  const std::pair<const char*, int64_t*> i64s[] = {
      {"n", &s.n}, {"lambda", &s.lambda}, {"mu", &s.mu}};
  for (const auto& [key, out] : u64s) {
    TRINITY_ASSIGN_OR_RETURN(std::string text, meta_field(meta, what, key));
    Result<uint64_t> v = parse_u64(text, 10);
    if (!v.ok()) return field_error(what, key, v.status().message() + ": \"" + text + "\"");
    *out = *v;
  }
  for (const auto& [key, out] : i64s) {
    TRINITY_ASSIGN_OR_RETURN(std::string text, meta_field(meta, what, key));
    Result<uint64_t> v = parse_u64(text, 10);
    if (!v.ok() || *v > static_cast<uint64_t>(kMaxDim)) {
      return field_error(what, key, "not an integer in [0, 2^40]: \"" + text + "\"");
    }
    *out = static_cast<int64_t>(*v);
  }
  std::vector<double*> outs = doubles_of(s);
  for (size_t i = 0; i < outs.size(); ++i) {
    TRINITY_ASSIGN_OR_RETURN(std::string text, meta_field(meta, what, kDoubleNames[i]));
    Result<double> v = parse_double_bits(text);
    if (!v.ok()) return field_error(what, kDoubleNames[i], v.status().message());
    *outs[i] = *v;
  }
  return ok_status();
}

// Copies the five F64 [n] tensors (views into the file's bytes) into `s` (s.n already read).
Status read_vectors(const SafetensorsHeader& header, const std::string& what, SepCmaesState& s) {
  std::vector<std::vector<double>*> outs = vectors_of(s);
  for (size_t i = 0; i < outs.size(); ++i) {
    const std::string name = kVectorNames[i];
    const TensorView* t = nullptr;
    for (const TensorView& v : header.tensors) {
      if (v.name == name) t = &v;
    }
    if (t == nullptr) return field_error(what, name, "tensor missing");
    if (t->dtype != DType::kF64) {
      return field_error(what, name, std::string("dtype ") + dtype_name(t->dtype) + ", want F64");
    }
    if (t->shape != std::vector<int64_t>{s.n}) {
      return field_error(what, name,
                         "shape " + shape_to_string(t->shape) + ", want [" + std::to_string(s.n) +
                             "] (n from __metadata__)");
    }
    outs[i]->resize(static_cast<size_t>(s.n));
    std::memcpy(outs[i]->data(), t->data, t->nbytes);
  }
  return ok_status();
}

}  // namespace

Status validate_state(const SepCmaesState& s, const std::string& what) {
  if (s.n < 1 || s.n > kMaxDim) return field_error(what, "n", "must be in [1, 2^40]");
  if (s.lambda < 2 || s.lambda > kMaxLambda) {
    return field_error(what, "lambda", "must be in [2, 2^20], got " + std::to_string(s.lambda));
  }
  if (s.mu < 1 || s.mu > s.lambda) {
    return field_error(what, "mu", "must be in [1, lambda], got " + std::to_string(s.mu));
  }
  if (!std::isfinite(s.sigma) || s.sigma <= 0) {
    return field_error(what, "sigma", "must be finite and > 0");
  }
  const double scalars[] = {s.best_f, s.gen_f_best, s.gen_f_worst};
  for (size_t i = 0; i < 3; ++i) {
    if (!finite_or_pos_inf(scalars[i])) {
      return field_error(what, kDoubleNames[i + 1], "must be finite or +inf");
    }
  }
  std::vector<const std::vector<double>*> vs = vectors_of(s);
  for (size_t i = 0; i < vs.size(); ++i) {
    if (static_cast<int64_t>(vs[i]->size()) != s.n) {
      return field_error(
          what, kVectorNames[i],
          "has " + std::to_string(vs[i]->size()) + " entries, want n = " + std::to_string(s.n));
    }
    for (size_t j = 0; j < vs[i]->size(); ++j) {
      const double v = (*vs[i])[j];
      if (!std::isfinite(v) || (i == 1 && v <= 0)) {
        return field_error(what, kVectorNames[i],
                           "entry " + std::to_string(j) + " is " + std::to_string(v) +
                               (i == 1 ? " (must be finite and > 0)" : " (must be finite)"));
      }
    }
  }
  return ok_status();
}

Status save_state(const SepCmaesState& s, const std::string& path) {
  TRINITY_RETURN_IF_ERROR(validate_state(s, path));
  std::map<std::string, std::string> meta = metadata_of(s);
  meta["sha256"] = digest(meta, s);
  std::vector<TensorToWrite> tensors;
  std::vector<const std::vector<double>*> vs = vectors_of(s);
  for (size_t i = 0; i < vs.size(); ++i) {
    tensors.push_back(
        {kVectorNames[i], DType::kF64, {s.n}, vs[i]->data(), vs[i]->size() * sizeof(double)});
  }
  return write_safetensors(path, tensors, meta).with_context("saving sep-CMA-ES state");
}

Result<SepCmaesState> load_state(const std::string& path, int64_t expected_n) {
  TRINITY_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  TRINITY_ASSIGN_OR_RETURN(SafetensorsHeader header, parse_safetensors(data, bytes.size(), path));
  const std::map<std::string, std::string>& meta = header.metadata;
  TRINITY_ASSIGN_OR_RETURN(std::string format, meta_field(meta, path, "format"));
  if (format != kSepCmaesFormat) {
    return field_error(path, "format", "\"" + format + "\", want \"" + kSepCmaesFormat + "\"");
  }
  SepCmaesState s;
  TRINITY_RETURN_IF_ERROR(read_scalars(meta, path, s));
  if (expected_n > 0 && s.n != expected_n) {
    return field_error(path, "n",
                       "the file holds n = " + std::to_string(s.n) + ", the caller expects " +
                           std::to_string(expected_n));
  }
  TRINITY_RETURN_IF_ERROR(read_vectors(header, path, s));
  TRINITY_ASSIGN_OR_RETURN(std::string sum, meta_field(meta, path, "sha256"));
  if (sum != digest(meta, s)) {
    return Status(ErrorCode::kMismatch,
                  path + ": field 'sha256': checksum mismatch (the file is corrupted)");
  }
  TRINITY_RETURN_IF_ERROR(validate_state(s, path));
  return s;
}

}  // namespace trinity::train
