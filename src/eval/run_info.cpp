#include "eval/run_info.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>

namespace trinity::eval {

std::string format_double(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, v);
  return buf;
}

std::string new_run_id() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::random_device rd;
  char buf[80];
  std::snprintf(buf, sizeof(buf), "eval-%04d%02d%02dT%02d%02d%02dZ-%d-%06x", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(getpid()), static_cast<unsigned>(rd()) & 0xffffffu);
  return buf;
}

}  // namespace trinity::eval
