// Shared helpers for the eval tests: routers with scripted behaviour and the golden data.
#pragma once

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "core/file_util.h"
#include "core/json.h"
#include "eval/cases.h"
#include "router/route.h"

namespace trinity::eval::testing {

inline std::string golden_routes_dir() {
  return std::string(TRINITY_TEST_DATA_DIR) + "/golden/routes";
}

// Replays the golden f32/bf16 routes (routes/<name>.details.json): the unrounded f32 logits and
// token counts of the reference, keyed by transcript. Unknown transcripts are an error.
class GoldenRouter final : public Router {
 public:
  explicit GoldenRouter(const std::string& details_path) {
    auto doc = load_json_file(details_path);
    if (!doc.ok()) return;
    for (const auto& c : (*doc)["cases"]) {
      Entry e;
      for (size_t i = 0; i < kNumAgents; ++i) e.agent[i] = c["agent_logits_f32"][i].get<float>();
      for (size_t i = 0; i < kNumRoles; ++i) e.role[i] = c["role_logits_f32"][i].get<float>();
      e.token_count = c["token_count"].get<int64_t>();
      by_transcript_[c["transcript"].get<std::string>()] = e;
    }
  }
  size_t size() const { return by_transcript_.size(); }
  Result<RouteDecision> route(const std::vector<Message>& messages) const override {
    auto it = by_transcript_.find(build_transcript(messages));
    if (it == by_transcript_.end()) return not_found("golden router: unknown transcript");
    auto d = make_route_decision(messages, it->second.agent, it->second.role);
    if (!d.ok()) return d;
    d->token_count = it->second.token_count;
    d->profile = profile();
    return d;
  }
  std::string profile() const override { return "golden"; }

 private:
  struct Entry {
    std::array<float, kNumAgents> agent{};
    std::array<float, kNumRoles> role{};
    int64_t token_count = 0;
  };
  std::map<std::string, Entry> by_transcript_;
};

// Returns fixed logits for every transcript, with a configurable token count; it can be made
// nondeterministic: from call number `drift_after_calls` on, one logit drifts by a call-dependent
// amount (as an unstable kernel would), which changes the rounded logits and so the route_hash.
class ScriptedRouter final : public Router {
 public:
  std::array<float, kNumAgents> agent{4.0f, 1.0f, 0.5f, 0.f, 0.f, 0.f, 0.f};
  std::array<float, kNumRoles> role{0.f, 3.0f, 0.5f};
  int64_t token_count = 7;
  long drift_after_calls = -1;       // < 0: deterministic
  std::string drift_case_substring;  // only transcripts containing it drift ("" = all)
  mutable std::atomic<long> calls{0};
  mutable std::atomic<long> batch_calls{0};
  mutable std::string events;  // 'b' per route_batch, 'c' per clear_prefix_cache, in order

  Result<RouteDecision> route(const std::vector<Message>& messages) const override {
    const long n = calls++;
    auto a = agent;
    if (drift_after_calls >= 0 && n >= drift_after_calls &&
        build_transcript(messages).find(drift_case_substring) != std::string::npos) {
      a[1] += 1e-3f * static_cast<float>(n + 1);
    }
    auto d = make_route_decision(messages, a, role);
    if (!d.ok()) return d;
    d->token_count = token_count;
    d->profile = profile();
    return d;
  }
  Result<std::vector<RouteDecision>> route_batch(
      const std::vector<std::vector<Message>>& batch) const override {
    ++batch_calls;
    events += 'b';
    return Router::route_batch(batch);
  }
  void clear_prefix_cache() const override { events += 'c'; }
  std::string profile() const override { return "scripted"; }
  ReflexFloors reflex_floors() const override { return ReflexFloors{0.5, 1.0}; }
};

inline EvalCase make_case(const std::string& id, const std::string& content, int agent, int role) {
  EvalCase c;
  c.id = id;
  c.messages = {Message{"user", content}};
  c.expected = ExpectedRoute{agent, role};
  return c;
}

}  // namespace trinity::eval::testing
