// W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` header and the ids
// it carries, for OpenTelemetry spans (coord/otlp.h) and their propagation to upstream calls.
//
//   traceparent: 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>
//
// Parsing follows the spec's rules for a receiver: lowercase hex only; an all-zero trace id or
// parent id, version ff, or a version-00 header of any other length is invalid. A higher version
// is read as version 00 when its first 55 characters have that shape and, if longer, the 56th is
// '-' (future versions may append fields). Formatting always writes version 00.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace trinity {

struct TraceContext {
  std::string trace_id;    // 32 lowercase hex digits, not all zero
  std::string span_id;     // 16 lowercase hex digits, not all zero (a traceparent's parent id)
  uint8_t flags = 0x01;    // bit 0: sampled
  std::string tracestate;  // the vendor list, passed along verbatim ("" for none)

  bool sampled() const { return (flags & 0x01) != 0; }
};

// nullopt when `header` is not a valid traceparent (surrounding spaces and tabs are ignored).
std::optional<TraceContext> parse_traceparent(std::string_view header);
// "00-<trace_id>-<span_id>-<flags>".
std::string format_traceparent(const TraceContext& context);

// A `tracestate` value worth passing along: at most 512 bytes of printable ASCII (W3C's
// propagation minimum), else "" (dropped, as the spec allows).
std::string sanitize_tracestate(std::string_view value);

bool is_valid_trace_id(std::string_view id);  // 32 lowercase hex, not all zero
bool is_valid_span_id(std::string_view id);   // 16 lowercase hex, not all zero

// Fresh random ids (never all zero).
std::string random_trace_id();
std::string random_span_id();

// A span id that is a pure function of (parent span id, name, n) and never all zero: lets two
// components agree on a child span's id without talking to each other.
std::string derive_span_id(std::string_view parent_span_id, std::string_view name, int64_t n);

}  // namespace trinity
