#include "coord/orchestrator.h"

#include <cstdio>
#include <random>

#include "coord/parse.h"
#include "coord/prompts.h"
#include "core/sha256.h"

namespace trinity::coord {
namespace {

std::string random_run_id() {
  std::random_device rd;
  uint64_t v = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

OrderedJson opt_json(const std::optional<double>& v) {
  return v ? OrderedJson(*v) : OrderedJson(nullptr);
}

struct Override {
  int role_id = 0;
  std::string source;  // "thinker" | "reflex"
};

// State of one run; lives on the calling thread.
class Run {
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

  RunResult execute(const std::vector<Message>& input);

 private:
  Status emit(const char* type, OrderedJson fields);
  // Emits a budget_snapshot; returns the violation (if any) as a status.
  Status check(const char* checkpoint);
  RunResult fail(const std::string& reason, const Status& st);
  RunResult finish(const std::string& answer, const std::string& outcome);
  bool cancelled() const { return opts_.cancel && opts_.cancel->load(); }
  double cost_usd() const { return micro_to_usd(result_.usage.cost_micro_usd); }

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
};

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
        return st;
      }
    }
  }
  if (opts_.on_event) opts_.on_event(ev);
  return ok_status();
}

Status Run::check(const char* checkpoint) {
  BudgetUsage& u = result_.usage;
  u.elapsed_ms = clock_.monotonic_ms() - start_ms_;
  auto violation = check_budgets(opts_.budgets, u, checkpoint);
  OrderedJson f;
  f["turn"] = turn_;
  f["checkpoint"] = checkpoint;
  f["status"] = violation ? "exceeded" : "ok";
  f["elapsed_ms"] = u.elapsed_ms;
  f["provider_calls"] = u.provider_calls;
  f["last_latency_ms"] = u.last_latency_ms;
  f["max_latency_ms"] = u.max_latency_ms;
  f["revision_count"] = u.verifier_revisions;
  f["estimated_cost_usd"] = cost_usd();
  f["estimated_cost_micro_usd"] = u.cost_micro_usd;
  f["limits"] = opts_.budgets.limits_json();
  if (violation) f["budget_exceeded"] = violation->to_json();
  TRINITY_RETURN_IF_ERROR(emit("budget_snapshot", std::move(f)));
  if (violation) {
    result_.budget_violation = violation;
    return Status(ErrorCode::kBudgetExceeded, violation->message());
  }
  return ok_status();
}

RunResult Run::fail(const std::string& reason, const Status& st) {
  result_.usage.elapsed_ms = clock_.monotonic_ms() - start_ms_;
  result_.outcome = "failed";
  result_.failure_reason = reason;
  result_.status = Status(st.code(), redactor_.redact_text(st.message()));
  OrderedJson f;
  f["turn"] = turn_;
  f["status"] = "failed";
  f["reason"] = reason;
  f["error"] = result_.status.message();
  f["error_code"] = error_code_name(st.code());
  if (result_.budget_violation) f["budget_exceeded"] = result_.budget_violation->to_json();
  f["revision_count"] = result_.usage.verifier_revisions;
  f["provider_calls"] = result_.usage.provider_calls;
  f["elapsed_ms"] = result_.usage.elapsed_ms;
  f["estimated_cost_usd"] = cost_usd();
  f["has_worker_answer"] = result_.latest_worker_answer.has_value();
  (void)emit("run_failed", std::move(f));
  return std::move(result_);
}

RunResult Run::finish(const std::string& answer, const std::string& outcome) {
  result_.usage.elapsed_ms = clock_.monotonic_ms() - start_ms_;
  result_.outcome = outcome;
  result_.answer = answer;
  OrderedJson f;
  f["turn"] = turn_;
  f["status"] = outcome;
  f["turns"] = result_.turns.size();
  f["answer"] = answer;
  f["revision_count"] = result_.usage.verifier_revisions;
  f["provider_calls"] = result_.usage.provider_calls;
  f["elapsed_ms"] = result_.usage.elapsed_ms;
  f["estimated_cost_usd"] = cost_usd();
  f["estimated_cost_micro_usd"] = result_.usage.cost_micro_usd;
  Status st = emit("run_finished", std::move(f));
  if (!st.ok()) {
    result_.answer.reset();
    return fail("trace_error", st);
  }
  return std::move(result_);
}

RunResult Run::execute(const std::vector<Message>& input) {
  if (input.empty()) return fail("invalid_input", invalid_argument("no messages to route"));
  for (size_t i = 0; i < input.size(); ++i) {
    const std::string& r = input[i].role;
    if (r != "system" && r != "user" && r != "assistant")
      return fail("invalid_input", invalid_argument("messages[" + std::to_string(i) +
                                                    "]: role must be system, user or assistant"));
  }
  if (opts_.max_turns < 0) return fail("invalid_input", invalid_argument("max_turns must be >= 0"));
  std::vector<Message> transcript = input;
  std::vector<std::string> notes(input.size());
  const ReflexThresholds thresholds = resolve_thresholds(opts_.reflex, router_.reflex_floors());
  std::optional<Override> next_override;

#define TRINITY_RUN_STEP(expr, reason)                                        \
  do {                                                                        \
    Status _s = (expr);                                                       \
    if (!_s.ok())                                                             \
      return fail(_s.code() == ErrorCode::kBudgetExceeded ? "budget_exceeded" \
                  : sinks_broken_                         ? "trace_error"     \
                                                          : (reason),                                 \
                  _s);                                                        \
  } while (0)

  for (turn_ = 0;; ++turn_) {
    if (cancelled()) return fail("cancelled", Status(ErrorCode::kCancelled, "run cancelled"));
    if (turn_ >= opts_.max_turns) {
      if (result_.latest_worker_answer) return finish(*result_.latest_worker_answer, "max_turns");
      return fail("max_turns_reached",
                  Status(ErrorCode::kBudgetExceeded,
                         "max_turns_reached: " + std::to_string(opts_.max_turns) +
                             " turns without a Worker answer"));
    }
    auto routed = router_.route(transcript);
    if (!routed.ok()) return fail("router_error", routed.status().with_context("router"));
    const RouteDecision& d = *routed;
    if (d.agent_id < 0 || d.agent_id >= kNumAgents || d.role_id < 0 || d.role_id >= kNumRoles)
      return fail("router_error", internal_error("router returned an out-of-range decision"));

    int role = d.role_id;
    std::string override_source;
    if (next_override) {
      role = next_override->role_id;
      override_source = next_override->source;
      next_override.reset();
    }
    const int role_before_reflex = role;
    const ReflexDecision reflex = evaluate_reflex(d, thresholds, opts_.reflex.enabled);
    bool force_verifier_next = false, reflex_verifier = false;
    if (reflex.action == ReflexAction::kThinkerThenVerifier) {
      if (role == kRoleVerifier) {
        reflex_verifier = true;
      } else {
        if (role != kRoleThinker) {
          role = kRoleThinker;
          override_source = "reflex";
        }
        force_verifier_next = true;
      }
    }

    // Cold Verifier: with no Worker answer yet, a Verifier turn (and the last allowed turn,
    // whatever its role) becomes a Worker turn for the routed agent.
    std::string reroute;
    const int role_before_reroute = role;
    if (opts_.cold_verifier == ColdVerifier::kWorker && !result_.latest_worker_answer) {
      if (role == kRoleVerifier) {
        reroute = "cold_verifier";
      } else if (role != kRoleWorker && turn_ + 1 >= opts_.max_turns) {
        reroute = "last_turn";
      }
      if (!reroute.empty()) {
        role = kRoleWorker;
        force_verifier_next = false;
      }
    }

    OrderedJson rd;
    rd["turn"] = turn_;
    rd["agent_id"] = d.agent_id;
    rd["agent_label"] = agent_label(d.agent_id);
    rd["routed_role_id"] = d.role_id;
    rd["routed_role_name"] = role_name(d.role_id);
    rd["role_id"] = role_before_reflex;
    rd["role_name"] = role_name(role_before_reflex);
    rd["role_override_source"] = override_source.empty() || role_before_reflex == d.role_id
                                     ? OrderedJson(nullptr)
                                     : OrderedJson(override_source);
    rd["agent_margin"] = opt_json(d.agent_margin);
    rd["role_margin"] = opt_json(d.role_margin);
    rd["confidence_band"] = band_name(reflex.band);
    rd["agent_logits"] = OrderedJson::array();
    rd["role_logits"] = OrderedJson::array();
    for (int i = 0; i < kNumAgents + kNumRoles; ++i)
      rd[i < kNumAgents ? "agent_logits" : "role_logits"].push_back(d.logit(i));
    rd["token_count"] = d.token_count;
    rd["transcript_hash"] = d.transcript_hash;
    rd["route_hash"] = d.route_hash;
    rd["router_profile"] = d.profile.empty() ? router_.profile() : d.profile;
    rd["input_content"] = messages_to_json(transcript);
    TRINITY_RUN_STEP(emit("route_decision", std::move(rd)), "trace_error");

    OrderedJson rx;
    rx["turn"] = turn_;
    rx["reflex_enabled"] = reflex.enabled;
    rx["confidence_band"] = band_name(reflex.band);
    rx["action"] = action_name(reflex.action);
    rx["reason"] = reflex.reason;
    rx["agent_margin"] = opt_json(d.agent_margin);
    rx["role_margin"] = opt_json(d.role_margin);
    rx["thresholds"] = thresholds.to_json();
    rx["original_role_name"] = role_name(role_before_reflex);
    rx["role_id"] = role_before_reroute;
    rx["role_name"] = role_name(role_before_reroute);
    rx["forced_next_role"] =
        force_verifier_next ? OrderedJson(role_name(kRoleVerifier)) : OrderedJson(nullptr);
    rx["reflex_verifier"] = reflex_verifier;
    rx["cold_verifier"] = cold_verifier_name(opts_.cold_verifier);
    rx["reroute"] = reroute.empty() ? OrderedJson(nullptr)
                                    : OrderedJson({{"reason", reroute},
                                                   {"from_role", role_name(role_before_reroute)},
                                                   {"to_role", role_name(kRoleWorker)}});
    TRINITY_RUN_STEP(emit("reflex_decision", std::move(rx)), "trace_error");
    TRINITY_RUN_STEP(check("turn_start"), "trace_error");

    if (opts_.cold_verifier == ColdVerifier::kError && role == kRoleVerifier &&
        !result_.latest_worker_answer && override_source != "reflex" && !reflex_verifier)
      return fail("verifier_before_worker_response",
                  invalid_argument("verifier_before_worker_response: the Verifier was chosen "
                                   "before any Worker answer"));

    if (cancelled()) return fail("cancelled", Status(ErrorCode::kCancelled, "run cancelled"));
    result_.usage.provider_calls += 1;
    TRINITY_RUN_STEP(check("before_dispatch"), "trace_error");

    Provider& provider = *pool_.providers[static_cast<size_t>(d.agent_id)];
    const ProviderSpec& spec = provider.spec();
    ChatRequest req;
    req.role_id = role;
    req.agent_id = d.agent_id;
    req.turn = turn_;
    req.messages = build_agent_messages(pool_.config.prompts, role, turn_ + 1, transcript, notes);

    OrderedJson ds;
    ds["turn"] = turn_;
    ds["agent_id"] = d.agent_id;
    ds["agent_label"] = agent_label(d.agent_id);
    ds["role_id"] = role;
    ds["role_name"] = role_name(role);
    ds["provider"] = spec.provider;
    ds["model"] = spec.model;
    ds["rerouted_from"] =
        reroute.empty() ? OrderedJson(nullptr) : OrderedJson(role_name(role_before_reroute));
    ds["reroute_reason"] = reroute.empty() ? OrderedJson(nullptr) : OrderedJson(reroute);
    ds["request_messages"] = messages_to_json(req.messages);
    TRINITY_RUN_STEP(emit("provider_dispatch_started", std::move(ds)), "trace_error");

    CallContext ctx;
    ctx.clock = &clock_;
    ctx.cancel = opts_.cancel;
    ctx.rng = &rng_;
    if (opts_.budgets.max_wall_time_ms)
      ctx.deadline_ms = start_ms_ + *opts_.budgets.max_wall_time_ms;
    const int64_t t0 = clock_.monotonic_ms();
    auto reply = provider.chat(req, ctx);
    const int64_t latency = clock_.monotonic_ms() - t0;
    BudgetUsage& u = result_.usage;
    u.last_latency_ms = latency;
    u.max_latency_ms = std::max(u.max_latency_ms, latency);
    const int64_t call_cost =
        reply.ok() ? call_cost_micro_usd(spec, reply->input_tokens, reply->output_tokens) : 0;

    TurnRecord rec;
    rec.turn = turn_;
    rec.agent_id = d.agent_id;
    rec.routed_role_id = d.role_id;
    rec.role_id = role;
    rec.agent_margin = d.agent_margin;
    rec.role_margin = d.role_margin;
    rec.band = band_name(reflex.band);
    rec.action = action_name(reflex.action);
    rec.provider = spec.provider;
    rec.model = spec.model;
    rec.latency_ms = latency;
    rec.cost_micro_usd = call_cost;
    rec.reroute = reroute;

    std::optional<ThinkerSuggestion> suggestion;
    if (reply.ok() && role == kRoleThinker && !force_verifier_next)
      suggestion = parse_thinker(reply->text);

    OrderedJson df;
    df["turn"] = turn_;
    df["agent_id"] = d.agent_id;
    df["agent_label"] = agent_label(d.agent_id);
    df["role_id"] = role;
    df["role_name"] = role_name(role);
    df["provider"] = spec.provider;
    df["model"] = spec.model;
    df["status"] = reply.ok() ? "ok" : "error";
    df["latency_ms"] = latency;
    if (reply.ok()) {
      df["attempts"] = reply->attempts;
      df["http_status"] = reply->http_status;
      df["input_tokens"] = reply->input_tokens;
      df["output_tokens"] = reply->output_tokens;
      df["estimated_cost_usd"] = micro_to_usd(call_cost);
      df["reply"] = reply->text;
      if (role == kRoleThinker) {
        df["thinker_suggested_role"] =
            suggestion ? OrderedJson(role_name(suggestion->role_id)) : OrderedJson(nullptr);
        df["suggestion"] = suggestion ? OrderedJson(suggestion->suggestion) : OrderedJson(nullptr);
      }
    } else {
      df["reason"] =
          reply.status().code() == ErrorCode::kCancelled ? "cancelled" : "provider_error";
      df["error"] = reply.status().message();
    }
    TRINITY_RUN_STEP(emit("provider_dispatch_finished", std::move(df)), "trace_error");
    if (!reply.ok()) {
      result_.turns.push_back(rec);
      // A call cut short by the wall-time budget reports the budget, not the provider.
      TRINITY_RUN_STEP(check("after_dispatch_latency"), "trace_error");
      if (reply.status().code() == ErrorCode::kCancelled) return fail("cancelled", reply.status());
      return fail("provider_error", reply.status());
    }
    TRINITY_RUN_STEP(check("after_dispatch_latency"), "trace_error");
    u.cost_micro_usd += call_cost;  // usage-based cost counts from after_dispatch on
    TRINITY_RUN_STEP(check("after_dispatch"), "trace_error");

    transcript.push_back(Message{"assistant", reply->text});
    notes.push_back(speaker_note(turn_ + 1, role, d.agent_id));

    if (role == kRoleVerifier) {
      VerifierResult v = parse_verifier(reply->text);
      rec.verdict = verdict_name(v.verdict);
      result_.turns.push_back(rec);
      const bool accepted = v.verdict == Verdict::kAccept;
      if (!accepted) u.verifier_revisions += 1;
      OrderedJson vr;
      vr["turn"] = turn_;
      vr["agent_id"] = d.agent_id;
      vr["verdict"] = verdict_name(v.verdict);
      vr["status"] = accepted ? "accepted" : "revision";
      vr["revision_count"] = u.verifier_revisions;
      vr["diagnosis"] = v.diagnosis;
      TRINITY_RUN_STEP(emit("verifier_result", std::move(vr)), "trace_error");
      if (accepted) {
        return finish(result_.latest_worker_answer ? *result_.latest_worker_answer : reply->text,
                      "accepted");
      }
      TRINITY_RUN_STEP(check("after_verifier_revision"), "trace_error");
    } else if (role == kRoleThinker) {
      result_.turns.push_back(rec);
      if (force_verifier_next) {
        next_override = Override{kRoleVerifier, "reflex"};
      } else if (suggestion) {
        next_override = Override{suggestion->role_id, "thinker"};
      }
    } else {
      result_.turns.push_back(rec);
      result_.latest_worker_answer = reply->text;
      next_override.reset();
    }
  }
#undef TRINITY_RUN_STEP
}

}  // namespace

const char* RunResult::run_status() const {
  if (!ok() || !answer) return "failed";
  return outcome == "accepted" ? "accepted" : "unverified";
}

OrderedJson RunResult::to_json() const {
  OrderedJson j;
  j["run_id"] = run_id;
  j["status"] = run_status();
  j["outcome"] = outcome;
  j["answer"] = answer ? OrderedJson(*answer) : OrderedJson(nullptr);
  if (!ok()) {
    j["reason"] = failure_reason;
    j["error"] = status.message();
    j["error_code"] = error_code_name(status.code());
  }
  if (budget_violation) j["budget_exceeded"] = budget_violation->to_json();
  j["turns"] = OrderedJson::array();
  for (const TurnRecord& t : turns) {
    OrderedJson r;
    r["turn"] = t.turn;
    r["agent_id"] = t.agent_id;
    r["agent_label"] = agent_label(t.agent_id);
    r["routed_role"] = role_name(t.routed_role_id);
    r["role"] = role_name(t.role_id);
    r["agent_margin"] = opt_json(t.agent_margin);
    r["role_margin"] = opt_json(t.role_margin);
    r["confidence_band"] = t.band;
    r["reflex_action"] = t.action;
    r["provider"] = t.provider;
    r["model"] = t.model;
    r["latency_ms"] = t.latency_ms;
    r["estimated_cost_usd"] = micro_to_usd(t.cost_micro_usd);
    if (!t.verdict.empty()) r["verdict"] = t.verdict;
    if (!t.reroute.empty()) r["reroute"] = t.reroute;
    j["turns"].push_back(std::move(r));
  }
  j["provider_calls"] = usage.provider_calls;
  j["revision_count"] = usage.verifier_revisions;
  j["elapsed_ms"] = usage.elapsed_ms;
  j["estimated_cost_usd"] = micro_to_usd(usage.cost_micro_usd);
  return j;
}

Result<std::shared_ptr<const AgentPool>> AgentPool::create(PoolConfig config, bool allow_live,
                                                           const EnvLookup& env, HttpClient* http) {
  TRINITY_ASSIGN_OR_RETURN(auto keys, resolve_api_keys(config, allow_live, env));
  auto pool = std::make_shared<AgentPool>();
  for (int i = 0; i < kNumAgents; ++i) {
    const ProviderSpec& spec = config.slots[static_cast<size_t>(i)];
    const std::string& key = keys[static_cast<size_t>(i)];
    TRINITY_ASSIGN_OR_RETURN(auto p, make_provider(spec, key, http));
    pool->providers[static_cast<size_t>(i)] = std::move(p);
    if (!key.empty()) pool->secrets.push_back(key);
    for (const auto& [name, value] : spec.headers)
      if (value.size() >= 6) pool->secrets.push_back(value);
  }
  pool->config = std::move(config);
  return std::shared_ptr<const AgentPool>(std::move(pool));
}

std::shared_ptr<const AgentPool> AgentPool::from_providers(
    std::array<std::shared_ptr<Provider>, kNumAgents> providers, RolePrompts prompts,
    std::vector<std::string> secrets) {
  auto pool = std::make_shared<AgentPool>();
  pool->config.name = "custom";
  pool->config.prompts = std::move(prompts);
  for (int i = 0; i < kNumAgents; ++i)
    pool->config.slots[static_cast<size_t>(i)] = providers[static_cast<size_t>(i)]->spec();
  pool->providers = std::move(providers);
  pool->secrets = std::move(secrets);
  return pool;
}

Orchestrator::Orchestrator(std::shared_ptr<const Router> router,
                           std::shared_ptr<const AgentPool> pool)
    : router_(std::move(router)), pool_(std::move(pool)) {}

RunResult Orchestrator::run(const std::vector<Message>& messages, const RunOptions& options) const {
  Run run(*router_, *pool_, options);
  return run.execute(messages);
}

}  // namespace trinity::coord
