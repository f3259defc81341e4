// safetensors: mmap'ed zero-copy reader with full header validation, sharded checkpoints
// (model.safetensors.index.json), and an atomic writer.
//
// Format: u64 little-endian header length N, N bytes of JSON
// {"name": {"dtype": "BF16", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}},
// then the data section; offsets are relative to the data section.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/file_util.h"
#include "core/mmap.h"
#include "core/sha256.h"
#include "core/status.h"
#include "io/tensor_view.h"

namespace trinity {

constexpr uint64_t kMaxSafetensorsHeader = 100ull * 1000 * 1000;  // 100 MB

struct SafetensorsHeader {
  std::vector<TensorView> tensors;  // data pointers relative to the data section start
  std::map<std::string, std::string> metadata;
  uint64_t data_offset = 0;  // 8 + N
};

// Parses and validates the header of an in-memory safetensors file of `size` bytes.
// Every error names `what` (the file) and, where it applies, the tensor. Never reads out of
// bounds. The returned views point into `data`.
Result<SafetensorsHeader> parse_safetensors(const uint8_t* data, size_t size,
                                            const std::string& what);

class SafetensorsFile {
 public:
  static Result<std::shared_ptr<SafetensorsFile>> open(const std::string& path);

  const std::string& path() const { return file_->path(); }
  const std::vector<TensorView>& tensors() const { return header_.tensors; }
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }
  const TensorView* find(const std::string& name) const;

 private:
  std::shared_ptr<MappedFile> file_;
  SafetensorsHeader header_;
  std::map<std::string, size_t> index_;
};

// A Hugging Face checkpoint directory: model.safetensors, or shards listed in
// model.safetensors.index.json ({"weight_map": {tensor: file}}).
class Checkpoint {
 public:
  static Result<Checkpoint> open_dir(const std::string& dir);

  const TensorView* find(const std::string& name) const;
  std::vector<std::string> names() const;
  const std::string& dir() const { return dir_; }
  // The safetensors files, in the order they were opened.
  std::vector<std::string> file_paths() const;
  // The file a tensor came from (for error messages).
  std::string file_of(const std::string& name) const;

 private:
  std::string dir_;
  std::vector<std::shared_ptr<SafetensorsFile>> files_;
  std::map<std::string, std::pair<size_t, const TensorView*>> by_name_;
};

// A tensor to write; `data` holds nbytes = numel * dtype_size bytes.
struct TensorToWrite {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  size_t nbytes = 0;
};

// Writes a safetensors file atomically (temp + fsync + rename). The header is padded with
// spaces to a multiple of 8 bytes so every tensor's data stays aligned. Tensors are stored in
// the given order.
Status write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                         const std::map<std::string, std::string>& metadata = {});

// Streams one tensor into a safetensors file (the layout write_safetensors writes): open()
// writes the header, append() the data in order, commit() checks the size, fsyncs once and
// renames (AtomicFileWriter). The file's sha256 is computed from the bytes as they are written,
// so nothing is read back. sync() may run the one fsync early (e.g. on another thread).
class SafetensorsTensorWriter {
 public:
  Status open(const std::string& path, const std::string& name, DType dtype,
              const std::vector<int64_t>& shape);
  Status append(const void* data, size_t n);
  Status sync();
  Result<std::string> commit();  // the file's sha256, lowercase hex

 private:
  AtomicFileWriter w_;
  Sha256 sha_;
  std::string path_;
  size_t expected_ = 0, appended_ = 0;
};

}  // namespace trinity
