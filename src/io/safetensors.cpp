#include "io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/file_util.h"
#include "core/json.h"

namespace trinity {

namespace {

// Parses one tensor entry; *begin receives its offset in the data section.
Result<TensorView> parse_entry(const std::string& name, const Json& v, uint64_t data_size,
                               const std::string& what, uint64_t* begin_out) {
  const std::string ctx = what + ": tensor '" + name + "'";
  if (!v.is_object()) return parse_error(ctx + ": entry must be an object");
  TensorView t;
  t.name = name;
  TRINITY_ASSIGN_OR_RETURN(std::string dtype, json_string(v, "dtype", ctx));
  auto dt = dtype_from_name(dtype);
  if (!dt) return unsupported(ctx + ": unknown dtype '" + dtype + "'");
  t.dtype = *dt;
  TRINITY_ASSIGN_OR_RETURN(const Json* shape, json_field(v, "shape", ctx));
  if (!shape->is_array()) return parse_error(ctx + ": 'shape' must be an array");
  uint64_t numel = 1;
  for (const Json& d : *shape) {
    if (!d.is_number_unsigned() && !(d.is_number_integer() && d.get<int64_t>() >= 0))
      return parse_error(ctx + ": shape entries must be non-negative integers");
    uint64_t dim = d.get<uint64_t>();
    if (dim != 0 && numel > std::numeric_limits<uint64_t>::max() / 16 / dim)
      return parse_error(ctx + ": shape is too large");
    numel *= dim;
    t.shape.push_back(static_cast<int64_t>(dim));
  }
  TRINITY_ASSIGN_OR_RETURN(const Json* offs, json_field(v, "data_offsets", ctx));
  if (!offs->is_array() || offs->size() != 2 || !(*offs)[0].is_number_unsigned() ||
      !(*offs)[1].is_number_unsigned())
    return parse_error(ctx + ": 'data_offsets' must be [begin, end] of non-negative integers");
  uint64_t begin = (*offs)[0].get<uint64_t>(), end = (*offs)[1].get<uint64_t>();
  if (end < begin) return parse_error(ctx + ": data_offsets end < begin");
  if (end > data_size)
    return parse_error(ctx + ": data_offsets [" + std::to_string(begin) + ", " +
                       std::to_string(end) + "] run past the data section (" +
                       std::to_string(data_size) + " bytes); the file may be truncated");
  uint64_t expect = numel * dtype_size(t.dtype);
  if (end - begin != expect)
    return parse_error(ctx + ": shape " + shape_to_string(t.shape) + " x " + dtype + " needs " +
                       std::to_string(expect) + " bytes but data_offsets span " +
                       std::to_string(end - begin));
  *begin_out = begin;
  t.nbytes = static_cast<size_t>(end - begin);
  return t;
}

}  // namespace

Result<SafetensorsHeader> parse_safetensors(const uint8_t* data, size_t size,
                                            const std::string& what) {
  if (size < 8)
    return parse_error(what + ": file too small for a safetensors header (" + std::to_string(size) +
                       " bytes)");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | data[i];
  if (n > kMaxSafetensorsHeader)
    return parse_error(what + ": header length " + std::to_string(n) + " exceeds the 100 MB limit");
  if (n > size - 8)
    return parse_error(what + ": header length " + std::to_string(n) + " exceeds the file size (" +
                       std::to_string(size) + " bytes)");
  Json header;
  try {
    header = Json::parse(data + 8, data + 8 + n);
  } catch (const Json::exception& e) {
    return parse_error(what + ": header is not valid JSON: " + e.what());
  }
  if (!header.is_object()) return parse_error(what + ": header must be a JSON object");
  SafetensorsHeader out;
  out.data_offset = 8 + n;
  const uint64_t data_size = size - out.data_offset;
  std::vector<uint64_t> begins;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it.value().is_object())
        return parse_error(what + ": __metadata__ must be an object of strings");
      for (auto m = it.value().begin(); m != it.value().end(); ++m) {
        if (!m.value().is_string())
          return parse_error(what + ": __metadata__ value '" + m.key() + "' must be a string");
        out.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    uint64_t begin = 0;
    TRINITY_ASSIGN_OR_RETURN(TensorView t,
                             parse_entry(it.key(), it.value(), data_size, what, &begin));
    out.tensors.push_back(std::move(t));
    begins.push_back(begin);
  }
  // Overlap check: sort by begin offset; each non-empty range must end before the next begins.
  std::vector<size_t> order(out.tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return begins[a] < begins[b]; });
  uint64_t prev_end = 0;
  const TensorView* prev = nullptr;
  for (size_t i : order) {
    const TensorView& t = out.tensors[i];
    if (t.nbytes == 0) continue;
    if (prev != nullptr && begins[i] < prev_end)
      return parse_error(what + ": tensors '" + prev->name + "' and '" + t.name +
                         "' overlap in the data section");
    prev_end = begins[i] + t.nbytes;
    prev = &t;
  }
  const uint8_t* base = data + out.data_offset;
  for (size_t i = 0; i < out.tensors.size(); ++i) out.tensors[i].data = base + begins[i];
  return out;
}

Result<std::shared_ptr<SafetensorsFile>> SafetensorsFile::open(const std::string& path) {
  TRINITY_ASSIGN_OR_RETURN(auto mf, MappedFile::open(path));
  auto f = std::shared_ptr<SafetensorsFile>(new SafetensorsFile());
  f->file_ = mf;
  TRINITY_ASSIGN_OR_RETURN(f->header_, parse_safetensors(mf->data(), mf->size(), path));
  for (size_t i = 0; i < f->header_.tensors.size(); ++i) f->index_[f->header_.tensors[i].name] = i;
  return f;
}

const TensorView* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &header_.tensors[it->second];
}

Result<Checkpoint> Checkpoint::open_dir(const std::string& dir) {
  Checkpoint ck;
  ck.dir_ = dir;
  const std::string index_path = join_path(dir, "model.safetensors.index.json");
  const std::string single = join_path(dir, "model.safetensors");
  std::vector<std::string> files;
  if (file_exists(index_path)) {
    TRINITY_ASSIGN_OR_RETURN(Json idx, load_json_file(index_path));
    TRINITY_ASSIGN_OR_RETURN(const Json* wm, json_field(idx, "weight_map", index_path));
    if (!wm->is_object()) return parse_error(index_path + ": 'weight_map' must be an object");
    std::map<std::string, std::string> expected;  // tensor -> file
    for (auto it = wm->begin(); it != wm->end(); ++it) {
      if (!it.value().is_string())
        return parse_error(index_path + ": weight_map['" + it.key() + "'] must be a file name");
      std::string fname = it.value().get<std::string>();
      if (fname.find('/') != std::string::npos || fname == ".." || fname.empty())
        return parse_error(index_path + ": weight_map['" + it.key() + "'] names '" + fname +
                           "', which is not a file in the checkpoint directory");
      expected[it.key()] = fname;
      if (std::find(files.begin(), files.end(), fname) == files.end()) files.push_back(fname);
    }
    for (const auto& fname : files) {
      TRINITY_ASSIGN_OR_RETURN(auto f, SafetensorsFile::open(join_path(dir, fname)));
      ck.files_.push_back(f);
    }
    for (const auto& [tensor, fname] : expected) {
      size_t fi = static_cast<size_t>(std::find(files.begin(), files.end(), fname) - files.begin());
      const TensorView* t = ck.files_[fi]->find(tensor);
      if (!t)
        return not_found(join_path(dir, fname) + ": tensor '" + tensor +
                         "' listed in model.safetensors.index.json is not in the shard");
      ck.by_name_[tensor] = {fi, t};
    }
  } else if (file_exists(single)) {
    TRINITY_ASSIGN_OR_RETURN(auto f, SafetensorsFile::open(single));
    ck.files_.push_back(f);
    for (const auto& t : f->tensors()) ck.by_name_[t.name] = {0, &t};
  } else {
    return not_found(dir + ": no model.safetensors or model.safetensors.index.json");
  }
  return ck;
}

std::vector<std::string> Checkpoint::file_paths() const {
  std::vector<std::string> out;
  for (const auto& f : files_) out.push_back(f->path());
  return out;
}

const TensorView* Checkpoint::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second.second;
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> out;
  for (const auto& kv : by_name_) out.push_back(kv.first);
  return out;
}

std::string Checkpoint::file_of(const std::string& name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return dir_;
  return files_[it->second.first]->path();
}

namespace {

// The 8-byte length and the JSON header (space-padded to a multiple of 8) of `tensors`.
Result<std::string> safetensors_prefix(const std::string& path,
                                       const std::vector<TensorToWrite>& tensors,
                                       const std::map<std::string, std::string>& metadata) {
  OrderedJson header = OrderedJson::object();
  if (!metadata.empty()) {
    OrderedJson m = OrderedJson::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    header["__metadata__"] = m;
  }
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    int64_t numel = 1;
    for (int64_t d : t.shape) numel *= d;
    if (static_cast<size_t>(numel) * dtype_size(t.dtype) != t.nbytes)
      return internal_error(path + ": tensor '" + t.name + "' has " + std::to_string(t.nbytes) +
                            " bytes, shape needs " +
                            std::to_string(static_cast<size_t>(numel) * dtype_size(t.dtype)));
    if (header.contains(t.name))
      return invalid_argument(path + ": duplicate tensor '" + t.name + "'");
    header[t.name] = {{"dtype", dtype_name(t.dtype)},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.nbytes}}};
    offset += t.nbytes;
  }
  std::string h = header.dump();
  while (h.size() % 8 != 0) h.push_back(' ');
  std::string out(8, '\0');
  const uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>(n >> (8 * i));
  return out + h;
}

}  // namespace

Status write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                         const std::map<std::string, std::string>& metadata) {
  TRINITY_ASSIGN_OR_RETURN(const std::string prefix, safetensors_prefix(path, tensors, metadata));
  AtomicFileWriter w;
  TRINITY_RETURN_IF_ERROR(w.open(path));
  TRINITY_RETURN_IF_ERROR(w.write(prefix.data(), prefix.size()));
  for (const auto& t : tensors) TRINITY_RETURN_IF_ERROR(w.write(t.data, t.nbytes));
  return w.commit();
}

Status SafetensorsTensorWriter::open(const std::string& path, const std::string& name, DType dtype,
                                     const std::vector<int64_t>& shape) {
  int64_t numel = 1;
  for (int64_t d : shape) numel *= d;
  path_ = path;
  expected_ = static_cast<size_t>(numel) * dtype_size(dtype);
  appended_ = 0;
  TRINITY_ASSIGN_OR_RETURN(
      const std::string prefix,
      safetensors_prefix(path, {{name, dtype, shape, nullptr, expected_}}, {}));
  TRINITY_RETURN_IF_ERROR(w_.open(path));
  return append(prefix.data(), prefix.size());
}

Status SafetensorsTensorWriter::append(const void* data, size_t n) {
  TRINITY_RETURN_IF_ERROR(w_.write(data, n));
  sha_.update(data, n);
  appended_ += n;
  return ok_status();
}

Status SafetensorsTensorWriter::sync() {
  return w_.sync();
}

Result<std::string> SafetensorsTensorWriter::commit() {
  if (appended_ != w_.bytes_written() || w_.bytes_written() < expected_)
    return internal_error(path_ + ": " + std::to_string(appended_) +
                          " bytes appended, the tensor needs " + std::to_string(expected_));
  TRINITY_RETURN_IF_ERROR(w_.commit());
  const Sha256Digest d = sha_.finish();
  return to_hex(d.data(), d.size());
}

}  // namespace trinity
