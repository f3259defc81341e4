// UTC timestamps: the one formatter for manifests, snapshots, run reports and run ids.
#pragma once

#include <cstdint>
#include <string>

namespace trinity {

enum class UtcFormat {
  kIso8601,        // "2025-01-02T03:04:05Z" (bundle manifests)
  kIso8601Micros,  // "2025-01-02T03:04:05.123456Z" (snapshots' generated_at, eval started_at)
  kCompact,        // "20250102T030405Z" (run ids)
};

// Microseconds since the Unix epoch, from the system clock.
int64_t unix_now_us();
// Milliseconds since the Unix epoch (unix_now_us() / 1000).
int64_t unix_now_ms();

// Formats `unix_us` (microseconds since the Unix epoch) in UTC; sub-second digits are truncated.
std::string format_utc(int64_t unix_us, UtcFormat format);

// format_utc(unix_now_us(), format).
std::string utc_now(UtcFormat format = UtcFormat::kIso8601);

}  // namespace trinity
