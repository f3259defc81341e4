#include "coord/fallback.h"

#include <algorithm>

namespace trinity::coord {
namespace {

bool out_of_time(const CallContext& ctx) {
  return ctx.deadline_ms >= 0 && ctx.clock->monotonic_ms() >= ctx.deadline_ms;
}

// What a finished call says about its endpoint's health (see the header comment).
CircuitBreaker::Outcome classify(const Result<ChatReply>& r, const ProviderFailure& f,
                                 const CallContext& ctx) {
  if (r.ok()) return CircuitBreaker::Outcome::kSuccess;
  if (r.status().code() == ErrorCode::kCancelled || out_of_time(ctx))
    return CircuitBreaker::Outcome::kNeutral;
  const long s = f.http_status;
  if (f.kind == ProviderFailureKind::kHttpStatus && s >= 400 && s < 500 && s != 408 && s != 429)
    return CircuitBreaker::Outcome::kSuccess;  // an answer: the endpoint is up
  return CircuitBreaker::Outcome::kFailure;
}

OrderedJson opt_string(const std::string& s) {
  return s.empty() ? OrderedJson(nullptr) : OrderedJson(s);
}

}  // namespace

const char* circuit_state_name(CircuitState s) {
  switch (s) {
    case CircuitState::kClosed:
      return "closed";
    case CircuitState::kOpen:
      return "open";
    case CircuitState::kHalfOpen:
      return "half_open";
  }
  return "closed";
}

OrderedJson CircuitTransition::to_json() const {
  OrderedJson j;
  j["endpoint"] = name;
  j["endpoint_key"] = key;
  j["provider"] = provider;
  j["model"] = model;
  j["from"] = circuit_state_name(from);
  j["to"] = circuit_state_name(to);
  j["reason"] = reason;
  j["consecutive_failures"] = consecutive_failures;
  j["failure_threshold"] = config.failures;
  j["open_seconds"] = static_cast<double>(config.open_ms) / 1000.0;
  return j;
}

OrderedJson FallbackStep::to_json() const {
  const bool error = std::string(reason) == "error";
  OrderedJson j;
  j["from_index"] = from_index;
  j["from_endpoint"] = from_name;
  j["from_provider"] = from->provider;
  j["from_model"] = from->model;
  j["to_index"] = to_index;
  j["to_endpoint"] = to_name;
  j["to_provider"] = to->provider;
  j["to_model"] = to->model;
  j["reason"] = reason;
  j["failure"] = error ? OrderedJson(provider_failure_kind_name(failure.kind)) : nullptr;
  j["http_status"] = error && failure.kind == ProviderFailureKind::kHttpStatus
                         ? OrderedJson(failure.http_status)
                         : nullptr;
  j["error"] = error ? opt_string(this->error) : nullptr;
  return j;
}

CircuitBreaker::CircuitBreaker(std::string name, const ProviderSpec& spec,
                               CircuitBreakerConfig config)
    : name_(std::move(name)),
      key_(endpoint_key(spec)),
      provider_(spec.provider),
      model_(spec.model),
      config_(config) {}

CircuitTransition CircuitBreaker::transition(CircuitState to, const char* reason) {
  CircuitTransition t;
  t.name = name_;
  t.key = key_;
  t.provider = provider_;
  t.model = model_;
  t.from = state_;
  t.to = to;
  t.reason = reason;
  t.consecutive_failures = failures_;
  t.config = config_;
  state_ = to;
  generation_ += 1;
  return t;
}

CircuitBreaker::Ticket CircuitBreaker::admit(int64_t now_ms,
                                             std::optional<CircuitTransition>* changed) {
  std::lock_guard<std::mutex> lock(mu_);
  switch (state_) {
    case CircuitState::kClosed:
      return Ticket{true, false, generation_};
    case CircuitState::kOpen:
      if (now_ms - opened_at_ms_ < config_.open_ms) return Ticket{};
      *changed = transition(CircuitState::kHalfOpen, "open_elapsed");
      probe_in_flight_ = true;
      return Ticket{true, true, generation_};
    case CircuitState::kHalfOpen:
      if (probe_in_flight_) return Ticket{};
      probe_in_flight_ = true;
      return Ticket{true, true, generation_};
  }
  return Ticket{};
}

std::optional<CircuitTransition> CircuitBreaker::record(const Ticket& ticket, Outcome outcome,
                                                        int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!ticket.admitted || ticket.generation != generation_) return std::nullopt;  // stale
  if (ticket.probe) probe_in_flight_ = false;
  if (outcome == Outcome::kNeutral) return std::nullopt;
  if (outcome == Outcome::kSuccess) {
    failures_ = 0;
    if (state_ == CircuitState::kHalfOpen)
      return transition(CircuitState::kClosed, "probe_succeeded");
    return std::nullopt;
  }
  failures_ += 1;
  if (state_ == CircuitState::kHalfOpen) {
    opened_at_ms_ = now_ms;
    return transition(CircuitState::kOpen, "probe_failed");
  }
  if (state_ == CircuitState::kClosed && config_.failures > 0 && failures_ >= config_.failures) {
    opened_at_ms_ = now_ms;
    return transition(CircuitState::kOpen, "failures");
  }
  return std::nullopt;
}

CircuitState CircuitBreaker::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

int64_t CircuitBreaker::consecutive_failures() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failures_;
}

std::shared_ptr<CircuitBreaker> CircuitRegistry::get(const ProviderSpec& spec) {
  const std::string key = endpoint_key(spec);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_endpoint_.find(key);
  if (it != by_endpoint_.end()) return it->second;
  const std::string base = endpoint_name(spec);
  std::string name = base;
  for (int n = 2;; ++n) {
    const bool taken = std::any_of(by_endpoint_.begin(), by_endpoint_.end(),
                                   [&](const auto& kv) { return kv.second->name() == name; });
    if (!taken) break;
    name = base + "#" + std::to_string(n);
  }
  auto breaker = std::make_shared<CircuitBreaker>(name, spec, spec.circuit_breaker);
  by_endpoint_.emplace(key, breaker);
  return breaker;
}

std::vector<CircuitRegistry::Row> CircuitRegistry::snapshot() const {
  std::vector<Row> rows;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, b] : by_endpoint_) rows.push_back(Row{b->name(), b->state()});
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.name < b.name; });
  return rows;
}

FallbackProvider::FallbackProvider(ProviderSpec slot_spec, std::vector<Candidate> candidates)
    : Provider(std::move(slot_spec)), candidates_(std::move(candidates)) {}

Result<ChatReply> FallbackProvider::chat(const ChatRequest& request, const CallContext& ctx) {
  CallReport report;
  report.endpoint = &candidates_[0].provider->spec();
  report.endpoint_name = candidates_[0].name;
  auto reply = dispatch(request, ctx, report);
  if (ctx.observer) ctx.observer->report = report;
  return reply;
}

Result<ChatReply> FallbackProvider::dispatch(const ChatRequest& request, const CallContext& ctx,
                                             CallReport& report) {
  DispatchObserver* obs = ctx.observer;
  std::optional<Status> last_error;
  ProviderFailure last_failure;
  FallbackStep step;
  for (size_t i = 0; i < candidates_.size(); ++i) {
    const Candidate& c = candidates_[i];
    const ProviderSpec& spec = c.provider->spec();
    if (i > 0) {
      step.to_index = static_cast<int>(i);
      step.to = &spec;
      step.to_name = c.name;
      if (obs) TRINITY_RETURN_IF_ERROR(obs->on_fallback(step));
    }
    if (ctx.cancel && ctx.cancel->load()) return Status(ErrorCode::kCancelled, "run cancelled");
    step = FallbackStep{};
    step.from_index = static_cast<int>(i);
    step.from = &spec;
    step.from_name = c.name;
    CircuitBreaker::Ticket ticket{true, false, 0};
    if (c.breaker) {
      std::optional<CircuitTransition> changed;
      ticket = c.breaker->admit(ctx.clock->monotonic_ms(), &changed);
      Status st = changed && obs ? obs->on_circuit_change(*changed) : ok_status();
      if (!st.ok() || !ticket.admitted) {
        c.breaker->record(ticket, CircuitBreaker::Outcome::kNeutral, 0);
        TRINITY_RETURN_IF_ERROR(st);
        step.reason = "circuit_open";
        continue;
      }
    }
    auto reply = call(c, request, ctx, ticket, report, step);
    if (reply.ok()) {
      reply->fallback_index = static_cast<int>(i);
      report.fallback_index = static_cast<int>(i);
      return reply;
    }
    if (step.reason[0] == '\0') return reply.status();  // cancelled, or stopped by the observer
    report.fallback_index = static_cast<int>(i);
    last_error = reply.status();
    last_failure = step.failure;
    if (out_of_time(ctx)) break;  // the run's wall-time budget: no time for another endpoint
  }
  if (last_error) {
    if (ctx.failure) *ctx.failure = last_failure;
    return *last_error;
  }
  if (ctx.failure) *ctx.failure = ProviderFailure{ProviderFailureKind::kCircuitOpen, 0};
  std::string names;
  for (const Candidate& c : candidates_) names += (names.empty() ? "" : ", ") + c.name;
  return Status(ErrorCode::kProvider, "provider " + spec_.provider + " (model " + spec_.model +
                                          "): the circuit of every endpoint is open (" + names +
                                          ")");
}

// One endpoint call. On a failure that allows the next candidate, sets step.reason ("error"),
// step.failure and step.error; leaves step.reason empty when the dispatch must stop.
Result<ChatReply> FallbackProvider::call(const Candidate& c, const ChatRequest& request,
                                         const CallContext& ctx,
                                         const CircuitBreaker::Ticket& ticket, CallReport& report,
                                         FallbackStep& step) {
  DispatchObserver* obs = ctx.observer;
  const ProviderSpec& spec = c.provider->spec();
  if (report.calls > 0 && obs) {
    Status st = obs->before_extra_call(spec);
    if (!st.ok()) {
      if (c.breaker) c.breaker->record(ticket, CircuitBreaker::Outcome::kNeutral, 0);
      return st;
    }
  }
  report.calls += 1;
  report.endpoint = &spec;
  report.endpoint_name = c.name;
  ProviderFailure failure;
  CallContext sub = ctx;
  sub.failure = &failure;
  sub.observer = nullptr;
  auto reply = c.provider->chat(request, sub);
  if (c.breaker) {
    auto changed =
        c.breaker->record(ticket, classify(reply, failure, ctx), ctx.clock->monotonic_ms());
    if (changed && obs) TRINITY_RETURN_IF_ERROR(obs->on_circuit_change(*changed));
  }
  if (reply.ok() || reply.status().code() == ErrorCode::kCancelled) return reply;
  step.reason = "error";
  step.failure = failure;
  step.error = reply.status().message();
  return reply;
}

Result<std::shared_ptr<Provider>> make_slot_provider(const ProviderSpec& spec, const ApiKeys& keys,
                                                     HttpClient* http, CircuitRegistry* circuits) {
  std::vector<FallbackProvider::Candidate> candidates;
  bool any_circuit = false;
  for (size_t i = 0; i <= spec.fallbacks.size(); ++i) {
    ProviderSpec s = i == 0 ? spec : spec.fallbacks[i - 1];
    s.fallbacks.clear();
    auto key = keys.find(s.api_key_env);
    auto made = make_provider(s, key == keys.end() ? "" : key->second, http);
    if (!made.ok())
      return i == 0 ? made.status()
                    : made.status().with_context("fallback " + std::to_string(i - 1));
    FallbackProvider::Candidate c;
    c.provider = std::move(made).value();
    c.name = endpoint_name(s);
    if (circuits && s.is_live() && s.circuit_breaker.failures > 0) {
      c.breaker = circuits->get(s);
      c.name = c.breaker->name();
      any_circuit = true;
    }
    candidates.push_back(std::move(c));
  }
  if (candidates.size() == 1 && !any_circuit) return std::move(candidates[0].provider);
  return std::shared_ptr<Provider>(std::make_shared<FallbackProvider>(spec, std::move(candidates)));
}

}  // namespace trinity::coord
