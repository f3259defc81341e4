#include "core/time_util.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace trinity {

int64_t unix_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t unix_now_ms() {
  return unix_now_us() / 1000;
}

std::string format_utc(int64_t unix_us, UtcFormat format) {
  int64_t secs = unix_us / 1000000, micros = unix_us % 1000000;
  if (micros < 0) micros += 1000000, secs -= 1;  // floor, also before 1970
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  const int y = tm.tm_year + 1900, mo = tm.tm_mon + 1;
  char buf[96];
  switch (format) {
    case UtcFormat::kIso8601:
      std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, tm.tm_mday,
                    tm.tm_hour, tm.tm_min, tm.tm_sec);
      break;
    case UtcFormat::kIso8601Micros:
      std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", y, mo, tm.tm_mday,
                    tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(micros));
      break;
    case UtcFormat::kCompact:
      std::snprintf(buf, sizeof(buf), "%04d%02d%02dT%02d%02d%02dZ", y, mo, tm.tm_mday, tm.tm_hour,
                    tm.tm_min, tm.tm_sec);
      break;
  }
  return buf;
}

std::string utc_now(UtcFormat format) {
  return format_utc(unix_now_us(), format);
}

}  // namespace trinity
