// HTTP/1.1 on the wire (RFC 9110/9112) for `trinity serve`: an incremental request-head parser,
// an incremental chunked-body decoder and the response serializer. Pure functions over bytes, no
// sockets: the event loop (http_server.h) feeds them and fuzz/fuzz_server_http.cpp attacks them.
//
// The parser is strict where leniency lets two parsers disagree about where a request ends
// (request smuggling): Content-Length and Transfer-Encoding together, differing Content-Lengths,
// transfer codings other than "chunked", obs-fold, whitespace before a colon, bare CR, and any
// control byte (NUL included) in a header are errors. Limits are checked as bytes arrive, so no
// head grows past max_head_bytes in memory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trinity::server {

struct HttpLimits {
  size_t max_head_bytes = 64 << 10;   // request line + headers (+ chunked trailers): else 431
  size_t max_line_bytes = 8 << 10;    // one header line: else 431
  size_t max_target_bytes = 8 << 10;  // the request target: else 414
  int max_headers = 100;              // header fields: else 431
  int64_t max_body_bytes = 1 << 20;   // decoded body, in every framing: else 413
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// A parsed request head (and, once read, its body).
struct HttpRequest {
  std::string method;     // as sent (case-sensitive, RFC 9110 9.1)
  std::string target;     // origin-form: path [? query]
  std::string path;       // the target before '?'
  std::string query;      // after '?', raw
  int minor_version = 1;  // HTTP/1.<minor>
  HttpHeaders headers;    // names as sent; look them up with header()
  bool keep_alive = true;
  bool expect_continue = false;
  bool chunked = false;
  int64_t content_length = 0;  // when !chunked
  std::string body;

  // The first header of that name (case-insensitive), or nullptr.
  const std::string* header(std::string_view name) const;
};

// An error that ends the connection after its response: status (400, 413, 414, 415, 417, 431,
// 501, 505) and a message safe to show to the client.
struct HttpError {
  int status = 400;
  std::string message;
};

struct HeadParse {
  enum Kind { kIncomplete, kDone, kError } kind = kIncomplete;
  size_t consumed = 0;  // kDone: bytes of the head, including the blank line
  HttpRequest request;  // kDone
  HttpError error;      // kError
};

// Parses the head at the start of `buf` (leading blank lines are skipped, RFC 9112 2.2).
// kIncomplete when more bytes are needed and none of the limits is exceeded yet.
HeadParse parse_request_head(std::string_view buf, const HttpLimits& limits);

// Incremental decoder of a chunked body (RFC 9112 7.1). Trailer fields are read and dropped.
class ChunkedDecoder {
 public:
  explicit ChunkedDecoder(const HttpLimits& limits) : limits_(limits) {}
  // Consumes a prefix of `in` and appends decoded bytes to `out`. Returns bytes consumed; check
  // done() and error() after each call. Never consumes past the end of the chunked body.
  size_t feed(std::string_view in, std::string& out);
  bool done() const { return state_ == State::kDone; }
  const std::optional<HttpError>& error() const { return error_; }
  // Decoded bytes so far (for decoders that discard instead of appending: see set_discard).
  int64_t decoded() const { return decoded_; }
  void set_discard(bool discard) { discard_ = discard; }

 private:
  enum class State { kSize, kData, kDataCrlf, kTrailer, kDone, kError };
  size_t fail(int status, std::string message);
  // Reads one CRLF- (or LF-) terminated line from `in` into line_; true when complete.
  bool take_line(std::string_view in, size_t& pos, size_t max_len, bool& too_long);

  HttpLimits limits_;
  State state_ = State::kSize;
  std::string line_;
  uint64_t remaining_ = 0;  // of the current chunk
  int64_t decoded_ = 0;
  size_t trailer_bytes_ = 0;
  bool discard_ = false;
  std::optional<HttpError> error_;
};

// The reason phrase of a status code ("OK", "Not Found", ...; "Unknown" otherwise).
const char* http_reason(int status);

inline constexpr int64_t kChunkedBody = -1;     // serialize_response_head: Transfer-Encoding
inline constexpr int64_t kCloseDelimited = -2;  // no length: the body ends with the connection

// A response head: status line, Date, headers, then "Content-Length: n" (or "Transfer-Encoding:
// chunked", or nothing) and "Connection: keep-alive|close", then the blank line.
std::string serialize_response_head(int status, const HttpHeaders& headers, int64_t content_length,
                                    bool keep_alive, int minor_version);

// One chunk of a chunked response ("<hex>\r\n<data>\r\n"); the last chunk is "0\r\n\r\n".
std::string http_chunk(std::string_view data);

// Case-insensitive ASCII comparison.
bool iequals(std::string_view a, std::string_view b);

// %XX-decodes a path segment or a query value ('+' as a space when plus_is_space, as in
// application/x-www-form-urlencoded); nullopt when an escape is malformed or decodes to a
// control byte.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space = false);

}  // namespace trinity::server
