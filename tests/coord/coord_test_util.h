// Shared fakes for the coordinator tests: a scripted router, scripted providers, a fake clock
// and an in-memory event sink.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <mutex>

#include "coord/orchestrator.h"
#include "router/route.h"

namespace trinity::coord::testing {

inline constexpr double kMediumAgent = 0.5, kMediumRole = 2.0;  // between floor and 4x floor
inline constexpr double kLowAgent = 0.1, kLowRole = 2.0;        // agent margin below its floor
inline constexpr double kHighAgent = 1.0, kHighRole = 5.0;      // >= 0.96 and >= 4.24

struct ScriptStep {
  ScriptStep(int a, int r, double am = kMediumAgent, double rm = kMediumRole, bool none = false)
      : agent(a), role(r), agent_margin(am), role_margin(rm), no_margins(none) {}
  int agent = 0;
  int role = kRoleWorker;
  double agent_margin = kMediumAgent;
  double role_margin = kMediumRole;
  bool no_margins = false;
};

// Returns the scripted decisions in order (the last one repeats); records what it routed.
class ScriptedRouter final : public Router {
 public:
  explicit ScriptedRouter(std::vector<ScriptStep> steps) : steps_(std::move(steps)) {}
  Result<RouteDecision> route(const std::vector<Message>& messages) const override {
    std::lock_guard<std::mutex> lock(mu_);
    const ScriptStep& s = steps_[std::min(calls_, steps_.size() - 1)];
    ++calls_;
    seen_.push_back(messages);
    std::array<float, kNumAgents> a{};
    std::array<float, kNumRoles> r{};
    a[static_cast<size_t>(s.agent)] = static_cast<float>(s.agent_margin);
    r[static_cast<size_t>(s.role)] = static_cast<float>(s.role_margin);
    TRINITY_ASSIGN_OR_RETURN(RouteDecision d, make_route_decision(messages, a, r));
    if (s.no_margins) {
      d.agent_margin.reset();
      d.role_margin.reset();
    }
    d.token_count = static_cast<int64_t>(build_transcript(messages).size());
    d.profile = "scripted";
    return d;
  }
  std::string profile() const override { return "scripted"; }
  std::vector<std::vector<Message>> seen() const {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  std::vector<ScriptStep> steps_;
  mutable std::mutex mu_;
  mutable size_t calls_ = 0;
  mutable std::vector<std::vector<Message>> seen_;
};

// Manual monotonic time; sleep advances it. Wall time = 1.7e12 + monotonic.
class FakeClock final : public Clock {
 public:
  int64_t monotonic_ms() override { return now_.load(); }
  int64_t wall_ms() override { return 1700000000000 + now_.load(); }
  bool sleep_ms(int64_t ms, const std::atomic<bool>*) override {
    std::lock_guard<std::mutex> lock(mu_);
    sleeps_.push_back(ms);
    now_ += ms;
    return true;
  }
  void advance(int64_t ms) { now_ += ms; }
  std::vector<int64_t> sleeps() {
    std::lock_guard<std::mutex> lock(mu_);
    return sleeps_;
  }

 private:
  std::atomic<int64_t> now_{0};
  std::mutex mu_;
  std::vector<int64_t> sleeps_;
};

// Real time, but backoff sleeps only get recorded (keeps retry tests fast).
class RecordingClock final : public Clock {
 public:
  int64_t monotonic_ms() override { return system_clock().monotonic_ms(); }
  int64_t wall_ms() override { return system_clock().wall_ms(); }
  bool sleep_ms(int64_t ms, const std::atomic<bool>*) override {
    std::lock_guard<std::mutex> lock(mu_);
    sleeps_.push_back(ms);
    return true;
  }
  std::vector<int64_t> sleeps() {
    std::lock_guard<std::mutex> lock(mu_);
    return sleeps_;
  }

 private:
  std::mutex mu_;
  std::vector<int64_t> sleeps_;
};

struct ScriptedReply {
  ScriptedReply() = default;
  ScriptedReply(std::string t, int64_t latency = 0, int64_t in = 10, int64_t out = 5)
      : text(std::move(t)), latency_ms(latency), input_tokens(in), output_tokens(out) {}
  static ScriptedReply fail(Status st) {
    ScriptedReply r;
    r.error = std::move(st);
    return r;
  }
  static ScriptedReply calls(std::vector<ToolCall> tool_calls, std::string text = "") {
    ScriptedReply r(std::move(text));
    r.tool_calls = std::move(tool_calls);
    return r;
  }
  std::string text;
  std::vector<ToolCall> tool_calls;
  int64_t latency_ms = 0;  // advances the FakeClock (if any)
  int64_t input_tokens = 10, output_tokens = 5;
  std::optional<Status> error;
};

// Replies from per-role queues (the last reply of a queue repeats); records requests.
class ScriptedProvider final : public Provider {
 public:
  ScriptedProvider(std::string model, FakeClock* clock = nullptr)
      : Provider(make_spec(std::move(model))), clock_(clock) {}
  static ProviderSpec make_spec(std::string model) {
    ProviderSpec s;
    s.provider = "scripted";
    s.model = std::move(model);
    s.price_in_per_mtok = 1.0;
    s.price_out_per_mtok = 2.0;
    return s;
  }
  void set(int role, std::vector<ScriptedReply> replies) {
    std::lock_guard<std::mutex> lock(mu_);
    queues_[static_cast<size_t>(role)] = std::deque<ScriptedReply>(replies.begin(), replies.end());
  }
  Result<ChatReply> chat(const ChatRequest& request, const CallContext&) override {
    ScriptedReply r;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(request);
      auto& q = queues_[static_cast<size_t>(request.role_id)];
      if (q.empty()) return Status(ErrorCode::kProvider, "scripted provider: no reply scripted");
      r = q.front();
      if (q.size() > 1) q.pop_front();
    }
    if (clock_) clock_->advance(r.latency_ms);
    if (r.error) return *r.error;
    ChatReply out;
    out.text = r.text;
    out.tool_calls = r.tool_calls;
    out.input_tokens = r.input_tokens;
    out.output_tokens = r.output_tokens;
    return out;
  }
  std::vector<ChatRequest> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  FakeClock* clock_;
  std::mutex mu_;
  std::array<std::deque<ScriptedReply>, kNumRoles> queues_;
  std::vector<ChatRequest> requests_;
};

class MemorySink final : public EventSink {
 public:
  Status on_event(const OrderedJson& e) override {
    std::lock_guard<std::mutex> lock(mu_);
    events.push_back(e);
    return ok_status();
  }
  std::vector<std::string> types() const {
    std::vector<std::string> t;
    for (const auto& e : events) t.push_back(e["event"].get<std::string>());
    return t;
  }
  std::vector<OrderedJson> of(const std::string& type) const {
    std::vector<OrderedJson> out;
    for (const auto& e : events)
      if (e["event"] == type) out.push_back(e);
    return out;
  }
  std::vector<OrderedJson> events;
  std::mutex mu_;
};

// One provider serving all 7 slots.
inline std::shared_ptr<const AgentPool> single_provider_pool(std::shared_ptr<Provider> p) {
  std::array<std::shared_ptr<Provider>, kNumAgents> all;
  all.fill(p);
  return AgentPool::from_providers(all, default_role_prompts());
}

}  // namespace trinity::coord::testing
