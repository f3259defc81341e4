// trinity run: one coordination run (route -> dispatch -> verify) from the command line.
// The loop itself lives in src/coord (a library API shared with `trinity serve`).
#include <cstdio>
#include <map>

#include "cli_common.h"
#include "coord/orchestrator.h"

namespace trinity::cli {
namespace {

struct RunCliOptions {
  RouterSource src;
  std::string pool = "mock";
  std::string query, messages_file;
  bool allow_live = false, json = false;
  ReflexFlags reflex;
  int max_turns = 5;
  int64_t max_wall_time_ms = 0, max_provider_calls = 0, max_provider_latency_ms = 0,
          max_verifier_revisions = 0;
  double max_cost_usd = 0;
  std::string trace_out, trace_content = "hash";
  std::string cold_verifier;  // "": the pool's "cold_verifier", else worker
  std::map<std::string, CLI::Option*> given;
  bool has(const char* name) const {
    auto it = given.find(name);
    return it != given.end() && it->second->count() > 0;
  }
};

int exit_code_for(const coord::RunResult& r) {
  if (r.ok()) return kExitOk;
  const std::string& why = r.failure_reason;
  if (why == "budget_exceeded") return kExitBudget;
  if (why == "provider_error") return kExitProvider;
  // No answer at all: a negative verdict, as the README's table says.
  if (why == "max_turns_reached" || why == "verifier_before_worker_response" || why == "cancelled")
    return kExitFailure;
  if (r.status.code() == ErrorCode::kInternal) return kExitInternal;
  return kExitBadInput;
}

std::string margin_text(const OrderedJson& v) {
  if (!v.is_number()) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", v.get<double>());
  return buf;
}

int run_command(RunCliOptions& o) {
  const std::string cmd = "run";
  if (o.query.empty() == o.messages_file.empty())
    return report_error(cmd,
                        invalid_argument("give exactly one of --query STR or --messages FILE"));
  if (o.max_turns < 1) return report_error(cmd, invalid_argument("--max-turns must be >= 1"));
  auto content_mode = coord::parse_content_mode(o.trace_content);
  if (!content_mode.ok()) return report_error(cmd, content_mode.status());

  coord::RunOptions ro;
  ro.max_turns = o.max_turns;
  auto reflex = o.reflex.to_config();
  if (!reflex.ok()) return report_error(cmd, reflex.status());
  ro.reflex = *reflex;
  struct IntBudget {
    const char* flag;
    int64_t value;
    int64_t min;
    std::optional<int64_t>* slot;
  };
  const IntBudget ints[] = {
      {"--max-wall-time-ms", o.max_wall_time_ms, 1, &ro.budgets.max_wall_time_ms},
      {"--max-provider-calls", o.max_provider_calls, 0, &ro.budgets.max_provider_calls},
      {"--max-provider-latency-ms", o.max_provider_latency_ms, 1,
       &ro.budgets.max_provider_latency_ms},
      {"--max-verifier-revisions", o.max_verifier_revisions, 0, &ro.budgets.max_verifier_revisions},
  };
  for (const auto& b : ints) {
    if (!o.has(b.flag)) continue;
    if (b.value < b.min)
      return report_error(
          cmd, invalid_argument(std::string(b.flag) + " must be >= " + std::to_string(b.min)));
    *b.slot = b.value;
  }
  if (o.has("--max-estimated-cost-usd")) {
    auto micro = coord::usd_to_micro(o.max_cost_usd);
    if (!micro.ok())
      return report_error(cmd, micro.status().with_context("--max-estimated-cost-usd"));
    ro.budgets.max_estimated_cost_micro_usd = *micro;
  }

  auto messages = load_messages(o.messages_file, o.query);
  if (!messages.ok()) return report_error(cmd, messages.status());

  // Pool, --allow-live and API keys are all checked before the router loads or anything runs.
  auto pool_cfg = coord::load_pool(o.pool);
  if (!pool_cfg.ok()) return report_error(cmd, pool_cfg.status());
  auto pool =
      coord::AgentPool::create(std::move(pool_cfg).value(), o.allow_live, coord::process_env());
  if (!pool.ok()) return report_error(cmd, pool.status());

  ro.cold_verifier = (*pool)->config.cold_verifier.value_or(coord::ColdVerifier::kWorker);
  if (!o.cold_verifier.empty()) {
    auto cv = coord::parse_cold_verifier(o.cold_verifier);
    if (!cv.ok()) return report_error(cmd, cv.status().with_context("--cold-verifier"));
    ro.cold_verifier = *cv;
  }

  auto router = open_router(o.src);
  if (!router.ok()) return report_error(cmd, router.status());

  std::unique_ptr<coord::JsonlTraceWriter> trace;
  if (!o.trace_out.empty()) {
    auto w = coord::JsonlTraceWriter::open(o.trace_out, *content_mode);
    if (!w.ok()) return report_error(cmd, w.status());
    trace = std::move(w).value();
    ro.sinks.push_back(trace.get());
  }

  // Progress: one line per dispatched turn (events are already redacted).
  OrderedJson last_route;
  if (!o.json) {
    ro.on_event = [&last_route](const OrderedJson& e) {
      const std::string type = e["event"].get<std::string>();
      if (type == "route_decision") last_route = e;
      if (type != "provider_dispatch_finished") return;
      const int fallback = e.value("fallback_index", 0);  // a fallback of the slot answered
      const std::string model =
          e["model"].get<std::string>() +
          (fallback > 0 ? " (fallback " + std::to_string(fallback) + ")" : "");
      std::printf(
          "turn %d  agent %d %-28s role %-8s margins agent %s role %s  %s/%s  %lld ms%s\n",
          e["turn"].get<int>() + 1, e["agent_id"].get<int>(),
          e["agent_label"].get<std::string>().c_str(), e["role_name"].get<std::string>().c_str(),
          margin_text(last_route["agent_margin"]).c_str(),
          margin_text(last_route["role_margin"]).c_str(), e["provider"].get<std::string>().c_str(),
          model.c_str(), static_cast<long long>(e["latency_ms"].get<int64_t>()),
          e["status"] == "ok" ? "" : "  (failed)");
      std::fflush(stdout);
    };
  }

  ro.artifact = artifact_identity(o.src, (*router)->profile());
  coord::Orchestrator orch(*router, *pool);
  coord::RunResult result = orch.run(*messages, ro);
  for (const std::string& w : result.warnings)
    std::fprintf(stderr, "trinity run: warning: %s\n", w.c_str());
  coord::Redactor redactor((*pool)->secrets);
  if (o.json) {
    OrderedJson j = result.to_json();
    j["router_profile"] = (*router)->profile();
    j["pool"] = (*pool)->config.name;
    if (trace) j["trace"] = trace->path();
    redactor.redact_json(j);
    // The answer goes back verbatim, less the pool's own key values (redaction is for traces).
    j["answer"] =
        result.answer ? OrderedJson(redactor.remove_secrets(*result.answer)) : OrderedJson(nullptr);
    std::printf("%s\n", j.dump(2, ' ', false, OrderedJson::error_handler_t::replace).c_str());
  } else if (result.answer) {
    std::printf("\n%s after %zu turn(s), %lld call(s), %lld revision(s), $%.6f estimated\n\n%s\n",
                result.outcome == "accepted" ? "accepted"
                                             : "unverified (max turns reached, no Verifier ACCEPT)",
                result.turns.size(), static_cast<long long>(result.usage.provider_calls),
                static_cast<long long>(result.usage.verifier_revisions),
                coord::micro_to_usd(result.usage.cost_micro_usd),
                redactor.remove_secrets(*result.answer).c_str());
  }
  if (!result.ok()) {
    std::fprintf(stderr, "trinity run: error: %s (%s)\n", result.status.message().c_str(),
                 result.failure_reason.c_str());
    return exit_code_for(result);
  }
  return kExitOk;
}

}  // namespace

void register_run(CLI::App& app, CommandRegistry& reg) {
  auto o = std::make_shared<RunCliOptions>();
  CLI::App* sub =
      app.add_subcommand("run", "Coordinate agents on a query until a Verifier accepts");
  add_router_source_options(sub, o->src);
  sub->add_option("--pool", o->pool,
                  "Agent pool JSON file, or built-in: 'mock' (default), 'skills' (simulated "
                  "specialists), 'default' (the reference's, live)");
  auto* q = sub->add_option("--query", o->query, "The user query");
  auto* m = sub->add_option("--messages", o->messages_file, "JSON array of {role, content}");
  q->excludes(m);
  sub->add_flag("--allow-live", o->allow_live, "Allow calls to live (networked) providers");
  sub->add_option("--max-turns", o->max_turns, "Maximum turns (default 5)");
  for (const char* flag : {"--max-wall-time-ms", "--max-provider-calls",
                           "--max-provider-latency-ms", "--max-verifier-revisions"}) {
    int64_t* target = std::string(flag) == "--max-wall-time-ms"     ? &o->max_wall_time_ms
                      : std::string(flag) == "--max-provider-calls" ? &o->max_provider_calls
                      : std::string(flag) == "--max-provider-latency-ms"
                          ? &o->max_provider_latency_ms
                          : &o->max_verifier_revisions;
    o->given[flag] = sub->add_option(flag, *target, "Budget (optional)");
  }
  o->given["--max-estimated-cost-usd"] =
      sub->add_option("--max-estimated-cost-usd", o->max_cost_usd, "Budget in USD (optional)");
  sub->add_option("--cold-verifier", o->cold_verifier,
                  "A Verifier turn before any Worker answer: worker (default; dispatched as a "
                  "Worker turn) or error (fail as the reference does); overrides the pool's "
                  "\"cold_verifier\"");
  add_reflex_options(sub, o->reflex);
  sub->add_option("--trace-out", o->trace_out, "Write a JSONL trace to FILE");
  sub->add_option("--trace-content", o->trace_content, "Trace bodies: hash (default) or full");
  sub->add_flag("--json", o->json, "Print the result as JSON");
  reg.add(sub, [o] { return run_command(*o); });
}

}  // namespace trinity::cli
