// The coordinator: routes a conversation turn by turn to an agent and a role until a Verifier
// accepts (see docs/coordinator.md). A library API independent of the CLI: one Orchestrator
// (router + resolved pool) serves many concurrent runs; each run reports progress through
// EventSinks / a callback and can be cancelled through an atomic flag.
//
// The loop (max_turns default 5), one step per function in orchestrator.cpp:
//   run_turn:
//     out of turns -> the latest Worker answer ("unverified"), else max_turns_reached
//     route          the transcript (input + agent replies as assistant messages; never role
//                    prompts), over the allowed agent slots only (excluded_agents)
//     choose_role    role = pending override (Thinker suggestion or reflex) else the routed
//                    role; agent = always the routed agent; the reflex may make it a Thinker
//                    (then a forced Verifier); cold_verifier worker (the default): with no
//                    Worker answer yet, a Verifier turn and the last allowed turn become Worker
//                    turns; emits route_decision, reflex_decision; budget check turn_start
//     guard          cold_verifier error (the reference): a Verifier before any Worker answer
//                    (not forced by reflex) -> verifier_before_worker_response; count the
//                    call; budget check before_dispatch
//     dispatch       call the agent (prompts.h shape; a Worker turn with active tools gets them
//                    and the conversation natively), over its fallbacks if the slot has some
//                    (fallback.h: each further endpoint call counts as a provider call, budget
//                    check before_dispatch); a failed call -> provider_error
//     account        latency and cost; budget checks after_dispatch_latency, after_dispatch
//     handle_role    Verifier: ACCEPT -> the latest Worker answer ("accepted"), else a
//                    revision (budget check after_verifier_revision); Thinker: its suggestion
//                    (or the reflex) sets the next role; Worker: the latest answer
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coord/budget.h"
#include "coord/clock.h"
#include "coord/pool.h"
#include "coord/provider.h"
#include "coord/reflex.h"
#include "coord/route_fields.h"
#include "coord/tools.h"
#include "coord/trace.h"
#include "core/trace_context.h"
#include "router/route.h"

namespace trinity::coord {

class CircuitRegistry;  // fallback.h

// A pool with its providers built and its keys resolved (from the environment). Immutable and
// shareable across runs and threads. A slot with fallbacks or a live endpoint is served by a
// FallbackProvider (fallback.h) whose circuits live in `circuits`, shared by all its runs.
struct AgentPool {
  PoolConfig config;
  std::array<std::shared_ptr<Provider>, kNumAgents> providers;
  std::vector<std::string> secrets;           // API key values and custom header values: redacted
  std::shared_ptr<CircuitRegistry> circuits;  // null for from_providers pools

  // Checks --allow-live and every api_key_env before any call. `http` (optional) must outlive
  // the pool; null uses libcurl.
  static Result<std::shared_ptr<const AgentPool>> create(PoolConfig config, bool allow_live,
                                                         const EnvLookup& env,
                                                         HttpClient* http = nullptr);
  // For tests: explicit providers (the specs are taken from them).
  static std::shared_ptr<const AgentPool> from_providers(
      std::array<std::shared_ptr<Provider>, kNumAgents> providers, RolePrompts prompts,
      std::vector<std::string> secrets = {});
};

struct RunOptions {
  int max_turns = 5;
  ArtifactIdentity artifact;
  std::string route_path = "orchestrator";
  ColdVerifier cold_verifier = ColdVerifier::kWorker;
  Budgets budgets;
  ReflexConfig reflex;
  std::string run_id;                                // empty: random 16 hex digits
  const std::atomic<bool>* cancel = nullptr;         // set to true to stop the run (kCancelled)
  Clock* clock = nullptr;                            // null: the system clock
  std::optional<uint64_t> seed;                      // retry-jitter seed (null: random)
  std::vector<EventSink*> sinks;                     // e.g. a JsonlTraceWriter; called in order
  std::function<void(const OrderedJson&)> on_event;  // progress callback, after the sinks
  // OpenTelemetry: the run span's context (span_id = the run span). When set, every provider
  // call sends a W3C traceparent for its span (coord/run_spans.h) and the tracestate.
  std::optional<TraceContext> trace;
  // The client's tools (tools.h): Worker turns are dispatched with them when active, and the
  // answer may hold tool calls. Recorded in a run_tools event when tools were sent.
  ToolSet tools;
  // Agent slots the router may not choose (a request's `exclude_agents`, serve
  // --exclude-agents): every turn routes over the others (router/route.h restrict_agents).
  std::array<bool, kNumAgents> excluded_agents{};
};

struct TurnRecord {
  int turn = 0;
  int agent_id = 0;
  int routed_role_id = 0;
  int role_id = 0;  // the dispatched role
  std::optional<double> agent_margin, role_margin;
  std::string band;                     // the route's confidence band (high|medium|low|unknown)
  std::string confidence_class;         // the reflex class (high|medium|low)
  std::string action, provider, model;  // provider, model: the endpoint that answered
  int fallback_index = 0;               // 0: the slot's own provider; 1..: its fallbacks
  int64_t latency_ms = 0;
  int64_t cost_micro_usd = 0;
  std::string verdict;  // Verifier turns: accept | revise | unknown
  std::string reroute;  // why the dispatched role is Worker: cold_verifier | last_turn | ""
};

struct RunResult {
  std::string run_id;
  Status status;               // OK, or the typed error
  std::string outcome;         // "accepted" | "max_turns" | "failed"
  std::string failure_reason;  // max_turns_reached | verifier_before_worker_response |
                               // budget_exceeded | provider_error | cancelled | router_error |
                               // invalid_input | trace_error
  std::optional<std::string> answer;  // the final Worker answer's text ("" when only tool calls)
  std::vector<ToolCall> answer_tool_calls;          // and its tool calls, returned to the client
  std::optional<std::string> latest_worker_answer;  // also kept on failure
  std::vector<ToolCall> latest_worker_tool_calls;
  std::optional<BudgetViolation> budget_violation;
  // provider_error: the failed call's provider, model and class (status has the details).
  struct FailedCall {
    std::string provider, model;
    ProviderFailure failure;
  };
  std::optional<FailedCall> failed_call;
  std::vector<TurnRecord> turns;
  BudgetUsage usage;
  std::vector<std::string> warnings;  // e.g. a cost budget that can never fire
  std::vector<int> excluded_agents;   // the slots the run could not route to (ascending)
  bool ok() const { return status.ok(); }
  // accepted (a Verifier accepted) | unverified (turns ran out; the latest Worker answer) |
  // failed (no answer).
  const char* run_status() const;
  OrderedJson to_json() const;
};

class Orchestrator {
 public:
  Orchestrator(std::shared_ptr<const Router> router, std::shared_ptr<const AgentPool> pool);
  // Runs one coordination. Thread-safe: many runs may share one Orchestrator.
  RunResult run(const std::vector<Message>& messages, const RunOptions& options) const;

 private:
  std::shared_ptr<const Router> router_;
  std::shared_ptr<const AgentPool> pool_;
};

}  // namespace trinity::coord
