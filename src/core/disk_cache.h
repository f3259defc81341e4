// The user's cache of derived data that is expensive to rebuild at every start: tokenizer tables,
// packed weights, bundle verification memos. A cache is never required for correctness: every
// entry is keyed by what it was derived from (plus a format version), verified when read
// (header, size and a checksum of every byte), and rebuilt when missing, stale or corrupt.
//
// Layout: <dir>/<kind>/<key>.bin, one file per entry:
//   [header: magic "TRNCACHE", container version, payload version, kind, key, payload size,
//    chunk size, chunk count, header checksum] [XXH3-64 of each payload chunk] [pad to 4096]
//   [payload]
// The payload starts page-aligned, so a mapped entry can be used in place. Files are written
// atomically (temp file + fsync + rename); reading an entry refreshes its mtime, which is the
// LRU order for eviction beyond the size bound.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/mmap.h"
#include "core/status.h"

namespace trinity {

struct CacheConfig {
  std::string dir;                         // "" = default_cache_dir()
  bool enabled = true;                     // --no-cache: nothing read, nothing written
  uint64_t max_bytes = uint64_t{8} << 30;  // LRU eviction beyond this many bytes
};

// $XDG_CACHE_HOME/trinity, else $HOME/.cache/trinity; "" when neither variable is set.
std::string default_cache_dir();

// A verified entry, mapped read-only. `payload` stays valid while `file` lives.
struct CacheEntry {
  std::shared_ptr<MappedFile> file;
  const uint8_t* payload = nullptr;
  size_t size = 0;
};

struct CacheEntryInfo {
  std::string kind, key, path;
  uint64_t bytes = 0;
  int64_t mtime_ns = 0;  // last use (ns since the Unix epoch)
};

class DiskCache {
 public:
  explicit DiskCache(CacheConfig cfg);

  // False with --no-cache, or when no directory could be determined.
  bool enabled() const { return enabled_; }
  const std::string& dir() const { return dir_; }
  std::string path(const std::string& kind, const std::string& key) const;

  // The entry, verified; nullopt when absent or disabled. A corrupt or stale entry (bad header,
  // other version, truncated, checksum mismatch) is deleted, `why` says what was wrong, and the
  // result is nullopt: the caller rebuilds it. `threads` hash the chunks in parallel.
  std::optional<CacheEntry> get(const std::string& kind, const std::string& key, uint32_t version,
                                std::string* why = nullptr, int threads = 1) const;

  // Writes the entry from `parts` (concatenated) atomically, then evicts the least recently
  // used entries beyond max_bytes. A disabled cache writes nothing.
  Status put(const std::string& kind, const std::string& key, uint32_t version,
             const std::vector<std::span<const uint8_t>>& parts, int threads = 1) const;

  // Every entry file, most recently used first.
  std::vector<CacheEntryInfo> list() const;
  // Removes every entry (of `kind` only, when given); returns how many bytes were freed.
  Result<uint64_t> clear(const std::string& kind = "") const;
  // Removes least recently used entries until at most `max_bytes` remain.
  Status evict(uint64_t max_bytes) const;

 private:
  Status write_entry(const std::string& file, const std::string& kind,
                     const std::vector<uint8_t>& head,
                     const std::vector<std::span<const uint8_t>>& parts) const;
  void warn_unwritable(const Status& st) const;
  std::string dir_;
  bool enabled_ = false;
  uint64_t max_bytes_ = 0;
};

// sha256 (hex) of a file's bytes, remembered in `cache` (kind "sha256") under the file's
// identity: real path, device, inode, size, mtime and ctime (any write, rename or chmod changes
// one of them). A miss, or a null/disabled cache, hashes the file and records the result.
Result<std::string> sha256_file_memoized(const std::string& path, const DiskCache* cache);

// XXH3-64 of `data` in fixed chunks (`chunk` bytes each, the last shorter), hashed by `threads`
// threads; one value per chunk.
std::vector<uint64_t> chunk_checksums(const uint8_t* data, size_t size, size_t chunk, int threads);

}  // namespace trinity
