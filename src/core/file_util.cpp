#include "core/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace trinity {

namespace {
std::string errno_text() {
  return std::strerror(errno);
}
}  // namespace

Result<std::string> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return not_found(path + ": no such file");
    return io_error(path + ": cannot open: " + errno_text());
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    ::close(fd);
    return io_error(path + ": not a regular file");
  }
  std::string out;
  out.resize(static_cast<size_t>(st.st_size));
  size_t off = 0;
  while (off < out.size()) {
    ssize_t n = ::read(fd, out.data() + off, out.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  out.resize(off);
  // Files whose size is not known upfront (pipes, /proc) or grew meanwhile.
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_path_.c_str());
  }
}

Status AtomicFileWriter::open(const std::string& path) {
  path_ = path;
  tmp_path_ = path + ".tmp." + std::to_string(::getpid());
  fd_ = ::open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) return io_error(path + ": cannot create temp file: " + errno_text());
  written_ = 0;
  synced_ = false;
  return ok_status();
}

Status AtomicFileWriter::write(const void* data, size_t size) {
  if (fd_ < 0) return internal_error(path_ + ": write on a closed AtomicFileWriter");
  if (synced_) return internal_error(path_ + ": write after sync on an AtomicFileWriter");
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd_, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error(path_ + ": write failed: " + errno_text());
    p += n;
    size -= static_cast<size_t>(n);
    written_ += static_cast<uint64_t>(n);
  }
  return ok_status();
}

Status AtomicFileWriter::sync() {
  if (fd_ < 0) return internal_error(path_ + ": sync on a closed AtomicFileWriter");
  if (synced_) return ok_status();
  if (::fsync(fd_) != 0) return io_error(path_ + ": fsync failed: " + errno_text());
  synced_ = true;
  return ok_status();
}

Status AtomicFileWriter::commit() {
  if (fd_ < 0) return internal_error(path_ + ": commit on a closed AtomicFileWriter");
  TRINITY_RETURN_IF_ERROR(sync());
  ::close(fd_);
  fd_ = -1;
  if (::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    Status st = io_error(path_ + ": rename failed: " + errno_text());
    ::unlink(tmp_path_.c_str());
    return st;
  }
  return ok_status();
}

Status write_file_atomic(const std::string& path, std::string_view data) {
  AtomicFileWriter w;
  TRINITY_RETURN_IF_ERROR(w.open(path));
  TRINITY_RETURN_IF_ERROR(w.write(data.data(), data.size()));
  return w.commit();
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status make_dirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return io_error(path + ": cannot create directory: " + ec.message());
  return ok_status();
}

std::string join_path(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (a.back() == '/') return a + b;
  return a + "/" + b;
}

}  // namespace trinity
