#include "core/disk_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "core/file_util.h"
#include "core/sha256.h"

namespace trinity {

namespace {

namespace fs = std::filesystem;

constexpr char kMagic[8] = {'T', 'R', 'N', 'C', 'A', 'C', 'H', 'E'};
constexpr uint32_t kContainerVersion = 1;
constexpr size_t kPayloadAlign = 4096;
constexpr uint64_t kChunkBytes = uint64_t{32} << 20;

// The fixed part of an entry's header, followed by n_chunks uint64 checksums.
struct Header {
  char magic[8];
  uint32_t container_version;
  uint32_t payload_version;
  char kind[24];
  char key[72];
  uint64_t payload_size;
  uint64_t chunk_size;
  uint64_t n_chunks;
  uint64_t header_checksum;  // XXH3 of this struct (this field 0) and the chunk checksums
};
static_assert(sizeof(Header) == 8 + 4 + 4 + 24 + 72 + 8 * 4, "packed header");

size_t payload_offset(uint64_t n_chunks) {
  const size_t raw = sizeof(Header) + n_chunks * sizeof(uint64_t);
  return (raw + kPayloadAlign - 1) / kPayloadAlign * kPayloadAlign;
}

uint64_t header_checksum(Header h, const uint64_t* chunks) {
  h.header_checksum = 0;
  XXH3_state_t* st = XXH3_createState();
  XXH3_64bits_reset(st);
  XXH3_64bits_update(st, &h, sizeof(h));
  XXH3_64bits_update(st, chunks, h.n_chunks * sizeof(uint64_t));
  const uint64_t v = XXH3_64bits_digest(st);
  XXH3_freeState(st);
  return v;
}

bool valid_name(const std::string& s, size_t max) {
  if (s.empty() || s.size() >= max) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

// The payload as the concatenation of the caller's parts (hashed without copying them).
struct PartCursor {
  const std::vector<std::span<const uint8_t>>& parts;
  // Hashes [off, off + n) of the concatenation.
  uint64_t hash(uint64_t off, uint64_t n) const {
    XXH3_state_t* st = XXH3_createState();
    XXH3_64bits_reset(st);
    uint64_t base = 0;
    for (const auto& p : parts) {
      const uint64_t b = std::max(off, base), e = std::min(off + n, base + p.size());
      if (b < e) XXH3_64bits_update(st, p.data() + (b - base), e - b);
      base += p.size();
    }
    const uint64_t v = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return v;
  }
};

// Runs fn(i) for i in [0, n) on `threads` threads (the caller included).
template <typename Fn>
void parallel_indices(uint64_t n, int threads, const Fn& fn) {
  const int t = static_cast<int>(std::clamp<uint64_t>(static_cast<uint64_t>(std::max(threads, 1)),
                                                      1, std::max<uint64_t>(n, 1)));
  std::vector<std::thread> pool;
  for (int w = 1; w < t; ++w)
    pool.emplace_back([&, w] {
      for (uint64_t i = static_cast<uint64_t>(w); i < n; i += static_cast<uint64_t>(t)) fn(i);
    });
  for (uint64_t i = 0; i < n; i += static_cast<uint64_t>(t)) fn(i);
  for (auto& th : pool) th.join();
}

}  // namespace

std::vector<uint64_t> chunk_checksums(const uint8_t* data, size_t size, size_t chunk, int threads) {
  const uint64_t n = (size + chunk - 1) / chunk;
  std::vector<uint64_t> out(n);
  parallel_indices(n, threads, [&](uint64_t i) {
    const size_t b = i * chunk, e = std::min(size, b + chunk);
    out[i] = XXH3_64bits(data + b, e - b);
  });
  return out;
}

std::string default_cache_dir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg && xdg[0] == '/') return join_path(xdg, "trinity");
  const char* home = std::getenv("HOME");
  if (home && home[0] != '\0') return join_path(join_path(home, ".cache"), "trinity");
  return "";
}

DiskCache::DiskCache(CacheConfig cfg)
    : dir_(cfg.dir.empty() ? default_cache_dir() : cfg.dir),
      enabled_(cfg.enabled && !dir_.empty()),
      max_bytes_(cfg.max_bytes) {}

std::string DiskCache::path(const std::string& kind, const std::string& key) const {
  return join_path(join_path(dir_, kind), key + ".bin");
}

std::optional<CacheEntry> DiskCache::get(const std::string& kind, const std::string& key,
                                         uint32_t version, std::string* why, int threads) const {
  if (!enabled_ || !valid_name(kind, sizeof(Header::kind)) || !valid_name(key, sizeof(Header::key)))
    return std::nullopt;
  const std::string file = path(kind, key);
  if (!file_exists(file)) return std::nullopt;
  auto reject = [&](const std::string& reason) -> std::optional<CacheEntry> {
    if (why) *why = file + ": " + reason + "; rebuilding it";
    std::error_code ec;
    fs::remove(file, ec);
    return std::nullopt;
  };
  auto mapped = MappedFile::open(file);
  if (!mapped.ok()) return reject(mapped.status().message());
  const std::shared_ptr<MappedFile>& f = *mapped;
  Header h{};
  if (f->size() < sizeof(Header)) return reject("shorter than a cache header");
  std::memcpy(&h, f->data(), sizeof(h));
  if (std::memcmp(h.magic, kMagic, sizeof(kMagic)) != 0) return reject("not a trinity cache file");
  if (h.container_version != kContainerVersion || h.payload_version != version)
    return reject("written by another format version (" + std::to_string(h.payload_version) +
                  ", want " + std::to_string(version) + ")");
  if (std::string(h.kind, strnlen(h.kind, sizeof(h.kind))) != kind ||
      std::string(h.key, strnlen(h.key, sizeof(h.key))) != key)
    return reject("header names another entry");
  if (h.chunk_size == 0 || h.n_chunks != (h.payload_size + h.chunk_size - 1) / h.chunk_size ||
      h.n_chunks > (uint64_t{1} << 24))
    return reject("malformed header");
  const size_t off = payload_offset(h.n_chunks);
  if (f->size() != off + h.payload_size) return reject("truncated or extended");
  std::vector<uint64_t> want(h.n_chunks);
  std::memcpy(want.data(), f->data() + sizeof(Header), want.size() * sizeof(uint64_t));
  if (header_checksum(h, want.data()) != h.header_checksum) return reject("header checksum");
  if (chunk_checksums(f->data() + off, h.payload_size, h.chunk_size, threads) != want)
    return reject("payload checksum mismatch (corrupt)");
  ::utimensat(AT_FDCWD, file.c_str(), nullptr, 0);  // LRU: mark as used now
  return CacheEntry{f, f->data() + off, h.payload_size};
}

Status DiskCache::put(const std::string& kind, const std::string& key, uint32_t version,
                      const std::vector<std::span<const uint8_t>>& parts, int threads) const {
  if (!enabled_) return ok_status();
  if (!valid_name(kind, sizeof(Header::kind)) || !valid_name(key, sizeof(Header::key)))
    return invalid_argument("cache entry name '" + kind + "/" + key + "' is not [a-z0-9_-]+");
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof(kMagic));
  h.container_version = kContainerVersion;
  h.payload_version = version;
  std::memcpy(h.kind, kind.data(), kind.size());
  std::memcpy(h.key, key.data(), key.size());
  for (const auto& p : parts) h.payload_size += p.size();
  h.chunk_size = kChunkBytes;
  h.n_chunks = (h.payload_size + kChunkBytes - 1) / kChunkBytes;
  std::vector<uint64_t> sums(h.n_chunks);
  const PartCursor cursor{parts};
  parallel_indices(h.n_chunks, threads, [&](uint64_t i) {
    sums[i] = cursor.hash(i * kChunkBytes, std::min(kChunkBytes, h.payload_size - i * kChunkBytes));
  });
  h.header_checksum = header_checksum(h, sums.data());
  std::vector<uint8_t> head(payload_offset(h.n_chunks), 0);
  std::memcpy(head.data(), &h, sizeof(h));
  std::memcpy(head.data() + sizeof(h), sums.data(), sums.size() * sizeof(uint64_t));

  const Status st = write_entry(path(kind, key), kind, head, parts);
  if (!st.ok()) warn_unwritable(st);
  return st;
}

Status DiskCache::write_entry(const std::string& file, const std::string& kind,
                              const std::vector<uint8_t>& head,
                              const std::vector<std::span<const uint8_t>>& parts) const {
  TRINITY_RETURN_IF_ERROR(make_dirs(join_path(dir_, kind)));
  AtomicFileWriter w;
  TRINITY_RETURN_IF_ERROR(w.open(file));
  TRINITY_RETURN_IF_ERROR(w.write(head.data(), head.size()));
  for (const auto& p : parts) TRINITY_RETURN_IF_ERROR(w.write(p.data(), p.size()));
  TRINITY_RETURN_IF_ERROR(w.commit());
  return evict(max_bytes_);
}

void DiskCache::warn_unwritable(const Status& st) const {
  // Once per process: a cache that cannot be written never changes a result, only the speed of
  // the next start, but the user should know why starts stay slow.
  static std::atomic<bool> warned{false};
  if (warned.exchange(true)) return;
  std::fprintf(stderr,
               "trinity: warning: the cache %s cannot be written (%s); results are unchanged but "
               "later starts redo this work (choose --cache-dir DIR, or --no-cache)\n",
               dir_.c_str(), st.message().c_str());
}

std::vector<CacheEntryInfo> DiskCache::list() const {
  std::vector<CacheEntryInfo> out;
  std::error_code ec;
  if (dir_.empty() || !fs::is_directory(dir_, ec)) return out;
  for (const auto& kind_dir : fs::directory_iterator(dir_, ec)) {
    if (!kind_dir.is_directory(ec)) continue;
    for (const auto& f : fs::directory_iterator(kind_dir.path(), ec)) {
      if (!f.is_regular_file(ec) || f.path().extension() != ".bin") continue;
      struct stat st {};
      if (::stat(f.path().c_str(), &st) != 0) continue;
      out.push_back({kind_dir.path().filename().string(), f.path().stem().string(),
                     f.path().string(), static_cast<uint64_t>(st.st_size),
                     static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec});
    }
  }
  std::sort(out.begin(), out.end(), [](const CacheEntryInfo& a, const CacheEntryInfo& b) {
    return a.mtime_ns != b.mtime_ns ? a.mtime_ns > b.mtime_ns : a.path < b.path;
  });
  return out;
}

Result<uint64_t> DiskCache::clear(const std::string& kind) const {
  uint64_t freed = 0;
  std::error_code ec;
  if (!dir_.empty() && fs::is_directory(dir_, ec))  // temp files of interrupted writers
    for (const auto& d : fs::recursive_directory_iterator(dir_, ec))
      if (d.path().filename().string().find(".bin.tmp.") != std::string::npos &&
          (kind.empty() || d.path().parent_path().filename() == kind))
        fs::remove(d.path(), ec);
  for (const CacheEntryInfo& e : list()) {
    if (!kind.empty() && e.kind != kind) continue;
    if (!fs::remove(e.path, ec) && ec) return io_error(e.path + ": cannot remove: " + ec.message());
    freed += e.bytes;
  }
  return freed;
}

Status DiskCache::evict(uint64_t max_bytes) const {
  uint64_t total = 0;
  for (const CacheEntryInfo& e : list()) {  // most recent first: keep those
    total += e.bytes;
    if (total <= max_bytes) continue;
    std::error_code ec;
    fs::remove(e.path, ec);
    if (ec) return io_error(e.path + ": cannot evict: " + ec.message());
  }
  return ok_status();
}

Result<std::string> sha256_file_memoized(const std::string& path, const DiskCache* cache) {
  if (!cache || !cache->enabled()) return sha256_file_hex(path);
  struct stat st {};
  std::error_code ec;
  const fs::path real = fs::canonical(path, ec);
  if (ec || ::stat(real.c_str(), &st) != 0) return sha256_file_hex(path);  // names the error
  const std::string identity =
      real.string() + '\0' + std::to_string(st.st_dev) + ':' + std::to_string(st.st_ino) + ':' +
      std::to_string(st.st_size) + ':' + std::to_string(st.st_mtim.tv_sec) + '.' +
      std::to_string(st.st_mtim.tv_nsec) + ':' + std::to_string(st.st_ctim.tv_sec) + '.' +
      std::to_string(st.st_ctim.tv_nsec);
  const std::string key = sha256_hex(identity);
  constexpr uint32_t kMemoVersion = 1;
  if (auto e = cache->get("sha256", key, kMemoVersion)) {
    const std::string_view hex(reinterpret_cast<const char*>(e->payload), e->size);
    if (hex.size() == 64 && hex.find_first_not_of("0123456789abcdef") == std::string_view::npos)
      return std::string(hex);
  }
  TRINITY_ASSIGN_OR_RETURN(std::string sha, sha256_file_hex(path));
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(sha.data()), sha.size());
  (void)cache->put("sha256", key, kMemoVersion, {bytes});  // a cache that cannot be written is
                                                           // only slower
  return sha;
}

}  // namespace trinity
