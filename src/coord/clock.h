// Time source for the coordinator: monotonic time for budgets and latency, wall time for trace
// timestamps, and an interruptible sleep for retry backoff. Tests inject a fake clock.
#pragma once

#include <atomic>
#include <cstdint>

namespace trinity::coord {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t monotonic_ms() = 0;
  virtual int64_t wall_ms() = 0;  // milliseconds since the Unix epoch
  // Sleeps up to `ms`; returns early (false) when *cancel becomes true.
  virtual bool sleep_ms(int64_t ms, const std::atomic<bool>* cancel) = 0;
};

// The process-wide real clock (steady_clock / system_clock / sleep_for in small slices).
Clock& system_clock();

}  // namespace trinity::coord
