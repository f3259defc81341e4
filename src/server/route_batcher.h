// BatchingRouter: a Router decorator that coalesces concurrent route() calls into one
// route_batch() call on the wrapped router (one forward pass streams the weights once).
//
// The first caller to find no batch being gathered becomes the leader. If the wrapped router is
// idle (no batch running) it dispatches at once, so a lone request never waits. If a batch is
// running, the leader gathers the callers that arrive meanwhile until that batch finishes, the
// queue holds `max_batch`, or `window` has passed (whichever is first), then routes them all
// with one route_batch() call and hands each caller its decision. Under load this turns N
// concurrent routing calls into a few forward passes; idle, it adds no latency. The window is
// the server's --route-batch-window-us (default 1000 us).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>

#include "router/route.h"
#include "server/metrics.h"

namespace trinity::server {

class BatchingRouter final : public Router {
 public:
  // `metrics` (optional) must outlive the router.
  BatchingRouter(std::shared_ptr<const Router> inner, std::chrono::microseconds window,
                 int max_batch, Metrics* metrics = nullptr);

  Result<RouteDecision> route(const std::vector<Message>& messages) const override;
  Result<std::vector<RouteDecision>> route_batch(
      const std::vector<std::vector<Message>>& batch) const override;
  std::string profile() const override { return inner_->profile(); }
  std::string backend_label() const override { return inner_->backend_label(); }
  ReflexFloors reflex_floors() const override { return inner_->reflex_floors(); }

  const Router& inner() const { return *inner_; }

 private:
  struct Pending {
    const std::vector<Message>* messages = nullptr;
    std::optional<Result<RouteDecision>> result;
  };
  void run_batch(std::deque<Pending*>& batch) const;

  std::shared_ptr<const Router> inner_;
  std::chrono::microseconds window_;
  size_t max_batch_;
  Metrics* metrics_;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;       // leader: queue grew
  mutable std::condition_variable done_cv_;  // followers: results delivered
  mutable std::deque<Pending*> queue_;
  mutable bool gathering_ = false;  // a leader is gathering the queue
  mutable int64_t running_ = 0;     // callers whose batch is executing
};

}  // namespace trinity::server
