// Read-only memory-mapped file (zero-copy tensor views point into it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"

namespace trinity {

class MappedFile {
 public:
  static Result<std::shared_ptr<MappedFile>> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Tells the kernel the pages fully inside [p, p + n) of a read-only file mapping are not needed
// now: they leave the resident set and are read back from the page cache if touched again.
// Used after a matrix has been repacked, so the original bytes stop counting twice. A no-op for
// memory that is not a file mapping of ours (callers only pass mmap'ed views).
void release_mapped_pages(const void* p, size_t n);

}  // namespace trinity
