// Whole-file reads and atomic writes (temp file in the same directory + fsync + rename).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace trinity {

Result<std::string> read_file(const std::string& path);

// Writes `data` to `path` atomically: a reader sees either the old file or the complete new one.
Status write_file_atomic(const std::string& path, std::string_view data);

// Streaming variant for large outputs: open() creates "<path>.tmp.<pid>", write() appends,
// commit() fsyncs and renames over `path`. The destructor removes an uncommitted temp file.
// sync() runs that one fsync early (commit() then only renames); nothing may be written after.
class AtomicFileWriter {
 public:
  AtomicFileWriter() = default;
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  Status open(const std::string& path);
  Status write(const void* data, size_t size);
  Status sync();
  Status commit();
  uint64_t bytes_written() const { return written_; }

 private:
  std::string path_, tmp_path_;
  int fd_ = -1;
  uint64_t written_ = 0;
  bool synced_ = false;
};

bool file_exists(const std::string& path);
bool is_directory(const std::string& path);
// mkdir -p
Status make_dirs(const std::string& path);
std::string join_path(const std::string& a, const std::string& b);

}  // namespace trinity
