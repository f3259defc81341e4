#include "server/route_batcher.h"

namespace trinity::server {

BatchingRouter::BatchingRouter(std::shared_ptr<const Router> inner,
                               std::chrono::microseconds window, int max_batch, Metrics* metrics)
    : inner_(std::move(inner)),
      window_(window),
      max_batch_(static_cast<size_t>(max_batch < 1 ? 1 : max_batch)),
      metrics_(metrics) {}

Result<std::vector<RouteDecision>> BatchingRouter::route_batch(
    const std::vector<std::vector<Message>>& batch) const {
  if (metrics_) {
    metrics_->inc("trinity_route_batches_total");
    metrics_->observe("trinity_route_batch_size", {}, static_cast<double>(batch.size()));
  }
  return inner_->route_batch(batch);
}

void BatchingRouter::run_batch(std::deque<Pending*>& batch) const {
  std::vector<std::vector<Message>> convs;
  convs.reserve(batch.size());
  for (Pending* p : batch) convs.push_back(*p->messages);
  auto out = route_batch(convs);
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!out.ok()) {
      batch[i]->result.emplace(out.status());
    } else if (out->size() != batch.size()) {
      batch[i]->result.emplace(internal_error("route_batch returned " +
                                              std::to_string(out->size()) + " decisions for " +
                                              std::to_string(batch.size()) + " conversations"));
    } else {
      batch[i]->result.emplace((*out)[i]);
    }
  }
  running_ -= static_cast<int64_t>(batch.size());
  done_cv_.notify_all();
  cv_.notify_all();  // a gathering leader dispatches once the router is idle
}

Result<RouteDecision> BatchingRouter::route(const std::vector<Message>& messages) const {
  const auto t0 = std::chrono::steady_clock::now();
  Pending self;
  self.messages = &messages;
  std::unique_lock<std::mutex> lock(mu_);
  queue_.push_back(&self);
  auto take_batch = [&] {
    std::deque<Pending*> batch;
    while (!queue_.empty() && batch.size() < max_batch_) {
      batch.push_back(queue_.front());
      queue_.pop_front();
    }
    running_ += static_cast<int64_t>(batch.size());
    return batch;
  };
  if (!gathering_) {
    // Leader: while the router is busy, gather followers for up to the window.
    gathering_ = true;
    if (window_.count() > 0)
      cv_.wait_until(lock, t0 + window_,
                     [&] { return queue_.size() >= max_batch_ || running_ == 0; });
    std::deque<Pending*> batch = take_batch();
    gathering_ = false;
    if (!queue_.empty()) done_cv_.notify_all();  // leftovers lead the next batch
    lock.unlock();
    run_batch(batch);
    lock.lock();
  } else if (queue_.size() >= max_batch_) {
    cv_.notify_all();
  }
  // Wait for our result; a caller left over from a full batch leads the next one.
  while (!self.result) {
    if (!gathering_ && !queue_.empty() && queue_.front() == &self) {
      std::deque<Pending*> batch = take_batch();
      if (!queue_.empty()) done_cv_.notify_all();
      lock.unlock();
      run_batch(batch);
      lock.lock();
      continue;
    }
    done_cv_.wait(lock);
  }
  lock.unlock();
  if (metrics_) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    metrics_->observe("trinity_route_duration_seconds", {}, s);
  }
  return std::move(*self.result);
}

}  // namespace trinity::server
