#include "train/fitness_trace.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <tuple>

#include "core/file_util.h"
#include "core/sha256.h"
#include "train/fitness_id.h"

namespace trinity::train {
namespace {

using Entries = std::vector<const TraceEntry*>;

const Json& null_json() {
  static const Json kNull;
  return kNull;
}

// Map.get(record, key): the value, or null when absent (or when `m` is not an object).
const Json& field(const Json& m, const char* key) {
  if (!m.is_object()) return null_json();
  auto it = m.find(key);
  return it == m.end() ? null_json() : *it;
}

// Map.get(record, key, default): the default only when the key is absent.
Json field_or(const Json& m, const char* key, const Json& fallback) {
  return m.is_object() && m.contains(key) ? m[key] : fallback;
}

// Elixir's `a || b`: b when a is nil or false.
Json or_else(const Json& a, const Json& b) {
  return a.is_null() || (a.is_boolean() && !a.get<bool>()) ? b : a;
}

std::string event_name(const Json& record) {
  const Json& ev = field(record, "event");
  return ev.is_string() ? ev.get<std::string>() : "";
}
std::string event_of(const TraceEntry& e) {
  return event_name(e.record);
}

Json run_id_of(const Json& record) {
  return or_else(or_else(field(record, "run_id"), field(record, "coordination_run_ref")),
                 field(record, "trace_ref"));
}

std::string trim(const std::string& s) {
  const char* ws = " \t\r\n\f\v";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

// The first entry of `event` in the run that `match` accepts (null when none).
template <typename Match>
const Json& find_first(const Entries& run, const char* event, Match match) {
  for (const TraceEntry* e : run)
    if (event_of(*e) == event && match(e->record)) return e->record;
  return null_json();
}

bool same_route_hash(const Json& record, const Json& route_hash) {
  return route_hash.is_string() && field(record, "route_hash") == route_hash;
}

std::string normalize_status(const Json& s) {
  static const char* kKnown[] = {"accepted", "revise", "revised", "rejected", "failed", "unknown"};
  if (s.is_string())
    for (const char* k : kKnown)
      if (s.get<std::string>() == k) return k;
  return "unknown";
}

std::pair<std::string, std::string> outcome_status(const Json& verifier, const Json& eval) {
  if (verifier.is_object() && !verifier.empty())
    return {"verifier", normalize_status(field(verifier, "status"))};
  if (eval.is_object() && !eval.empty()) {
    const Json& s = field(eval, "status");
    if (s == "ok") return {"eval", "accepted"};
    if (s == "fail") return {"eval", "rejected"};
    return {"eval", "unknown"};
  }
  return {"unknown", "unknown"};
}

// Only the allowlisted values of a reflex_decision (anything else becomes null / is dropped).
Json reflex_summary(const Json& reflex) {
  auto allowed = [&](const char* key, std::initializer_list<const char*> values) {
    const Json& v = field(reflex, key);
    for (const char* a : values)
      if (v == a) return v;
    return Json(nullptr);
  };
  Json sequence = Json::array();
  const Json& forced = field(reflex, "forced_sequence");
  if (forced.is_array())
    for (const Json& r : forced)
      if (r == "thinker" || r == "verifier") sequence.push_back(r);
  return {{"confidence_class", allowed("confidence_class", {"high", "medium", "low"})},
          {"action",
           allowed("action", {"direct_dispatch", "normal_dispatch", "thinker_then_verifier"})},
          {"reason", allowed("reason", {"disabled", "high_confidence", "medium_confidence",
                                        "low_margin", "missing_margin", "explicit_override"})},
          {"forced_sequence", sequence}};
}

Json route_map(const Json& route, const Json& reflex) {
  Json r = Json::object();
  for (const char* k :
       {"selected_agent_id", "selected_role_id", "role_name", "agent_margin", "role_margin",
        "min_margin", "confidence_band", "token_count", "route_hash", "runtime_profile",
        "provider_pool", "route_path", "artifact_ref", "artifact_revision", "artifact_hash_ref"})
    r[k] = field(route, k);
  if (reflex.is_object() && !reflex.empty()) r["reflex"] = reflex_summary(reflex);
  return r;
}

Json input_map(const Json& route, coord::ContentMode content) {
  Json in = {{"transcript_hash", field(route, "transcript_hash")},
             {"input_hash", or_else(field(route, "input_hash"), field(route, "transcript_hash"))}};
  const Json& messages = field(route, "input_content");
  if (content == coord::ContentMode::kFull && messages.is_array()) in["messages"] = messages;
  return in;
}

Json provenance_map(const TraceEntry& e) {
  const Json& r = e.record;
  return {{"source_trace_path", e.path},
          {"source_trace_line", e.line},
          {"artifact_ref", field(r, "artifact_ref")},
          {"artifact_revision", field(r, "artifact_revision")},
          {"artifact_hash_ref", field(r, "artifact_hash_ref")},
          {"runtime_profile", field(r, "runtime_profile")},
          {"route_hash", field(r, "route_hash")}};
}

Json source_map(const Json& route, const Json& run_id, const Json& turn) {
  const char* kind =
      field(route, "route_path") == "qwen_router_prompt_eval" ? "eval" : "orchestrator";
  return {{"kind", kind}, {"run_id", run_id}, {"turn", turn}, {"case_id", field(route, "case_id")}};
}

Json outcome_map(const Json& verifier, const Json& eval, const Json& dispatch, const Json& budget) {
  auto [source, status] = outcome_status(verifier, eval);
  return {
      {"source", source},
      {"verifier_status", status},
      {"safe_status", field(verifier, "safe_status")},
      {"revision_count",
       or_else(or_else(field(verifier, "revision_count"), field(budget, "verifier_revisions")), 0)},
      {"verifier_response_ref", field(verifier, "verifier_response_ref")},
      {"dispatch_ref", field(dispatch, "dispatch_ref")},
      {"response_ref", field(dispatch, "response_ref")},
      {"provider", field(dispatch, "provider")},
      {"model", field(dispatch, "model")},
      {"model_profile", field(dispatch, "model_profile")},
      {"observed_latency_ms", field(dispatch, "latency_ms")},
      {"estimated_cost_usd",
       or_else(field(dispatch, "estimated_cost_usd"), field(budget, "estimated_cost_usd"))},
      {"dispatch_ok", field(dispatch, "ok")},
      {"error_ref", field(dispatch, "error_ref")},
      {"budget_exceeded", field_or(budget, "budget_exceeded", false)},
      {"budget_exceeded_key", field(budget, "budget_exceeded_key")},
      {"provider_calls", field(budget, "provider_calls")},
      {"wall_time_ms", field(budget, "wall_time_ms")}};
}

Result<FitnessCandidate> assemble_route(const TraceEntry& entry, const Entries& run,
                                        coord::ContentMode content) {
  const Json& route = entry.record;
  const Json run_id = run_id_of(route);
  const Json& turn = field(route, "turn");
  const Json& route_hash = field(route, "route_hash");
  const Json& case_id = field(route, "case_id");
  auto same_turn = [&](const Json& r) { return field(r, "turn") == turn; };
  auto hash_or_turn = [&](const Json& r) { return same_route_hash(r, route_hash) || same_turn(r); };
  const Json& dispatch = find_first(run, "provider_dispatch_finished", same_turn);
  const Json& verifier = find_first(run, "verifier_result", hash_or_turn);
  const Json& eval = find_first(run, "route_eval_result", [&](const Json& r) {
    return same_route_hash(r, route_hash) ||
           (case_id.is_string() && field(r, "case_id") == case_id) || same_turn(r);
  });
  const Json& reflex = find_first(run, "reflex_decision", hash_or_turn);
  const Json* budget = &null_json();
  for (const TraceEntry* e : run)
    if (event_of(*e) == "budget_snapshot" && same_turn(e->record)) budget = &e->record;

  FitnessCandidate c;
  c.source = source_map(route, run_id, turn);
  c.input = input_map(route, content);
  c.route = route_map(route, reflex);
  c.outcome = outcome_map(verifier, eval, dispatch, *budget);
  c.provenance = provenance_map(entry);
  TRINITY_ASSIGN_OR_RETURN(c.example_id, fitness_example_id(run_id, turn, case_id, route_hash));
  return c;
}

// The smallest value of `key` over the run's decisions; null when one of them lacks it.
Json min_over(const Entries& routes, const char* key) {
  Json best;
  for (const TraceEntry* r : routes) {
    const Json& v = field(r->record, key);
    if (!v.is_number()) return nullptr;
    if (best.is_null() || v.get<double>() < best.get<double>()) best = v;
  }
  return best;
}

// What a run's events say about its end, for the run unit.
struct RunEnd {
  Entries routes;
  const Json* end = &null_json();            // run_finished / run_failed (the last one)
  const Json* last_verifier = &null_json();  // the last verifier_result
  const Json* exceeded = &null_json();       // the first budget_snapshot over a budget
  Json dispatch_ok;                          // all provider dispatches ok (null without any)
};

RunEnd scan_run(const Entries& run) {
  RunEnd s;
  for (const TraceEntry* e : run) {
    const std::string ev = event_of(*e);
    if (ev == "route_decision") s.routes.push_back(e);
    if (ev == "run_finished" || ev == "run_failed") s.end = &e->record;
    if (ev == "verifier_result") s.last_verifier = &e->record;
    if (ev == "budget_snapshot" && field(e->record, "budget_exceeded") == true &&
        s.exceeded->is_null())
      s.exceeded = &e->record;
    if (ev == "provider_dispatch_finished")
      s.dispatch_ok =
          (s.dispatch_ok.is_null() || s.dispatch_ok == true) && field(e->record, "ok") == true;
  }
  return s;
}

std::string run_verifier_status(const RunEnd& s) {
  const std::string ev = event_name(*s.end);
  if (ev == "run_finished" && field(*s.end, "run_status") == "accepted") return "accepted";
  if (ev == "run_failed") return "failed";
  if (!s.last_verifier->is_null()) return normalize_status(field(*s.last_verifier, "status"));
  return "unknown";
}

Json run_outcome(const RunEnd& s) {
  const Json& end = *s.end;
  const bool exceeded = field(end, "budget_exceeded") == true || !s.exceeded->is_null();
  return {{"source", "run"},
          {"verifier_status", run_verifier_status(s)},
          {"safe_status", field(*s.last_verifier, "safe_status")},
          {"revision_count", or_else(field(end, "verifier_revisions"), 0)},
          {"verifier_response_ref", field(*s.last_verifier, "verifier_response_ref")},
          {"dispatch_ref", nullptr},
          {"response_ref", field(end, "final_response_ref")},
          {"provider", nullptr},
          {"model", nullptr},
          {"model_profile", nullptr},
          {"observed_latency_ms", field(end, "wall_time_ms")},
          {"estimated_cost_usd", field(end, "estimated_cost_usd")},
          {"dispatch_ok", s.dispatch_ok},
          {"error_ref", field(end, "reason_ref")},
          {"budget_exceeded", exceeded},
          {"budget_exceeded_key",
           or_else(field(end, "budget_exceeded_key"), field(*s.exceeded, "budget_exceeded_key"))},
          {"provider_calls", field(end, "provider_calls")},
          {"wall_time_ms", field(end, "wall_time_ms")},
          {"run_status", field(end, "run_status")},
          {"failure_reason", field(end, "reason")}};
}

// No candidate (nullopt) for a run without a route decision.
Result<std::optional<FitnessCandidate>> assemble_run(const Entries& run,
                                                     coord::ContentMode content) {
  RunEnd s = scan_run(run);
  if (s.routes.empty()) return std::optional<FitnessCandidate>();
  const TraceEntry& first = *s.routes.front();
  const Json run_id = run_id_of(first.record);
  const Json& route_hash = field(first.record, "route_hash");
  const Json& reflex = find_first(run, "reflex_decision", [&](const Json& r) {
    return same_route_hash(r, route_hash) || field(r, "turn") == field(first.record, "turn");
  });
  FitnessCandidate c;
  c.source = source_map(first.record, run_id, nullptr);
  c.source["unit"] = "run";
  c.input = input_map(first.record, content);
  c.route = route_map(first.record, reflex);
  c.route["agent_margin"] = min_over(s.routes, "agent_margin");
  c.route["role_margin"] = min_over(s.routes, "role_margin");
  const Json &a = c.route["agent_margin"], &r = c.route["role_margin"];
  c.route["min_margin"] =
      a.is_number() && r.is_number() ? Json(std::min(a.get<double>(), r.get<double>())) : Json();
  c.route["route_count"] = s.routes.size();
  c.outcome = run_outcome(s);
  c.provenance = provenance_map(first);
  Json hashes = Json::array();
  for (const TraceEntry* e : s.routes) hashes.push_back(field(e->record, "route_hash"));
  c.provenance["route_hashes"] = hashes;
  TRINITY_ASSIGN_OR_RETURN(
      c.example_id, fitness_example_id(run_id, nullptr, field(first.record, "case_id"), nullptr));
  return std::optional<FitnessCandidate>(std::move(c));
}

std::string fingerprint(const FitnessCandidate& c) {
  const Json body = {{"example_id", c.example_id},
                     {"source", c.source},
                     {"input", c.input},
                     {"route", c.route},
                     {"outcome", c.outcome}};
  return sha256_hex(canonical_json(body));
}

// Run id (as text), then turn (null first), then example id.
std::tuple<std::string, int, double, std::string> sort_key(const FitnessCandidate& c) {
  const Json& run_id = field(c.source, "run_id");
  const Json& turn = field(c.source, "turn");
  return {run_id.is_string() ? run_id.get<std::string>() : canonical_json(run_id),
          turn.is_number() ? 1 : 0, turn.is_number() ? turn.get<double>() : 0.0, c.example_id};
}

AssembledCandidates dedupe_and_sort(std::vector<FitnessCandidate> all) {
  auto origin = [](const FitnessCandidate& c) {
    return std::make_pair(c.provenance["source_trace_path"].get<std::string>(),
                          c.provenance["source_trace_line"].get<int64_t>());
  };
  std::stable_sort(all.begin(), all.end(),
                   [&](const auto& x, const auto& y) { return origin(x) < origin(y); });
  AssembledCandidates out;
  std::map<std::string, std::string> seen;  // example id -> fingerprint
  for (FitnessCandidate& c : all) {
    const std::string fp = fingerprint(c);
    auto [it, inserted] = seen.emplace(c.example_id, fp);
    if (inserted) {
      out.examples.push_back(std::move(c));
    } else if (it->second != fp) {
      out.conflicts.push_back({{"example_id", c.example_id}, {"reason", "conflicting_duplicate"}});
    }
  }
  std::sort(out.examples.begin(), out.examples.end(),
            [](const auto& x, const auto& y) { return sort_key(x) < sort_key(y); });
  return out;
}

}  // namespace

Json SkippedLine::to_json() const {
  return {{"path", path}, {"line", line}, {"reason", reason}, {"line_hash", line_hash}};
}

Status parse_jsonl_text(const std::string& text, const std::string& path, bool skip_invalid,
                        TraceReadResult& out) {
  std::istringstream in(text);
  std::string raw;
  for (int64_t line_no = 1; std::getline(in, raw); ++line_no) {
    const std::string line = trim(raw);
    if (line.empty()) continue;
    const std::string where = path + ":" + std::to_string(line_no);
    auto parsed = parse_json(line, where);
    std::string reason;
    if (!parsed.ok()) {
      reason = parsed.status().message().substr(where.size() + 2);  // after "<where>: "
    } else if (!parsed->is_object()) {
      reason = "JSON value is not an object";
    } else {
      out.entries.push_back({path, line_no, std::move(*parsed)});
      continue;
    }
    if (!skip_invalid) return parse_error(where + ": " + reason);
    out.skipped.push_back({path, line_no, reason, "sha256:" + sha256_hex(line)});
  }
  return ok_status();
}

Result<TraceReadResult> read_traces(const std::vector<std::string>& paths, bool skip_invalid) {
  if (paths.empty()) return invalid_argument("no trace files given");
  TraceReadResult out;
  for (const std::string& p : paths) {
    if (!file_exists(p) || is_directory(p)) return not_found("trace not found: " + p);
    TRINITY_ASSIGN_OR_RETURN(std::string text, read_file(p));
    TRINITY_RETURN_IF_ERROR(parse_jsonl_text(text, p, skip_invalid, out));
  }
  return out;
}

const char* example_unit_name(ExampleUnit u) {
  return u == ExampleUnit::kRun ? "run" : "route";
}

Result<ExampleUnit> parse_example_unit(const std::string& s) {
  if (s == "route") return ExampleUnit::kRoute;
  if (s == "run") return ExampleUnit::kRun;
  return invalid_argument("example unit must be route or run, got '" + s + "'");
}

Result<AssembledCandidates> assemble_candidates(const std::vector<TraceEntry>& entries,
                                                ExampleUnit unit, coord::ContentMode content) {
  std::map<std::string, Entries> runs;  // canonical run id -> the run's entries, in trace order
  for (const TraceEntry& e : entries) runs[canonical_json(run_id_of(e.record))].push_back(&e);
  std::vector<FitnessCandidate> all;
  for (const auto& [key, run] : runs) {
    if (unit == ExampleUnit::kRun) {
      TRINITY_ASSIGN_OR_RETURN(auto c, assemble_run(run, content));
      if (c) all.push_back(std::move(*c));
      continue;
    }
    for (const TraceEntry* e : run) {
      if (event_of(*e) != "route_decision") continue;
      TRINITY_ASSIGN_OR_RETURN(FitnessCandidate c, assemble_route(*e, run, content));
      c.source["unit"] = "route";
      all.push_back(std::move(c));
    }
  }
  return dedupe_and_sort(std::move(all));
}

}  // namespace trinity::train
