#include "coord/orchestrator.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <set>

#include "coord/fallback.h"
#include "coord/parse.h"
#include "coord/prompts.h"
#include "coord/run_spans.h"
#include "router/etf_hash.h"

namespace trinity::coord {
namespace {

std::string random_run_id() {
  std::random_device rd;
  uint64_t v = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// The input's roles, then its tool calls and results (tools.h check_tool_conversation; the
// arguments are normalized in place).
Status check_input(std::vector<Message>& input) {
  std::vector<std::string> names;
  for (size_t i = 0; i < input.size(); ++i) {
    names.push_back("messages[" + std::to_string(i) + "]");
    const std::string& r = input[i].role;
    if (r != "system" && r != "user" && r != "assistant" && r != "tool")
      return invalid_argument(names.back() + ": role must be system, user, assistant or tool");
  }
  return check_tool_conversation(input, names, "tool_call_id");
}

struct Override {
  int role_id = 0;
  std::string source;  // "thinker" | "reflex"
};

// Everything one turn decides, in the order the steps fill it.
struct Turn {
  RouteDecision d;
  std::string input_hash;  // Form B of the routed transcript (the reference's trace hash)
  std::string route_hash;  // map form of the route (the reference's trace hash)
  int planned_role = 0;    // after a pending override, before the reflex
  std::string override_source;
  ReflexDecision reflex;
  int role = 0;                 // the dispatched role
  int role_before_reroute = 0;  // after the reflex
  std::string reroute;          // cold_verifier | last_turn | ""
  bool force_verifier_next = false;
  bool reflex_verifier = false;
  Provider* provider = nullptr;
  const ProviderSpec* endpoint = nullptr;  // who answered (or failed last): fallback.h
  int fallback_index = 0;
  std::optional<ChatReply> reply;
  std::optional<ThinkerSuggestion> suggestion;
  int64_t latency_ms = 0;
  int64_t cost_micro_usd = 0;
};

// State of one run; lives on the calling thread. It observes its own dispatches (fallback.h).
class Run final : public DispatchObserver {
 public:
  Run(const Router& router, const AgentPool& pool, const RunOptions& opts)
      : router_(router),
        pool_(pool),
        opts_(opts),
        clock_(opts.clock ? *opts.clock : system_clock()),
        rng_(opts.seed ? *opts.seed : std::random_device{}()),
        redactor_(pool.secrets) {
    result_.run_id = opts.run_id.empty() ? random_run_id() : opts.run_id;
    start_ms_ = clock_.monotonic_ms();
  }

  RunResult execute(const std::vector<Message>& input) {
    Status st = start(input);
    while (st.ok() && !final_answer_) st = run_turn();
    return st.ok() ? finish() : fail(st);
  }

 private:
  Status run_turn() {
    if (cancelled()) return stop("cancelled", Status(ErrorCode::kCancelled, "run cancelled"));
    if (turn_ >= opts_.max_turns) return out_of_turns();
    Turn t;
    TRINITY_RETURN_IF_ERROR(route(t));
    TRINITY_RETURN_IF_ERROR(choose_role(t));
    TRINITY_RETURN_IF_ERROR(check("turn_start"));
    TRINITY_RETURN_IF_ERROR(guard(t));
    TRINITY_RETURN_IF_ERROR(dispatch(t));
    TRINITY_RETURN_IF_ERROR(account(t));
    TRINITY_RETURN_IF_ERROR(handle_role(t));
    ++turn_;
    return ok_status();
  }

  Status start(const std::vector<Message>& input);
  Status out_of_turns();
  Status route(Turn& t);
  Status choose_role(Turn& t);
  Status guard(const Turn& t);
  Status dispatch(Turn& t);
  Status account(Turn& t);
  Status handle_role(Turn& t);
  Status settle_tool_calls(ChatReply& reply, bool offered) const;
  bool any_excluded() const { return !result_.excluded_agents.empty(); }

  OrderedJson route_decision_event(const Turn& t) const;
  OrderedJson reflex_decision_event(const Turn& t) const;
  OrderedJson dispatch_event(const Turn& t) const;
  OrderedJson dispatch_finished_event(const Turn& t, const Result<ChatReply>& reply) const;
  // DispatchObserver: every further endpoint call counts as a provider call; hops and circuit
  // changes become events.
  Status before_extra_call(const ProviderSpec&) override {
    result_.usage.provider_calls += 1;
    return check("before_dispatch");
  }
  Status on_fallback(const FallbackStep& step) override {
    return emit("provider_fallback", dispatch_hook_event(step.to_json()));
  }
  Status on_circuit_change(const CircuitTransition& change) override {
    return emit("circuit_state_changed", dispatch_hook_event(change.to_json()));
  }
  OrderedJson dispatch_hook_event(OrderedJson own) const;
  void record(const Turn& t, const std::string& verdict);
  Status emit(const char* type, OrderedJson fields);
  // The reference's counters: provider_calls, verifier_revisions, estimated_cost_usd,
  // wall_time_ms.
  void put_totals(OrderedJson& f) const {
    f["provider_calls"] = result_.usage.provider_calls;
    f["verifier_revisions"] = result_.usage.verifier_revisions;
    f["estimated_cost_usd"] = cost_usd();
    f["wall_time_ms"] = result_.usage.elapsed_ms;
  }
  // Emits a budget_snapshot; returns the violation (if any) as a status.
  Status check(const char* checkpoint, std::optional<int64_t> observed_latency_ms = {});
  // Records why the run stops (unless a reason is already set) and returns `st`.
  Status stop(const char* reason, Status st) {
    if (!st.ok() && failure_reason_.empty()) failure_reason_ = reason;
    return st;
  }
  RunResult fail(const Status& st);
  RunResult finish();
  bool cancelled() const { return opts_.cancel && opts_.cancel->load(); }
  double cost_usd() const { return micro_to_usd(result_.usage.cost_micro_usd); }
  int64_t elapsed_ms() const { return clock_.monotonic_ms() - start_ms_; }

  const Router& router_;
  const AgentPool& pool_;
  const RunOptions& opts_;
  Clock& clock_;
  std::mt19937_64 rng_;
  Redactor redactor_;
  RunResult result_;
  int64_t start_ms_ = 0;
  int turn_ = 0;
  bool sinks_broken_ = false;
  std::string failure_reason_;
  std::vector<Message> transcript_;
  std::vector<std::string> notes_;  // speaker annotation per transcript message
  ReflexThresholds thresholds_;
  std::optional<Override> next_override_;
  std::optional<std::string> final_answer_;
  std::vector<ToolCall> final_tool_calls_;
  const Turn* dispatching_ = nullptr;  // the turn whose provider call is in progress
};

Status Run::start(const std::vector<Message>& input) {
  if (input.empty()) return stop("invalid_input", invalid_argument("no messages to route"));
  transcript_ = input;
  TRINITY_RETURN_IF_ERROR(stop("invalid_input", check_input(transcript_)));
  if (std::find(opts_.excluded_agents.begin(), opts_.excluded_agents.end(), false) ==
      opts_.excluded_agents.end())
    return stop("invalid_input", invalid_argument("exclude_agents: every agent slot is excluded"));
  result_.excluded_agents = excluded_slots(opts_.excluded_agents);
  if (opts_.max_turns < 0) return stop("invalid_input", invalid_argument("max_turns must be >= 0"));
  TRINITY_RETURN_IF_ERROR(stop("invalid_input", opts_.reflex.validate()));
  notes_.assign(input.size(), "");
  thresholds_ = resolve_thresholds(opts_.reflex, router_.reflex_floors());
  const auto& limit = opts_.budgets.max_estimated_cost_micro_usd;
  auto has_price = [](const ProviderSpec& s) {
    return s.price_in_per_mtok > 0 || s.price_out_per_mtok > 0;
  };
  const bool priced =
      std::any_of(pool_.config.slots.begin(), pool_.config.slots.end(), [&](const ProviderSpec& s) {
        return has_price(s) || std::any_of(s.fallbacks.begin(), s.fallbacks.end(), has_price);
      });
  if (limit && *limit > 0 && !priced) {
    const std::string w = "max_estimated_cost_usd is set but every price in pool '" +
                          pool_.config.name + "' is 0: the cost budget can never fire";
    result_.warnings.push_back(w);
    TRINITY_RETURN_IF_ERROR(
        emit("run_warning", OrderedJson{{"code", "cost_budget_cannot_fire"}, {"message", w}}));
  }
  return ok_status();
}

Status Run::out_of_turns() {
  if (result_.latest_worker_answer) {
    result_.outcome = "max_turns";
    final_answer_ = result_.latest_worker_answer;
    final_tool_calls_ = result_.latest_worker_tool_calls;
    return ok_status();
  }
  return stop("max_turns_reached", Status(ErrorCode::kBudgetExceeded,
                                          "max_turns_reached: " + std::to_string(opts_.max_turns) +
                                              " turns without a Worker answer"));
}

Status Run::route(Turn& t) {
  auto routed = router_.route(transcript_);
  if (!routed.ok()) return stop("router_error", routed.status().with_context("router"));
  t.d = std::move(routed).value();
  if (any_excluded()) {
    std::array<bool, kNumAgents> allowed{};
    for (size_t i = 0; i < allowed.size(); ++i) allowed[i] = !opts_.excluded_agents[i];
    Status st = restrict_agents(t.d, allowed);
    if (!st.ok()) return stop("router_error", st.with_context("exclude_agents"));
  }
  if (t.d.agent_id < 0 || t.d.agent_id >= kNumAgents || t.d.role_id < 0 || t.d.role_id >= kNumRoles)
    return stop("router_error", internal_error("router returned an out-of-range decision"));
  auto input_hash = trace_transcript_hash(transcript_);
  if (!input_hash.ok()) return stop("router_error", input_hash.status());
  const auto logits = t.d.rounded_logits();
  auto route_hash = trace_route_hash(t.d.agent_id, t.d.role_id, logits.data(), logits.size());
  if (!route_hash.ok()) return stop("router_error", route_hash.status());
  t.input_hash = *input_hash;
  t.route_hash = *route_hash;
  return ok_status();
}

Status Run::choose_role(Turn& t) {
  t.planned_role = t.d.role_id;
  if (next_override_) {
    t.planned_role = next_override_->role_id;
    t.override_source = next_override_->source;
    next_override_.reset();
  }
  t.reflex = evaluate_reflex(t.d, t.planned_role, thresholds_, opts_.reflex);
  t.role = t.planned_role;
  if (t.reflex.action == ReflexAction::kThinkerThenVerifier) {
    if (t.role == kRoleVerifier) {
      t.reflex_verifier = true;
    } else {
      if (t.role != kRoleThinker) {
        t.role = kRoleThinker;
        t.override_source = "reflex";
      }
      t.force_verifier_next = true;
    }
  }
  // Cold Verifier: with no Worker answer yet, a Verifier turn (and the last allowed turn,
  // whatever its role) becomes a Worker turn for the routed agent.
  t.role_before_reroute = t.role;
  if (opts_.cold_verifier == ColdVerifier::kWorker && !result_.latest_worker_answer) {
    if (t.role == kRoleVerifier) {
      t.reroute = "cold_verifier";
    } else if (t.role != kRoleWorker && turn_ + 1 >= opts_.max_turns) {
      t.reroute = "last_turn";
    }
    if (!t.reroute.empty()) {
      t.role = kRoleWorker;
      t.force_verifier_next = false;
    }
  }
  TRINITY_RETURN_IF_ERROR(emit("route_decision", route_decision_event(t)));
  return emit("reflex_decision", reflex_decision_event(t));
}

Status Run::guard(const Turn& t) {
  if (opts_.cold_verifier == ColdVerifier::kError && t.role == kRoleVerifier &&
      !result_.latest_worker_answer && t.override_source != "reflex" && !t.reflex_verifier)
    return stop("verifier_before_worker_response",
                invalid_argument("verifier_before_worker_response: the Verifier was chosen "
                                 "before any Worker answer"));
  if (cancelled()) return stop("cancelled", Status(ErrorCode::kCancelled, "run cancelled"));
  result_.usage.provider_calls += 1;
  return check("before_dispatch");
}

Status Run::dispatch(Turn& t) {
  t.provider = pool_.providers[static_cast<size_t>(t.d.agent_id)].get();
  ChatRequest req;
  req.role_id = t.role;
  req.agent_id = t.d.agent_id;
  req.turn = turn_;
  if (t.role == kRoleWorker && opts_.tools.active()) req.tools = &opts_.tools;
  req.messages = build_agent_messages(pool_.config.prompts, pool_.config.message_shape, t.role,
                                      turn_ + 1, transcript_, notes_, req.tools);
  OrderedJson started = dispatch_event(t);
  started["request_messages"] = messages_to_json(req.messages);
  TRINITY_RETURN_IF_ERROR(emit("provider_dispatch_started", std::move(started)));

  CallContext ctx;
  ctx.clock = &clock_;
  ctx.cancel = opts_.cancel;
  ctx.rng = &rng_;
  if (opts_.budgets.max_wall_time_ms) ctx.deadline_ms = start_ms_ + *opts_.budgets.max_wall_time_ms;
  ProviderFailure failure;
  ctx.failure = &failure;
  ctx.observer = this;
  report = CallReport{&t.provider->spec(), "", 0, 1};  // what a plain provider did
  dispatching_ = &t;
  if (opts_.trace) {
    ctx.traceparent = format_traceparent(provider_call_context(*opts_.trace, turn_));
    ctx.tracestate = opts_.trace->tracestate;
  }
  const int64_t t0 = clock_.monotonic_ms();
  auto reply = t.provider->chat(req, ctx);
  t.latency_ms = clock_.monotonic_ms() - t0;  // the whole dispatch, fallbacks included
  if (reply.ok()) {
    Status st = settle_tool_calls(*reply, req.tools != nullptr);
    if (!st.ok()) {
      failure = ProviderFailure{ProviderFailureKind::kInvalidResponse, reply->http_status};
      reply = Status(ErrorCode::kProvider, "provider " + report.endpoint->provider + " (model " +
                                               report.endpoint->model + "): " + st.message());
    }
  }
  dispatching_ = nullptr;
  if (report.calls == 0) result_.usage.provider_calls -= 1;  // every circuit was open
  t.endpoint = report.endpoint;
  t.fallback_index = report.fallback_index;
  const ProviderSpec& spec = *t.endpoint;
  if (reply.ok()) {
    // A cached reply cost nothing: it counts no spend (its tokens are still reported). The price
    // is the one of the endpoint that answered.
    t.cost_micro_usd =
        reply->cached ? 0 : call_cost_micro_usd(spec, reply->input_tokens, reply->output_tokens);
    if (t.role == kRoleThinker && !t.force_verifier_next) t.suggestion = parse_thinker(reply->text);
  }
  OrderedJson f = dispatch_finished_event(t, reply);
  TRINITY_RETURN_IF_ERROR(emit("provider_dispatch_finished", std::move(f)));
  if (reply.ok()) {
    t.reply = std::move(reply).value();
    return ok_status();
  }
  record(t, "");
  if (reply.status().code() == ErrorCode::kCancelled) return stop("cancelled", reply.status());
  if (reply.status().code() == ErrorCode::kBudgetExceeded)  // a fallback call over a budget
    return stop("budget_exceeded", reply.status());
  // A call cut short by the run's wall-time budget reports the budget; any other failed call is
  // a provider failure, even when it was also slow.
  const auto& wall = opts_.budgets.max_wall_time_ms;
  if (wall && elapsed_ms() >= *wall) TRINITY_RETURN_IF_ERROR(check("after_dispatch_latency"));
  if (failure_reason_.empty())
    result_.failed_call = RunResult::FailedCall{spec.provider, spec.model, failure};
  return stop("provider_error", reply.status());
}

Status Run::account(Turn& t) {
  BudgetUsage& u = result_.usage;
  u.last_latency_ms = t.latency_ms;
  u.max_latency_ms = std::max(u.max_latency_ms, t.latency_ms);
  TRINITY_RETURN_IF_ERROR(check("after_dispatch_latency", t.latency_ms));
  u.cost_micro_usd += t.cost_micro_usd;  // usage-based cost counts from after_dispatch on
  TRINITY_RETURN_IF_ERROR(check("after_dispatch"));
  transcript_.push_back(Message{"assistant", t.reply->text, t.reply->tool_calls});
  notes_.push_back(speaker_note(turn_ + 1, t.role, t.d.agent_id));
  return ok_status();
}

Status Run::handle_role(Turn& t) {
  const std::string& text = t.reply->text;
  if (t.role == kRoleWorker) {
    record(t, "");
    result_.latest_worker_answer = text;
    result_.latest_worker_tool_calls = t.reply->tool_calls;
    next_override_.reset();
    return ok_status();
  }
  if (t.role == kRoleThinker) {
    record(t, "");
    if (t.force_verifier_next) {
      next_override_ = Override{kRoleVerifier, "reflex"};
    } else if (t.suggestion) {
      next_override_ = Override{t.suggestion->role_id, "thinker"};
    }
    return ok_status();
  }
  const VerifierResult v = parse_verifier(text);
  record(t, verdict_name(v.verdict));
  const bool accepted = v.verdict == Verdict::kAccept;
  if (!accepted) result_.usage.verifier_revisions += 1;
  OrderedJson vr;
  vr["turn"] = turn_;
  vr["route_hash"] = t.route_hash;
  vr["selected_agent_id"] = t.d.agent_id;
  vr["selected_role_id"] = t.role;
  vr["status"] = accepted ? "accepted" : v.verdict == Verdict::kRevise ? "revise" : "unknown";
  vr["safe_status"] = accepted ? "accepted" : "revised";
  vr["revision_count"] = result_.usage.verifier_revisions;
  vr["verifier_response_ref"] = sha256_ref("verifier-response", text);
  vr["agent_id"] = t.d.agent_id;
  vr["verdict"] = verdict_name(v.verdict);
  vr["diagnosis"] = v.diagnosis;
  TRINITY_RETURN_IF_ERROR(emit("verifier_result", std::move(vr)));
  if (!accepted) return check("after_verifier_revision");
  result_.outcome = "accepted";
  final_answer_ = result_.latest_worker_answer ? *result_.latest_worker_answer : text;
  final_tool_calls_ = result_.latest_worker_tool_calls;
  return ok_status();
}

// A reply's tool calls, before anything else sees them (tools.h check_reply_tool_calls, which
// HTTP providers already applied): a failed check fails the call as an invalid response, never
// forwarded. A call without an id, or with one the conversation already used, gets
// "call_<run id>_<turn>_<index>".
Status Run::settle_tool_calls(ChatReply& reply, bool offered) const {
  TRINITY_RETURN_IF_ERROR(
      check_reply_tool_calls(reply.tool_calls, reply.text, offered ? &opts_.tools : nullptr));
  if (reply.tool_calls.empty() && trim(reply.text).empty())
    return invalid_argument("the reply is empty");
  for (size_t i = 0; i < reply.tool_calls.size(); ++i) {
    ToolCall& c = reply.tool_calls[i];
    const bool used = std::any_of(transcript_.begin(), transcript_.end(), [&](const Message& m) {
      return std::any_of(m.tool_calls.begin(), m.tool_calls.end(),
                         [&](const ToolCall& e) { return e.id == c.id; });
    });
    if (c.id.empty() || used)
      c.id = "call_" + result_.run_id + "_" + std::to_string(turn_) + "_" + std::to_string(i);
  }
  return ok_status();
}

OrderedJson Run::route_decision_event(const Turn& t) const {
  const RouteDecision& d = t.d;
  OrderedJson rd;
  rd["turn"] = turn_;
  RouteFieldsContext c;
  c.transcript_hash = t.input_hash;
  c.route_hash = t.route_hash;
  c.confidence_band = route_confidence_band(d);
  c.runtime_profile = d.profile.empty() ? router_.profile() : d.profile;
  if (!pool_.config.name.empty()) c.provider_pool = pool_.config.name;
  c.route_path = opts_.route_path;
  c.artifact = opts_.artifact;
  put_reference_route_fields(rd, d, t.planned_role, c);
  // trinity's own fields
  rd["agent_id"] = d.agent_id;
  rd["agent_label"] = agent_label(d.agent_id);
  rd["routed_role_id"] = d.role_id;
  rd["routed_role_name"] = role_name(d.role_id);
  rd["role_id"] = t.planned_role;
  rd["role_override_source"] = t.override_source.empty() || t.planned_role == d.role_id
                                   ? OrderedJson(nullptr)
                                   : OrderedJson(t.override_source);
  rd["confidence_class"] = band_name(t.reflex.band);
  rd["agent_logits"] = OrderedJson::array();
  rd["role_logits"] = OrderedJson::array();
  for (int i = 0; i < kNumAgents + kNumRoles; ++i)
    rd[i < kNumAgents ? "agent_logits" : "role_logits"].push_back(d.logit(i));
  rd["router_transcript_hash"] = d.transcript_hash;
  rd["router_route_hash"] = d.route_hash;
  rd["router_profile"] = d.profile.empty() ? router_.profile() : d.profile;
  rd["input_content"] = messages_to_json(transcript_);
  if (any_excluded()) rd["excluded_agents"] = result_.excluded_agents;
  if (turn_ == 0 && (!opts_.tools.tools.empty() || !opts_.tools.dropped.empty()))
    rd["tools"] = opts_.tools.to_json();
  return rd;
}

OrderedJson Run::reflex_decision_event(const Turn& t) const {
  const RouteDecision& d = t.d;
  const bool low = t.reflex.enabled && t.reflex.band == ConfidenceBand::kLow;
  OrderedJson rx;
  rx["turn"] = turn_;
  rx["route_hash"] = t.route_hash;
  rx["selected_agent_id"] = d.agent_id;
  rx["selected_role_id"] = t.planned_role;
  rx["original_role_name"] = role_name(t.planned_role);
  rx["original_role_atom"] = role_atom(t.planned_role);
  rx["confidence_class"] = band_name(t.reflex.band);
  rx["action"] = action_name(t.reflex.action);
  rx["reason"] = t.reflex.reason;
  rx["agent_margin"] = opt_json(d.agent_margin);
  rx["role_margin"] = opt_json(d.role_margin);
  rx["min_margin"] = d.agent_margin && d.role_margin ? min_margin_json(d) : OrderedJson(nullptr);
  rx["confidence_band"] = route_confidence_band(d);
  rx["thresholds"] = thresholds_.to_json();
  rx["forced_sequence"] = low ? OrderedJson::array({"thinker", "verifier"}) : OrderedJson::array();
  rx["next_role_override"] = t.reflex.next_role_override ? OrderedJson(*t.reflex.next_role_override)
                                                         : OrderedJson(nullptr);
  rx["reflex_enabled"] = t.reflex.enabled;
  // trinity's own fields
  rx["reflex_mode"] = reflex_mode_name(opts_.reflex.mode);
  rx["role_id"] = t.role_before_reroute;
  rx["role_name"] = role_name(t.role_before_reroute);
  rx["forced_next_role"] =
      t.force_verifier_next ? OrderedJson(role_name(kRoleVerifier)) : OrderedJson(nullptr);
  rx["reflex_verifier"] = t.reflex_verifier;
  rx["cold_verifier"] = cold_verifier_name(opts_.cold_verifier);
  rx["reroute"] = t.reroute.empty() ? OrderedJson(nullptr)
                                    : OrderedJson({{"reason", t.reroute},
                                                   {"from_role", role_name(t.role_before_reroute)},
                                                   {"to_role", role_name(kRoleWorker)}});
  return rx;
}

// The fields provider_dispatch_started and provider_dispatch_finished share.
OrderedJson Run::dispatch_event(const Turn& t) const {
  const ProviderSpec& spec = t.provider->spec();
  OrderedJson ds;
  ds["turn"] = turn_;
  ds["selected_agent_id"] = t.d.agent_id;
  ds["selected_role_id"] = t.role;
  ds["provider_pool"] =
      pool_.config.name.empty() ? OrderedJson(nullptr) : OrderedJson(pool_.config.name);
  ds["provider"] = spec.provider;
  ds["model"] = spec.model;
  ds["model_profile"] = t.d.profile.empty() ? router_.profile() : t.d.profile;
  ds["dispatch_ref"] = "dispatch:" + result_.run_id + ":" + std::to_string(turn_);
  ds["agent_id"] = t.d.agent_id;
  ds["agent_label"] = agent_label(t.d.agent_id);
  ds["role_id"] = t.role;
  ds["role_name"] = role_name(t.role);
  ds["rerouted_from"] =
      t.reroute.empty() ? OrderedJson(nullptr) : OrderedJson(role_name(t.role_before_reroute));
  ds["reroute_reason"] = t.reroute.empty() ? OrderedJson(nullptr) : OrderedJson(t.reroute);
  return ds;
}

// provider_dispatch_finished: provider and model name the endpoint that answered (or failed last).
OrderedJson Run::dispatch_finished_event(const Turn& t, const Result<ChatReply>& reply) const {
  OrderedJson f = dispatch_event(t);
  f["provider"] = t.endpoint->provider;
  f["model"] = t.endpoint->model;
  f["latency_ms"] = t.latency_ms;
  f["ok"] = reply.ok();
  f["status"] = reply.ok() ? "ok" : "error";
  f["response_ref"] = reply.ok() ? OrderedJson(sha256_ref("response", reply->text)) : nullptr;
  f["error_ref"] = reply.ok() ? OrderedJson(nullptr)
                              : OrderedJson(sha256_ref("reason", reply.status().message()));
  f["estimated_cost_usd"] = reply.ok() ? OrderedJson(micro_to_usd(t.cost_micro_usd)) : nullptr;
  f["fallback_index"] = t.fallback_index;
  f["endpoint_calls"] = report.calls;
  if (reply.ok()) {
    f["attempts"] = reply->attempts;
    f["http_status"] = reply->http_status;
    f["input_tokens"] = reply->input_tokens;
    f["output_tokens"] = reply->output_tokens;
    if (reply->cached) f["cached"] = true;
    f["reply"] = reply->text;
    if (!reply->tool_calls.empty()) f["tool_calls"] = tool_calls_json(reply->tool_calls);
    if (t.role == kRoleThinker) {
      f["thinker_suggested_role"] =
          t.suggestion ? OrderedJson(role_name(t.suggestion->role_id)) : OrderedJson(nullptr);
      f["suggestion"] = t.suggestion ? OrderedJson(t.suggestion->suggestion) : nullptr;
    }
  } else {
    const ErrorCode code = reply.status().code();
    f["reason"] = code == ErrorCode::kCancelled        ? "cancelled"
                  : code == ErrorCode::kBudgetExceeded ? "budget_exceeded"
                                                       : "provider_error";
    f["error"] = reply.status().message();
  }
  return f;
}

// The fields provider_fallback and circuit_state_changed share, then the event's own.
OrderedJson Run::dispatch_hook_event(OrderedJson own) const {
  OrderedJson e;
  e["turn"] = turn_;
  e["agent_id"] = dispatching_ ? dispatching_->d.agent_id : 0;
  e["agent_label"] = agent_label(dispatching_ ? dispatching_->d.agent_id : 0);
  e["role_id"] = dispatching_ ? dispatching_->role : 0;
  e["role_name"] = role_name(dispatching_ ? dispatching_->role : 0);
  e["dispatch_ref"] = "dispatch:" + result_.run_id + ":" + std::to_string(turn_);
  for (auto it = own.begin(); it != own.end(); ++it) e[it.key()] = std::move(it.value());
  return e;
}

void Run::record(const Turn& t, const std::string& verdict) {
  TurnRecord rec;
  rec.turn = turn_;
  rec.agent_id = t.d.agent_id;
  rec.routed_role_id = t.d.role_id;
  rec.role_id = t.role;
  rec.agent_margin = t.d.agent_margin;
  rec.role_margin = t.d.role_margin;
  rec.band = route_confidence_band(t.d);
  rec.confidence_class = band_name(t.reflex.band);
  rec.action = action_name(t.reflex.action);
  rec.provider = t.endpoint ? t.endpoint->provider : t.provider->spec().provider;
  rec.model = t.endpoint ? t.endpoint->model : t.provider->spec().model;
  rec.fallback_index = t.fallback_index;
  rec.latency_ms = t.latency_ms;
  rec.cost_micro_usd = t.cost_micro_usd;
  rec.verdict = verdict;
  rec.reroute = t.reroute;
  result_.turns.push_back(std::move(rec));
}

Status Run::emit(const char* type, OrderedJson fields) {
  OrderedJson ev;
  ev["schema_version"] = kTraceSchemaVersion;
  ev["event"] = type;
  ev["run_id"] = result_.run_id;
  ev["timestamp_ms"] = clock_.wall_ms();
  for (auto it = fields.begin(); it != fields.end(); ++it) ev[it.key()] = std::move(it.value());
  redactor_.redact_json(ev);
  if (!sinks_broken_) {
    for (EventSink* sink : opts_.sinks) {
      Status st = sink->on_event(ev);
      if (!st.ok()) {
        sinks_broken_ = true;
        return stop("trace_error", st);
      }
    }
  }
  if (opts_.on_event) opts_.on_event(ev);
  return ok_status();
}

Status Run::check(const char* checkpoint, std::optional<int64_t> observed_latency_ms) {
  BudgetUsage& u = result_.usage;
  u.elapsed_ms = elapsed_ms();
  auto violation = check_budgets(opts_.budgets, u, checkpoint);
  OrderedJson f;
  f["turn"] = turn_;
  f["checkpoint"] = checkpoint;
  put_totals(f);
  f["budget_exceeded"] = violation.has_value();
  f["budget_exceeded_key"] = violation ? OrderedJson(violation->key) : OrderedJson(nullptr);
  if (observed_latency_ms) f["observed_latency_ms"] = *observed_latency_ms;
  f["status"] = violation ? "exceeded" : "ok";
  f["elapsed_ms"] = u.elapsed_ms;
  f["last_latency_ms"] = u.last_latency_ms;
  f["max_latency_ms"] = u.max_latency_ms;
  f["revision_count"] = u.verifier_revisions;
  f["estimated_cost_micro_usd"] = u.cost_micro_usd;
  f["limits"] = opts_.budgets.limits_json();
  if (violation) f["budget_violation"] = violation->to_json();
  TRINITY_RETURN_IF_ERROR(emit("budget_snapshot", std::move(f)));
  if (!violation) return ok_status();
  result_.budget_violation = violation;
  return stop("budget_exceeded", Status(ErrorCode::kBudgetExceeded, violation->message()));
}

RunResult Run::fail(const Status& st) {
  BudgetUsage& u = result_.usage;
  u.elapsed_ms = elapsed_ms();
  result_.outcome = "failed";
  result_.failure_reason = failure_reason_.empty() ? "internal_error" : failure_reason_;
  result_.status = Status(st.code(), redactor_.redact_text(st.message()));
  const auto& v = result_.budget_violation;
  OrderedJson f;
  f["status"] = "failed";
  f["reason_ref"] = sha256_ref("reason", ":" + result_.failure_reason);
  put_totals(f);
  f["budget_exceeded"] = v.has_value();
  f["budget_exceeded_key"] = v ? OrderedJson(v->key) : OrderedJson(nullptr);
  f["turn"] = turn_;
  f["reason"] = result_.failure_reason;
  f["error"] = result_.status.message();
  f["error_code"] = error_code_name(st.code());
  if (v) f["budget_violation"] = v->to_json();
  f["revision_count"] = u.verifier_revisions;
  f["elapsed_ms"] = u.elapsed_ms;
  f["has_worker_answer"] = result_.latest_worker_answer.has_value();
  (void)emit("run_failed", std::move(f));
  return std::move(result_);
}

RunResult Run::finish() {
  BudgetUsage& u = result_.usage;
  u.elapsed_ms = elapsed_ms();
  result_.answer = final_answer_;
  result_.answer_tool_calls = final_tool_calls_;
  OrderedJson f;
  f["status"] = "finished";
  f["total_turns"] = result_.turns.size();
  f["final_response_ref"] = sha256_ref("response", *final_answer_);
  put_totals(f);
  f["turn"] = result_.turns.empty() ? 0 : result_.turns.back().turn;  // the last turn run
  f["outcome"] = result_.outcome;
  f["run_status"] = result_.run_status();
  f["answer"] = *final_answer_;
  if (!final_tool_calls_.empty()) f["tool_calls"] = tool_calls_json(final_tool_calls_);
  f["revision_count"] = u.verifier_revisions;
  f["elapsed_ms"] = u.elapsed_ms;
  f["estimated_cost_micro_usd"] = u.cost_micro_usd;
  Status st = emit("run_finished", std::move(f));
  if (!st.ok()) {
    result_.answer.reset();
    return fail(st);
  }
  return std::move(result_);
}

}  // namespace

Orchestrator::Orchestrator(std::shared_ptr<const Router> router,
                           std::shared_ptr<const AgentPool> pool)
    : router_(std::move(router)), pool_(std::move(pool)) {}

RunResult Orchestrator::run(const std::vector<Message>& messages, const RunOptions& options) const {
  Run run(*router_, *pool_, options);
  return run.execute(messages);
}

}  // namespace trinity::coord
