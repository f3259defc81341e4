#include "coord/otlp_sink.h"

#include <chrono>

#include "coord/run_spans.h"

namespace trinity::coord {
namespace {

// Event fields, read without throwing whatever their JSON type.
std::optional<std::string> str_field(const OrderedJson& ev, const char* key) {
  auto it = ev.find(key);
  if (it == ev.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}
std::optional<int64_t> int_field(const OrderedJson& ev, const char* key) {
  auto it = ev.find(key);
  if (it == ev.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}
std::optional<double> num_field(const OrderedJson& ev, const char* key) {
  auto it = ev.find(key);
  if (it == ev.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}
std::optional<bool> bool_field(const OrderedJson& ev, const char* key) {
  auto it = ev.find(key);
  if (it == ev.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

// Copies event field `field` to attribute `key` when present with the expected type.
void copy_str(Span& s, const char* key, const OrderedJson& ev, const char* field) {
  if (auto v = str_field(ev, field)) s.set(key, std::move(*v));
}
void copy_int(Span& s, const char* key, const OrderedJson& ev, const char* field) {
  if (auto v = int_field(ev, field)) s.set(key, *v);
}
void copy_num(Span& s, const char* key, const OrderedJson& ev, const char* field) {
  if (auto v = num_field(ev, field)) s.set(key, *v);
}

void set_error(Span& s, const std::string& message) {
  s.status_code = SpanStatusCode::kError;
  s.status_message = message;
}

// The route_decision fields a turn span and its route span share.
void put_route_fields(Span& s, const OrderedJson& ev) {
  copy_int(s, "trinity.turn", ev, "turn");
  copy_int(s, "trinity.agent_id", ev, "agent_id");
  copy_str(s, "trinity.agent_label", ev, "agent_label");
  copy_str(s, "trinity.routed_role", ev, "routed_role_name");
  copy_num(s, "trinity.agent_margin", ev, "agent_margin");
  copy_num(s, "trinity.role_margin", ev, "role_margin");
  copy_num(s, "trinity.min_margin", ev, "min_margin");
  copy_str(s, "trinity.band", ev, "confidence_band");
}

}  // namespace

int64_t unix_now_nanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

OtlpRunSink::OtlpRunSink(OtlpExporter& exporter, const TraceContext& run,
                         std::string parent_span_id, std::vector<SpanAttribute> run_attributes,
                         std::function<int64_t()> now_unix_nano)
    : exporter_(exporter), ctx_(run), now_(std::move(now_unix_nano)) {
  if (!now_) now_ = unix_now_nanos;
  last_event_ns_ = now_();
  if (!ctx_.sampled()) return;  // propagated, not recorded
  run_ = child("trinity.run", SpanKind::kServer, ctx_.span_id, parent_span_id, last_event_ns_);
  for (auto& kv : run_attributes) run_->set(kv.key, std::move(kv.value));
}

OtlpRunSink::~OtlpRunSink() {
  try {
    if (!run_) return;
    const int64_t now = now_();
    for (auto* s : {&call_, &turn_, &run_})
      if (*s) set_error(**s, "the run ended without a final event");
    end(call_, now);
    end(turn_, now);
    end(run_, now);
  } catch (...) {
  }
}

Span OtlpRunSink::child(const char* name, SpanKind kind, std::string span_id,
                        const std::string& parent, int64_t start) const {
  Span s;
  s.trace_id = ctx_.trace_id;
  s.span_id = std::move(span_id);
  s.parent_span_id = parent;
  s.name = name;
  s.kind = kind;
  s.start_unix_nano = start;
  s.end_unix_nano = start;
  return s;
}

void OtlpRunSink::end(std::optional<Span>& span, int64_t at) {
  if (!span) return;
  span->end_unix_nano = at;
  exporter_.enqueue(std::move(*span));
  span.reset();
}

Status OtlpRunSink::on_event(const OrderedJson& ev) {
  if (!run_) return ok_status();
  try {
    const int64_t now = now_();
    const std::string type = str_field(ev, "event").value_or("");
    if (type == "route_decision") {
      on_route_decision(ev, now);
    } else if (type == "reflex_decision" && turn_) {
      copy_str(*turn_, "trinity.reflex_action", ev, "action");
      copy_str(*turn_, "trinity.confidence_class", ev, "confidence_class");
    } else if (type == "provider_dispatch_started") {
      on_dispatch_started(ev, now);
    } else if (type == "provider_dispatch_finished") {
      on_dispatch_finished(ev, now);
    } else if (type == "verifier_result" && turn_) {
      copy_str(*turn_, "trinity.verdict", ev, "verdict");
    } else if (type == "run_warning") {
      copy_str(*run_, "trinity.warning", ev, "code");
    } else if (type == "run_finished" || type == "run_failed") {
      on_run_end(ev, now);
    }
    last_event_ns_ = now;
  } catch (...) {  // tracing never ends a run
  }
  return ok_status();
}

void OtlpRunSink::on_route_decision(const OrderedJson& ev, int64_t now) {
  end(call_, last_event_ns_);
  end(turn_, last_event_ns_);
  const int turn = static_cast<int>(int_field(ev, "turn").value_or(turns_));
  turns_ += 1;
  // Routing starts when the previous event (the end of the previous turn) was emitted.
  turn_ = child("trinity.turn", SpanKind::kInternal, turn_span_id(ctx_.span_id, turn), ctx_.span_id,
                last_event_ns_);
  put_route_fields(*turn_, ev);
  copy_str(*turn_, "trinity.role_override_source", ev, "role_override_source");
  Span route = child("trinity.route", SpanKind::kInternal, route_span_id(ctx_.span_id, turn),
                     turn_->span_id, last_event_ns_);
  put_route_fields(route, ev);
  copy_str(route, "trinity.role", ev, "role_name");
  copy_int(route, "trinity.token_count", ev, "token_count");
  copy_str(route, "trinity.router_profile", ev, "router_profile");
  if (!run_->find("trinity.pool")) copy_str(*run_, "trinity.pool", ev, "provider_pool");
  if (!run_->find("trinity.router_profile"))
    copy_str(*run_, "trinity.router_profile", ev, "router_profile");
  std::optional<Span> r = std::move(route);
  end(r, now);
}

void OtlpRunSink::on_dispatch_started(const OrderedJson& ev, int64_t now) {
  end(call_, now);
  const int turn = static_cast<int>(int_field(ev, "turn").value_or(turns_ - 1));
  call_ =
      child("trinity.provider_call", SpanKind::kClient, provider_call_span_id(ctx_.span_id, turn),
            turn_ ? turn_->span_id : ctx_.span_id, now);
  Span& c = *call_;
  c.set("gen_ai.operation.name", "chat");
  copy_str(c, "gen_ai.system", ev, "provider");
  copy_str(c, "gen_ai.request.model", ev, "model");
  copy_int(c, "trinity.turn", ev, "turn");
  copy_int(c, "trinity.agent_id", ev, "agent_id");
  copy_str(c, "trinity.role", ev, "role_name");
  if (!turn_) return;
  copy_str(*turn_, "trinity.role", ev, "role_name");
  copy_str(*turn_, "trinity.reroute", ev, "reroute_reason");
  copy_str(*turn_, "trinity.provider", ev, "provider");
  copy_str(*turn_, "trinity.model", ev, "model");
}

void OtlpRunSink::on_dispatch_finished(const OrderedJson& ev, int64_t now) {
  if (!call_) on_dispatch_started(ev, now);
  Span& c = *call_;
  // With fallbacks, the endpoint that answered (or failed last), and how many were called.
  copy_str(c, "gen_ai.system", ev, "provider");
  copy_str(c, "gen_ai.request.model", ev, "model");
  copy_int(c, "trinity.fallback_index", ev, "fallback_index");
  copy_int(c, "trinity.endpoint_calls", ev, "endpoint_calls");
  copy_str(c, "trinity.status", ev, "status");
  copy_int(c, "trinity.latency_ms", ev, "latency_ms");
  if (bool_field(ev, "ok").value_or(false)) {
    copy_int(c, "trinity.attempts", ev, "attempts");
    copy_int(c, "http.response.status_code", ev, "http_status");
    copy_int(c, "gen_ai.usage.input_tokens", ev, "input_tokens");
    copy_int(c, "gen_ai.usage.output_tokens", ev, "output_tokens");
    copy_num(c, "trinity.estimated_cost_usd", ev, "estimated_cost_usd");
    if (bool_field(ev, "cached").value_or(false)) c.set("trinity.cached", true);
    input_tokens_ += int_field(ev, "input_tokens").value_or(0);
    output_tokens_ += int_field(ev, "output_tokens").value_or(0);
  } else {
    // The class only: the error text stays in the run's trace and the server log.
    const std::string reason = str_field(ev, "reason").value_or("provider_error");
    c.set("error.type", reason);
    set_error(c, reason);
    if (turn_) set_error(*turn_, reason);
  }
  if (turn_) copy_int(*turn_, "trinity.latency_ms", ev, "latency_ms");
  end(call_, now);
}

void OtlpRunSink::on_run_end(const OrderedJson& ev, int64_t now) {
  end(call_, last_event_ns_);
  end(turn_, last_event_ns_);
  Span& r = *run_;
  if (str_field(ev, "event") == "run_finished") {
    copy_str(r, "trinity.status", ev, "run_status");
    copy_str(r, "trinity.outcome", ev, "outcome");
    copy_int(r, "trinity.turns", ev, "total_turns");
  } else {
    const std::string reason = str_field(ev, "reason").value_or("internal_error");
    r.set("trinity.status", "failed");
    r.set("trinity.outcome", "failed");
    r.set("trinity.failure_reason", reason);
    copy_str(r, "trinity.budget_exceeded_key", ev, "budget_exceeded_key");
    r.set("trinity.turns", turns_);
    set_error(r, reason);
  }
  copy_int(r, "trinity.provider_calls", ev, "provider_calls");
  copy_int(r, "trinity.verifier_revisions", ev, "verifier_revisions");
  copy_num(r, "trinity.estimated_cost_usd", ev, "estimated_cost_usd");
  copy_int(r, "trinity.wall_time_ms", ev, "wall_time_ms");
  r.set("gen_ai.usage.input_tokens", input_tokens_);
  r.set("gen_ai.usage.output_tokens", output_tokens_);
  end(run_, now);
}

}  // namespace trinity::coord
