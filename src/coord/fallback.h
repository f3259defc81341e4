// Provider fallbacks and circuit breakers (docs/coordinator.md, "Fallbacks and circuit
// breakers").
//
// A slot whose spec lists `fallbacks`, or whose endpoint is live, is served by a
// FallbackProvider: candidate 0 is the slot's own provider, 1.. its fallbacks in order. A call
// goes to the first candidate whose circuit admits it; when that call fails after its retries,
// the next candidate is tried, and so on. The first success answers. When every candidate failed
// or was skipped, the call fails with the last real error, or, if no candidate was called (all
// circuits open), a kProvider error of class ProviderFailureKind::kCircuitOpen. Cancellation
// stops at once; so does a run whose wall-time budget ran out (no fallback is tried then).
//
// Circuits: one CircuitBreaker per live endpoint (endpoint_key), shared by every slot and run of
// a pool (CircuitRegistry, thread-safe); simulated providers (mock, skills) have none.
//   closed     calls pass; a failed call adds 1 to the consecutive failures, an answer resets
//              them; `failures` consecutive failures open the circuit (failures 0: never)
//   open       calls skip the endpoint (next candidate) until `open_ms` have passed since it
//              opened; then the next call finds it half-open and is its probe
//   half_open  exactly one probe call at a time (others skip the endpoint); the probe's answer
//              closes the circuit, its failure re-opens it for another open_ms
// What counts as a failure of the endpoint: connection and transport errors, timeouts, HTTP 408,
// 429 and 5xx (after the retries), unreadable 2xx answers, and errors of providers that give no
// class. What does not: a cancelled call and a call cut short by the run's wall-time budget
// (neither counts; a probe among them frees the probe slot), and HTTP 4xx other than 408/429,
// which is an answer: the endpoint is up (it resets the count and closes a half-open circuit),
// though the call itself failed and the next candidate is still tried. An outcome that arrives
// after the circuit changed state since the call was admitted is ignored.
// Time is the caller's Clock (CallContext::clock): tests drive it with a fake clock.
//
// What a dispatch did reaches the caller through CallContext::observer (on the calling thread):
// before every further endpoint call (budgets), every hop to the next candidate
// (provider_fallback events), every circuit change it caused (circuit_state_changed events), and
// a report of the endpoint that answered or failed last.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "coord/pool.h"
#include "coord/provider.h"
#include "core/json.h"

namespace trinity::coord {

enum class CircuitState { kClosed = 0, kOpen = 1, kHalfOpen = 2 };  // values: the metrics gauge
const char* circuit_state_name(CircuitState s);                     // closed | open | half_open

struct CircuitTransition {
  std::string name;  // endpoint_name, made unique within the registry (the metrics label)
  std::string key;   // endpoint_key
  std::string provider, model;
  CircuitState from = CircuitState::kClosed, to = CircuitState::kClosed;
  const char* reason = "";  // failures | open_elapsed | probe_succeeded | probe_failed
  int64_t consecutive_failures = 0;
  CircuitBreakerConfig config;
  OrderedJson to_json() const;  // the circuit_state_changed event's own fields
};

class CircuitBreaker {
 public:
  CircuitBreaker(std::string name, const ProviderSpec& spec, CircuitBreakerConfig config);

  // An admission: whether the call may go to the endpoint; pass it back to record().
  struct Ticket {
    bool admitted = false;
    bool probe = false;
    uint64_t generation = 0;
  };
  // Open -> half-open once open_ms have passed (the caller is then the probe: *changed is set).
  Ticket admit(int64_t now_ms, std::optional<CircuitTransition>* changed);
  enum class Outcome { kSuccess, kFailure, kNeutral };
  // The admitted call's outcome; returns the transition it caused, if any.
  std::optional<CircuitTransition> record(const Ticket& ticket, Outcome outcome, int64_t now_ms);

  CircuitState state() const;
  int64_t consecutive_failures() const;
  const std::string& name() const { return name_; }
  const std::string& key() const { return key_; }
  const CircuitBreakerConfig& config() const { return config_; }

 private:
  CircuitTransition transition(CircuitState to, const char* reason);  // with mu_ held

  const std::string name_, key_, provider_, model_;
  const CircuitBreakerConfig config_;
  mutable std::mutex mu_;
  CircuitState state_ = CircuitState::kClosed;
  uint64_t generation_ = 0;  // +1 per transition
  int64_t failures_ = 0;     // consecutive
  int64_t opened_at_ms_ = 0;
  bool probe_in_flight_ = false;
};

// The circuits of one pool, by endpoint. Thread-safe.
class CircuitRegistry {
 public:
  // The endpoint's breaker, created on first use with the spec's settings and a unique name.
  std::shared_ptr<CircuitBreaker> get(const ProviderSpec& spec);
  struct Row {
    std::string name;
    CircuitState state;
  };
  std::vector<Row> snapshot() const;  // by name

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<CircuitBreaker>> by_endpoint_;
};

// One hop of a dispatch from a candidate to the next one.
struct FallbackStep {
  int from_index = 0, to_index = 0;  // 0: the slot's own provider, 1..: its fallbacks
  const ProviderSpec* from = nullptr;
  const ProviderSpec* to = nullptr;
  std::string from_name, to_name;  // endpoint names (the circuits' when they have one)
  const char* reason = "";         // error | circuit_open
  ProviderFailure failure;         // reason error: the failed call's class
  std::string error;               // reason error: its message (a content field in traces)
  OrderedJson to_json() const;     // the provider_fallback event's own fields
};

// Where the dispatch ended: the endpoint that answered, or the last one that failed (the last
// one skipped when none was called).
struct CallReport {
  const ProviderSpec* endpoint = nullptr;  // owned by the provider (lives as long as the pool)
  std::string endpoint_name;
  int fallback_index = 0;
  int calls = 0;  // endpoints called (a candidate's own retries are not calls)
};

class DispatchObserver {
 public:
  virtual ~DispatchObserver() = default;
  // Before each endpoint call after the dispatch's first (the caller counted that one); a
  // non-OK status ends the dispatch with it.
  virtual Status before_extra_call(const ProviderSpec& endpoint) = 0;
  virtual Status on_fallback(const FallbackStep& step) = 0;
  virtual Status on_circuit_change(const CircuitTransition& transition) = 0;
  CallReport report;  // set before chat() returns
};

class FallbackProvider final : public Provider {
 public:
  struct Candidate {
    std::shared_ptr<Provider> provider;
    std::shared_ptr<CircuitBreaker> breaker;  // null: no circuit
    std::string name;
  };
  // `slot_spec` (with its fallbacks) is what spec() returns; candidates[0] is its own provider.
  FallbackProvider(ProviderSpec slot_spec, std::vector<Candidate> candidates);
  Result<ChatReply> chat(const ChatRequest& request, const CallContext& ctx) override;
  const std::vector<Candidate>& candidates() const { return candidates_; }

 private:
  Result<ChatReply> dispatch(const ChatRequest& request, const CallContext& ctx,
                             CallReport& report);
  Result<ChatReply> call(const Candidate& c, const ChatRequest& request, const CallContext& ctx,
                         const CircuitBreaker::Ticket& ticket, CallReport& report,
                         FallbackStep& step);

  std::vector<Candidate> candidates_;
};

// The provider of one slot: a FallbackProvider over the spec and its fallbacks with their
// circuits from `circuits` (null: none), or the plain provider when there is neither fallback
// nor circuit. `keys`: resolve_pool_keys; `http` as for make_provider.
Result<std::shared_ptr<Provider>> make_slot_provider(const ProviderSpec& spec, const ApiKeys& keys,
                                                     HttpClient* http, CircuitRegistry* circuits);

}  // namespace trinity::coord
