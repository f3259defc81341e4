// libFuzzer target: the W3C traceparent / tracestate readers of core/trace_context.h (every
// `trinity serve` request header reaches them with --otlp-endpoint). A header that parses must
// format back to a header that parses to the same ids (version 00, as propagated upstream), with
// valid ids; a sanitized tracestate must be printable ASCII within 512 bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/trace_context.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto c = trinity::parse_traceparent(in)) {
    if (!trinity::is_valid_trace_id(c->trace_id) || !trinity::is_valid_span_id(c->span_id))
      __builtin_trap();
    const std::string out = trinity::format_traceparent(*c);
    auto again = trinity::parse_traceparent(out);
    if (!again || again->trace_id != c->trace_id || again->span_id != c->span_id ||
        again->flags != c->flags || out.size() != 55)
      __builtin_trap();
    if (in.substr(0, 2) == "00" && in.find_first_of(" \t") == std::string_view::npos && out != in)
      __builtin_trap();
  }
  const std::string state = trinity::sanitize_tracestate(in);
  if (state.size() > 512) __builtin_trap();
  for (char ch : state)
    if (ch < 0x20 || ch > 0x7e) __builtin_trap();
  return 0;
}
