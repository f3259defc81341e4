#include "model/packed_cache.h"

#include <cstring>

#include "core/sha256.h"

namespace trinity {

namespace {

constexpr size_t kBlobAlign = 4096;

// The table of contents, one record per matrix, before the page-aligned blobs.
struct TocRecord {
  int64_t k, n;
  int32_t act;  // DType
  int32_t layout_bytes;
  uint64_t offset, size;  // blob, relative to the payload start
};

size_t align_up(size_t v, size_t a) {
  return (v + a - 1) / a * a;
}

}  // namespace

std::string packed_cache_key(const std::string& identity, const std::string& profile) {
  const std::string material =
      "packed-weights\n" + identity + "\nprofile " + profile + "\nonednn " + cpu::onednn_version() +
      "\nisa " + cpu::probe_bf16_matmul_impl() + "\nformat " + std::to_string(kPackedCacheVersion);
  return sha256_hex(material);
}

std::optional<std::vector<std::unique_ptr<cpu::PackedMatmul>>> load_packed(
    const DiskCache& cache, const std::string& key, const std::vector<PackedSpec>& specs,
    int threads, std::string* why) {
  auto entry = cache.get("weights", key, kPackedCacheVersion, why, threads);
  if (!entry) return std::nullopt;
  auto reject = [&](const std::string& reason) {
    if (why) *why = cache.path("weights", key) + ": " + reason + "; packing afresh";
    return std::nullopt;
  };
  const uint8_t* p = entry->payload;
  uint64_t count = 0;
  if (entry->size < sizeof(count)) return reject("no table of contents");
  std::memcpy(&count, p, sizeof(count));
  if (count != specs.size()) return reject("another model (matrix count)");
  size_t pos = sizeof(count);
  std::vector<std::unique_ptr<cpu::PackedMatmul>> out;
  for (const PackedSpec& s : specs) {
    TocRecord r{};
    if (entry->size - pos < sizeof(r)) return reject("truncated table of contents");
    std::memcpy(&r, p + pos, sizeof(r));
    pos += sizeof(r);
    if (r.layout_bytes < 0 || entry->size - pos < static_cast<size_t>(r.layout_bytes))
      return reject("truncated table of contents");
    const std::string_view layout(reinterpret_cast<const char*>(p + pos),
                                  static_cast<size_t>(r.layout_bytes));
    pos += static_cast<size_t>(r.layout_bytes);
    if (r.k != s.k || r.n != s.n || r.act != static_cast<int32_t>(s.act))
      return reject("another model (matrix shapes)");
    if (r.offset > entry->size || r.size > entry->size - r.offset || r.offset % kBlobAlign != 0)
      return reject("blob out of bounds");
    auto pm = cpu::PackedMatmul::from_packed(r.k, r.n, s.act, layout, {p + r.offset, r.size},
                                             entry->file);
    if (!pm.ok()) return reject(pm.status().message());
    out.push_back(std::move(*pm));
  }
  return out;
}

Status store_packed(const DiskCache& cache, const std::string& key,
                    const std::vector<const cpu::PackedMatmul*>& mats, int threads) {
  if (!cache.enabled()) return ok_status();
  std::string toc;
  const uint64_t count = mats.size();
  toc.append(reinterpret_cast<const char*>(&count), sizeof(count));
  size_t toc_bytes = sizeof(count);
  for (const cpu::PackedMatmul* m : mats) toc_bytes += sizeof(TocRecord) + m->layout_bytes().size();
  size_t offset = align_up(toc_bytes, kBlobAlign);
  std::vector<std::span<const uint8_t>> parts;
  std::vector<size_t> pads;
  for (const cpu::PackedMatmul* m : mats) {
    const std::string layout = m->layout_bytes();
    const TocRecord r{m->k(),
                      m->n(),
                      static_cast<int32_t>(m->act_dtype()),
                      static_cast<int32_t>(layout.size()),
                      offset,
                      m->packed_data().size()};
    toc.append(reinterpret_cast<const char*>(&r), sizeof(r));
    toc += layout;
    offset = align_up(offset + r.size, kBlobAlign);
  }
  static const std::vector<uint8_t> zeros(kBlobAlign, 0);
  parts.push_back({reinterpret_cast<const uint8_t*>(toc.data()), toc.size()});
  parts.push_back({zeros.data(), align_up(toc.size(), kBlobAlign) - toc.size()});
  for (const cpu::PackedMatmul* m : mats) {
    const auto blob = m->packed_data();
    parts.push_back(blob);
    parts.push_back({zeros.data(), align_up(blob.size(), kBlobAlign) - blob.size()});
  }
  return cache.put("weights", key, kPackedCacheVersion, parts, threads);
}

}  // namespace trinity
