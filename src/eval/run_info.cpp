#include "eval/run_info.h"

#include <unistd.h>

#include <cstdio>
#include <random>

#include "core/time_util.h"

namespace trinity::eval {

std::string format_double(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, v);
  return buf;
}

std::string new_run_id() {
  std::random_device rd;
  char tail[48];
  std::snprintf(tail, sizeof(tail), "-%d-%06x", static_cast<int>(getpid()),
                static_cast<unsigned>(rd()) & 0xffffffu);
  return "eval-" + utc_now(UtcFormat::kCompact) + tail;
}

}  // namespace trinity::eval
