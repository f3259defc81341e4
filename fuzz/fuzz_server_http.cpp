// libFuzzer target: the HTTP/1.1 request-head parser and the chunked-body decoder of
// `trinity serve` (server/http_wire.h), fed as a socket would: the head in arbitrary pieces, then
// the rest through the chunked decoder split at fuzzer-chosen points.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/http_wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  using namespace trinity::server;
  HttpLimits limits;
  limits.max_head_bytes = 4096;
  limits.max_line_bytes = 1024;
  limits.max_target_bytes = 512;
  limits.max_body_bytes = 4096;
  const size_t piece = 1 + data[0] % 64;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

  // The head as it arrives: every prefix that is a multiple of `piece` (as the event loop
  // re-parses after each read), then the whole input.
  HeadParse p;
  for (size_t n = piece; n < in.size(); n += piece) {
    p = parse_request_head(in.substr(0, n), limits);
    if (p.kind != HeadParse::kIncomplete) break;
  }
  if (p.kind == HeadParse::kIncomplete) p = parse_request_head(in, limits);
  if (p.kind == HeadParse::kError && (p.error.status < 400 || p.error.status > 505))
    __builtin_trap();
  if (p.kind != HeadParse::kDone) return 0;
  if (p.consumed > in.size()) __builtin_trap();
  if (p.request.content_length > limits.max_body_bytes) __builtin_trap();

  ChunkedDecoder d(limits);
  std::string out;
  std::string_view rest = in.substr(p.consumed);
  while (!rest.empty() && !d.done() && !d.error()) {
    const std::string_view chunk = rest.substr(0, piece);
    const size_t n = d.feed(chunk, out);
    if (n > chunk.size()) __builtin_trap();
    rest.remove_prefix(n);
    if (n < chunk.size()) break;
  }
  if (static_cast<int64_t>(out.size()) > limits.max_body_bytes) __builtin_trap();
  if (d.decoded() != static_cast<int64_t>(out.size())) __builtin_trap();
  return 0;
}
