// OpenTelemetry for `trinity serve` (--otlp-endpoint): the exporter, its /metrics lines, and the
// per-run wiring (W3C traceparent in, span sink on the run, traceparent out to providers).
// See docs/server.md, "OpenTelemetry".
#include <cstdio>

#include "coord/otlp_sink.h"
#include "core/trace_context.h"
#include "server/server_impl.h"

namespace trinity::server {

std::unique_ptr<coord::OtlpExporter> make_otlp_exporter(const ServerConfig& config) {
  if (config.otlp_endpoint.empty()) return nullptr;
  coord::OtlpConfig c;
  c.endpoint = config.otlp_endpoint;
  c.service_name = config.otlp_service_name;
  return std::make_unique<coord::OtlpExporter>(std::move(c));
}

std::string otlp_metrics(const coord::OtlpExporter& exporter) {
  const coord::OtlpExporter::Stats s = exporter.stats();
  char buf[1024];
  std::snprintf(buf, sizeof(buf),
                "# HELP trinity_otlp_spans_exported_total Spans the OTLP collector accepted.\n"
                "# TYPE trinity_otlp_spans_exported_total counter\n"
                "trinity_otlp_spans_exported_total %llu\n"
                "# HELP trinity_otlp_spans_dropped_total Spans dropped before export (queue "
                "full, or still queued at shutdown).\n"
                "# TYPE trinity_otlp_spans_dropped_total counter\n"
                "trinity_otlp_spans_dropped_total %llu\n"
                "# HELP trinity_otlp_export_failures_total OTLP export requests that failed "
                "(their spans are lost).\n"
                "# TYPE trinity_otlp_export_failures_total counter\n"
                "trinity_otlp_export_failures_total %llu\n"
                "# HELP trinity_otlp_spans_failed_total Spans in failed export requests.\n"
                "# TYPE trinity_otlp_spans_failed_total counter\n"
                "trinity_otlp_spans_failed_total %llu\n",
                static_cast<unsigned long long>(s.spans_exported),
                static_cast<unsigned long long>(s.spans_dropped),
                static_cast<unsigned long long>(s.export_failures),
                static_cast<unsigned long long>(s.spans_failed));
  return buf;
}

std::unique_ptr<coord::EventSink> Server::Impl::trace_run(const HttpRequest& req,
                                                          const std::string& run_id,
                                                          coord::RunOptions& options) {
  if (!otlp) return nullptr;
  TraceContext run;
  std::string parent;  // the caller's span, when it sent a valid traceparent
  const std::string* header = req.header("traceparent");
  if (auto incoming = header ? parse_traceparent(*header) : std::nullopt) {
    run.trace_id = incoming->trace_id;
    run.flags = incoming->flags & 0x01;  // the caller's sampling decision; other bits unknown
    parent = incoming->span_id;
    if (const std::string* state = req.header("tracestate"))
      run.tracestate = sanitize_tracestate(*state);
  } else {
    run.trace_id = random_trace_id();
    run.flags = 0x01;
  }
  run.span_id = random_span_id();
  options.trace = run;
  std::vector<coord::SpanAttribute> attrs = {
      {"trinity.run_id", run_id}, {"http.request.method", req.method}, {"http.route", req.path}};
  auto sink = std::make_unique<coord::OtlpRunSink>(*otlp, run, parent, std::move(attrs));
  options.sinks.push_back(sink.get());
  return sink;
}

}  // namespace trinity::server
