#include "eval/render_reference.h"

#include <algorithm>
#include <chrono>

#include "coord/route_fields.h"

namespace trinity::eval {
namespace {

constexpr const char* kNativeLog = "tmp/examples/qwen_router_prompt_eval.native.log";

std::string route_lines(int agent, int role) {
  return "  agent " + std::to_string(agent) + ": " + agent_label(agent) + "\n  role  " +
         std::to_string(role) + ": " + role_name(role) + "\n";
}

const char* eval_status(Verdict v) {
  return v == Verdict::kPass ? "ok" : v == Verdict::kFail ? "fail" : "report";
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The envelope the reference's JSONL sink writes with include_refs.
OrderedJson envelope(const char* type, const std::string& case_id) {
  const std::string run = "qwen-router-prompt-eval:" + case_id;
  OrderedJson e;
  e["schema_version"] = 1;
  e["event"] = type;
  e["run_id"] = run;
  e["timestamp_ms"] = now_ms();
  e["event_ref"] = std::string("trace-event:") + type + ":" + run;
  e["trace_ref"] = run;
  e["turn"] = 0;
  e["case_id"] = case_id;
  return e;
}

OrderedJson route_decision_event(const CaseResult& r, const RunInfo& info) {
  const RouteDecision& d = r.decision;
  OrderedJson e = envelope("route_decision", r.id);
  coord::RouteFieldsContext c;
  c.transcript_hash = d.transcript_hash;
  c.route_hash = d.route_hash;
  c.confidence_band = eval_confidence_band(d);
  c.runtime_profile = info.profile;
  c.route_path = "qwen_router_prompt_eval";
  c.artifact = info.artifact_identity;
  coord::put_reference_route_fields(e, d, d.role_id, c);
  return e;
}

std::string line(const OrderedJson& e) {
  return e.dump(-1, ' ', false, OrderedJson::error_handler_t::replace) + "\n";
}

}  // namespace

const char* eval_confidence_band(const RouteDecision& d) {
  double confidence = 0.64;
  if (d.agent_margin || d.role_margin) {
    const double m = d.agent_margin && d.role_margin ? std::min(*d.agent_margin, *d.role_margin)
                     : d.agent_margin                ? *d.agent_margin
                                                     : *d.role_margin;
    confidence = std::clamp(0.55 + m / 10.0, 0.0, 0.99);
  }
  return confidence >= 0.8 ? "high" : confidence >= 0.5 ? "medium" : "low";
}

std::string render_reference_header(const RunInfo& info) {
  const std::string artifact = !info.artifact.empty() ? info.artifact
                               : !info.vector.empty() ? info.vector
                                                      : std::string("-");
  return "\n=== QWEN ROUTER PROMPT EVAL ===\n\nArtifact\n  " + artifact +
         "\n\nRuntime profile\n  " + info.profile +
         "\n\nNative logs\n  hidden in normal mode: " + kNativeLog +
         "\n  use --debug-native-logs to print XLA/CUDA compiler logs inline\n\n";
}

std::string render_reference_case(const CaseResult& r, size_t n_cases, const TextOptions& opt) {
  const RouteDecision& d = r.decision;
  std::string o = "\n[";
  o.append(std::to_string(r.index + 1)).append("/").append(std::to_string(n_cases)).append("] ");
  o.append(r.id).append(" - ").append(verdict_name(r.verdict)).append("\n\nExpected route:\n");
  o += r.expected ? route_lines(r.expected->agent_id, r.expected->role_id) : "  -\n";
  o += "\nRouter returned:\n" + route_lines(d.agent_id, d.role_id);
  o += "\nRouter input tokens: " + std::to_string(d.token_count) + "\n";
  if (opt.verbose || opt.show_logits) {
    auto m = [](const std::optional<double>& v) {
      return v ? format_double("%.5f", *v) : std::string("nil");
    };
    o += "Debug:\n  transcript_hash: " + d.transcript_hash + "\n  route_hash: " + d.route_hash +
         "\n  agent_margin: " + m(d.agent_margin) + "\n  role_margin: " + m(d.role_margin) + "\n";
  }
  if (opt.show_logits) {
    auto list = [&](int from, int n) {
      std::string s = "[";
      for (int i = 0; i < n; ++i)
        s += (i ? ", " : "") + format_double("%.5f", elixir_round(d.logit(from + i), 5));
      return s + "]";
    };
    o += "      agent_logits: " + list(0, kNumAgents) +
         "\n      role_logits: " + list(kNumAgents, kNumRoles) + "\n";
  }
  return o;
}

std::string render_reference_summary(const EvalRun& run) {
  const EvalSummary& s = run.summary;
  if (!s.failed_ids.empty()) {
    std::string ids;
    for (const auto& id : s.failed_ids) ids += (ids.empty() ? "" : ", ") + id;
    return "qwen_router_prompt_eval failed cases=" + ids + "\n";
  }
  std::string roles, agents;
  for (int i = 0; i < kNumRoles; ++i) {
    if (s.roles_selected[size_t(i)] == 0) continue;
    roles += (roles.empty() ? "" : ", ") + std::string(role_name(i)) + "=" +
             std::to_string(s.roles_selected[size_t(i)]);
  }
  for (int i = 0; i < kNumAgents; ++i) {
    if (s.agents_selected[size_t(i)] == 0) continue;
    agents += (agents.empty() ? "" : ", ") + std::to_string(i) + "=" +
              std::to_string(s.agents_selected[size_t(i)]);
  }
  return "\nSummary\n  passed: " + std::to_string(s.passed + s.report_only) +
         "\n  failed: " + std::to_string(s.failed) + "\n  roles selected: " + roles +
         "\n  agent slots selected: " + agents + "\n\nPASS qwen_router_prompt_eval\n\n";
}

std::vector<coord::ReflexDecision> classify_cases(const EvalRun& run,
                                                  const coord::ReflexThresholds& t,
                                                  const coord::ReflexConfig& cfg) {
  std::vector<coord::ReflexDecision> out;
  for (const auto& r : run.results)
    out.push_back(coord::evaluate_reflex(r.decision, r.decision.role_id, t, cfg));
  return out;
}

std::string render_reflex_report(const EvalRun& run,
                                 const std::vector<coord::ReflexDecision>& reflex) {
  std::string o = "\nReflex classification\n";
  int bands[3] = {0, 0, 0}, actions[3] = {0, 0, 0};
  for (size_t i = 0; i < reflex.size(); ++i) {
    o += "  " + run.results[i].id + ": " + coord::band_name(reflex[i].band) + " -> " +
         coord::action_name(reflex[i].action) + "\n";
    bands[static_cast<int>(reflex[i].band)] += 1;
    actions[static_cast<int>(reflex[i].action)] += 1;
  }
  using coord::ConfidenceBand;
  using coord::ReflexAction;
  o += "\nReflex summary\n";
  for (ConfidenceBand b : {ConfidenceBand::kHigh, ConfidenceBand::kMedium, ConfidenceBand::kLow})
    o += std::string("  ") + coord::band_name(b) + ": " +
         std::to_string(bands[static_cast<int>(b)]) + "\n";
  for (ReflexAction a : {ReflexAction::kDirectDispatch, ReflexAction::kNormalDispatch,
                         ReflexAction::kThinkerThenVerifier})
    o += std::string("  ") + coord::action_name(a) + ": " +
         std::to_string(actions[static_cast<int>(a)]) + "\n";
  return o;
}

std::string eval_trace_lines(const EvalRun& run, const RunInfo& info) {
  std::string out;
  for (const auto& r : run.results) {
    const RouteDecision& d = r.decision;
    out += line(route_decision_event(r, info));
    OrderedJson e = envelope("route_eval_result", r.id);
    e["expected_agent_id"] = r.expected ? OrderedJson(r.expected->agent_id) : nullptr;
    e["expected_role_id"] = r.expected ? OrderedJson(r.expected->role_id) : nullptr;
    e["actual_agent_id"] = d.agent_id;
    e["actual_role_id"] = d.role_id;
    e["status"] = eval_status(r.verdict);
    e["agent_margin"] = opt_json(d.agent_margin);
    e["role_margin"] = opt_json(d.role_margin);
    e["token_count"] = d.token_count;
    e["transcript_hash"] = d.transcript_hash;
    e["route_hash"] = d.route_hash;
    // trinity's own fields
    e["eval_run_id"] = info.run_id;
    e["index"] = r.index;
    e["verdict"] = verdict_name(r.verdict);
    e["failures"] = r.failures;
    const OrderedJson decision = d.to_json();
    e["agent_logits"] = decision["agent_logits"];
    e["role_logits"] = decision["role_logits"];
    out += line(e);
  }
  return out;
}

std::string reflex_trace_lines(const EvalRun& run, const RunInfo& info,
                               const std::vector<coord::ReflexDecision>& reflex,
                               const coord::ReflexThresholds& t) {
  std::string out;
  for (size_t i = 0; i < run.results.size(); ++i) {
    const CaseResult& r = run.results[i];
    const RouteDecision& d = r.decision;
    const coord::ReflexDecision& x = reflex[i];
    const bool low = x.enabled && x.band == coord::ConfidenceBand::kLow;
    out += line(route_decision_event(r, info));
    OrderedJson e = envelope("reflex_decision", r.id);
    e["route_hash"] = d.route_hash;
    e["selected_agent_id"] = d.agent_id;
    e["selected_role_id"] = d.role_id;
    e["original_role_name"] = role_name(d.role_id);
    e["original_role_atom"] = role_atom(d.role_id);
    e["confidence_class"] = coord::band_name(x.band);
    e["action"] = coord::action_name(x.action);
    e["reason"] = x.reason;
    e["agent_margin"] = opt_json(d.agent_margin);
    e["role_margin"] = opt_json(d.role_margin);
    e["min_margin"] =
        d.agent_margin && d.role_margin ? coord::min_margin_json(d) : OrderedJson(nullptr);
    e["confidence_band"] = eval_confidence_band(d);
    const OrderedJson thresholds = t.to_json();
    e["thresholds"] = OrderedJson{{"high_agent", thresholds["high_agent"]},
                                  {"high_role", thresholds["high_role"]},
                                  {"low_agent", thresholds["low_agent"]},
                                  {"low_role", thresholds["low_role"]}};
    e["forced_sequence"] = low ? OrderedJson::array({"thinker", "verifier"}) : OrderedJson::array();
    e["next_role_override"] =
        x.next_role_override ? OrderedJson(*x.next_role_override) : OrderedJson(nullptr);
    e["reflex_enabled"] = x.enabled;
    out += line(e);
  }
  return out;
}

}  // namespace trinity::eval
