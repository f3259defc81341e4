// The span ids of a run's OpenTelemetry spans, derived from the run span's id
// (RunOptions::trace): the orchestrator sends provider_call_context() upstream as a
// `traceparent`, and OtlpRunSink (coord/otlp_sink.h) reports spans with the same ids, so the
// upstream's spans hang under the provider-call span without the two talking to each other.
#pragma once

#include <string>

#include "core/trace_context.h"

namespace trinity::coord {

inline std::string turn_span_id(const std::string& run_span_id, int turn) {
  return derive_span_id(run_span_id, "turn", turn);
}
inline std::string route_span_id(const std::string& run_span_id, int turn) {
  return derive_span_id(run_span_id, "route", turn);
}
inline std::string provider_call_span_id(const std::string& run_span_id, int turn) {
  return derive_span_id(run_span_id, "provider_call", turn);
}

// What turn `turn`'s provider call propagates: the run's trace id, flags and tracestate, with
// the provider-call span as the parent.
inline TraceContext provider_call_context(const TraceContext& run, int turn) {
  TraceContext c = run;
  c.span_id = provider_call_span_id(run.span_id, turn);
  return c;
}

}  // namespace trinity::coord
