// A fixed pool of worker threads created once. parallel_for splits [0, n) into
// contiguous, deterministic chunks (the split depends only on n and the thread count),
// and the calling thread takes part in the work.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace trinity {

class ThreadPool {
 public:
  // n_threads <= 0: all hardware threads.
  explicit ThreadPool(int n_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // fn(thread_index, begin, end) is called for each non-empty chunk. Blocks until all finish.
  // Not reentrant: one parallel_for at a time per pool (callers serialize).
  void parallel_for(size_t n, const std::function<void(int, size_t, size_t)>& fn);

  // Runs fn(thread_index) once on every thread (including the caller as index 0).
  void run_on_all(const std::function<void(int)>& fn);

 private:
  void worker_loop(int index);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_start_, cv_done_;
  const std::function<void(int)>* job_ = nullptr;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
  std::mutex call_mu_;
};

}  // namespace trinity
