// trinity cache list|clear: the user's cache of derived data (tokenizer tables, packed weights,
// verification memos), and the --cache-dir / --no-cache options every loading command takes.
#include <cstdio>

#include "cli_common.h"
#include "core/disk_cache.h"
#include "core/time_util.h"

namespace trinity::cli {

namespace {

struct Options {
  CacheConfig cache;
  std::string kind;
  bool json = false;
};

int run_list(const Options& o) {
  const DiskCache cache(o.cache);
  if (cache.dir().empty())
    return report_error("cache list", invalid_argument("no cache directory: set XDG_CACHE_HOME "
                                                       "or HOME, or pass --cache-dir"));
  uint64_t total = 0;
  Json entries = Json::array();
  for (const CacheEntryInfo& e : cache.list()) {
    if (!o.kind.empty() && e.kind != o.kind) continue;
    total += e.bytes;
    entries.push_back({{"kind", e.kind},
                       {"key", e.key},
                       {"bytes", e.bytes},
                       {"last_used", format_utc(e.mtime_ns / 1000, UtcFormat::kIso8601)},
                       {"path", e.path}});
  }
  if (o.json) {
    Json j = {{"dir", cache.dir()}, {"total_bytes", total}, {"entries", entries}};
    std::printf("%s\n", j.dump(2).c_str());
    return kExitOk;
  }
  std::printf("cache %s: %zu entries, %.1f MB\n", cache.dir().c_str(), entries.size(),
              static_cast<double>(total) / 1e6);
  for (const Json& e : entries)
    std::printf("  %-10s %12.1f MB  %s  %s\n", e["kind"].get<std::string>().c_str(),
                e["bytes"].get<double>() / 1e6, e["last_used"].get<std::string>().c_str(),
                e["key"].get<std::string>().c_str());
  return kExitOk;
}

int run_clear(const Options& o) {
  const DiskCache cache(o.cache);
  if (cache.dir().empty())
    return report_error("cache clear", invalid_argument("no cache directory: set XDG_CACHE_HOME "
                                                        "or HOME, or pass --cache-dir"));
  auto freed = cache.clear(o.kind);
  if (!freed.ok()) return report_error("cache clear", freed.status());
  std::printf("cleared %s%s: %.1f MB freed\n", cache.dir().c_str(),
              o.kind.empty() ? "" : (" (" + o.kind + ")").c_str(),
              static_cast<double>(*freed) / 1e6);
  return kExitOk;
}

}  // namespace

void add_cache_options(CLI::App* sub, CacheConfig& cache) {
  sub->add_option("--cache-dir", cache.dir,
                  "Cache of tokenizer tables, packed weights and verification memos (default: "
                  "$XDG_CACHE_HOME/trinity, else ~/.cache/trinity)");
  sub->add_flag(
      "--no-cache", [&cache](int64_t) { cache.enabled = false; },
      "Neither read nor write the cache (results are identical, starts are slower)");
}

void register_cache(CLI::App& app, CommandRegistry& reg) {
  auto o = std::make_shared<Options>();
  CLI::App* cache = app.add_subcommand(
      "cache", "The cache of derived data: tokenizer tables, packed weights, verification memos");
  cache->require_subcommand(1);
  CLI::App* list = cache->add_subcommand("list", "List cache entries, most recently used first");
  list->add_option("--cache-dir", o->cache.dir,
                   "Cache directory (default: $XDG_CACHE_HOME/trinity)");
  list->add_option("--kind", o->kind, "Only entries of this kind (tokenizer, weights, sha256)");
  list->add_flag("--json", o->json, "Print JSON");
  reg.add(list, [o] { return run_list(*o); });
  CLI::App* clear = cache->add_subcommand("clear", "Delete cache entries (all, or one --kind)");
  clear->add_option("--cache-dir", o->cache.dir,
                    "Cache directory (default: $XDG_CACHE_HOME/trinity)");
  clear->add_option("--kind", o->kind, "Only entries of this kind (tokenizer, weights, sha256)");
  reg.add(clear, [o] { return run_clear(*o); });
}

}  // namespace trinity::cli
