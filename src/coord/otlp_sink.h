// Turns a run's events into OpenTelemetry spans for an OtlpExporter:
//
//   trinity.run (SERVER; child of the incoming request's span when it sent a traceparent)
//     trinity.turn (one per turn)
//       trinity.route          (routing the transcript: from the turn's start to route_decision)
//       trinity.provider_call  (CLIENT: provider_dispatch_started .. provider_dispatch_finished;
//                               one dispatch, its fallback endpoints included)
//
// Span ids: the run span's id is RunOptions::trace->span_id; the others are derived from it
// (coord/run_spans.h), so the traceparent the orchestrator sends upstream names the very
// provider_call span reported here. Times are when the sink saw the events (it is called on the
// run's thread as they are emitted), in Unix nanoseconds. A span is queued when it ends; spans
// still open when the sink is destroyed (a run that stopped without run_finished / run_failed)
// end then, with an error status. Attribute names: docs/server.md ("OpenTelemetry").
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "coord/otlp.h"
#include "coord/trace.h"
#include "core/trace_context.h"

namespace trinity::coord {

class OtlpRunSink final : public EventSink {
 public:
  // `run`: the run span's context (trace id, run span id, flags); `parent_span_id`: the span of
  // the incoming request ("" for a root run span); `run_attributes` are added to the run span.
  // `now_unix_nano` (tests) defaults to the system clock.
  OtlpRunSink(OtlpExporter& exporter, const TraceContext& run, std::string parent_span_id,
              std::vector<SpanAttribute> run_attributes = {},
              std::function<int64_t()> now_unix_nano = {});
  ~OtlpRunSink() override;
  OtlpRunSink(const OtlpRunSink&) = delete;
  OtlpRunSink& operator=(const OtlpRunSink&) = delete;

  // Never fails: tracing cannot end a run.
  Status on_event(const OrderedJson& event) override;

 private:
  Span child(const char* name, SpanKind kind, std::string span_id, const std::string& parent,
             int64_t start) const;
  void on_route_decision(const OrderedJson& ev, int64_t now);
  void on_dispatch_started(const OrderedJson& ev, int64_t now);
  void on_dispatch_finished(const OrderedJson& ev, int64_t now);
  void on_run_end(const OrderedJson& ev, int64_t now);
  void end(std::optional<Span>& span, int64_t at);

  OtlpExporter& exporter_;
  TraceContext ctx_;
  std::function<int64_t()> now_;
  std::optional<Span> run_, turn_, call_;
  int64_t last_event_ns_ = 0;  // when the previous event arrived (a turn starts there)
  int turns_ = 0;
  int64_t input_tokens_ = 0, output_tokens_ = 0;
};

// Unix time in nanoseconds from the system clock.
int64_t unix_now_nanos();

}  // namespace trinity::coord
