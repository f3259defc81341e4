#include "server/http_wire.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

namespace trinity::server {
namespace {

// tchar (RFC 9110 5.6.2): the characters of a token (method, header name).
bool is_tchar(unsigned char c) {
  if (std::isalnum(c)) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

// field-vchar / SP / HTAB: what a header value may hold (obs-text included).
bool is_value_char(unsigned char c) {
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls f(token) for each comma-separated element (trimmed; empty elements skipped).
template <typename F>
void for_each_token(std::string_view list, F&& f) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view item = trim_ows(list.substr(0, comma));
    if (!item.empty()) f(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

HeadParse head_error(int status, std::string message) {
  HeadParse p;
  p.kind = HeadParse::kError;
  p.error = {status, std::move(message)};
  return p;
}

// Splits "<method> <target> HTTP/1.<d>" (single spaces, RFC 9112 3).
std::optional<HttpError> parse_request_line(std::string_view line, const HttpLimits& limits,
                                            HttpRequest& r) {
  const size_t sp1 = line.find(' ');
  if (sp1 == 0 || sp1 == std::string_view::npos) return HttpError{400, "malformed request line"};
  for (size_t i = 0; i < sp1; ++i)
    if (!is_tchar(static_cast<unsigned char>(line[i])))
      return HttpError{400, "malformed request method"};
  const size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return HttpError{400, "malformed request line"};
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (target.size() > limits.max_target_bytes) return HttpError{414, "request target too long"};
  if (target.empty()) return HttpError{400, "malformed request line"};
  for (unsigned char c : target)
    if (c <= 0x20 || c == 0x7f) return HttpError{400, "invalid character in request target"};
  if (version.size() != 8 || version.compare(0, 5, "HTTP/") != 0 || version[6] != '.' ||
      !std::isdigit(static_cast<unsigned char>(version[5])) ||
      !std::isdigit(static_cast<unsigned char>(version[7])))
    return HttpError{400, "malformed HTTP version"};
  if (version[5] != '1') return HttpError{505, "only HTTP/1.0 and HTTP/1.1 are supported"};
  r.method.assign(line.substr(0, sp1));
  r.minor_version = version[7] - '0';
  r.target.assign(target);
  std::string_view path = target;
  if (target[0] != '/') {
    // absolute-form (RFC 9112 3.2.2): keep the path; anything else ('*', authority-form) is
    // not a resource this server has.
    const size_t scheme = target.find("://");
    if (scheme == std::string_view::npos || target == "*")
      return HttpError{400, "unsupported request target"};
    const size_t slash = target.find('/', scheme + 3);
    path = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  const size_t q = path.find('?');
  r.path.assign(path.substr(0, q));
  if (q != std::string_view::npos) r.query.assign(path.substr(q + 1));
  return std::nullopt;
}

// Framing and connection semantics of a complete head (RFC 9112 6, 9.3; RFC 9110 10.1.1).
std::optional<HttpError> interpret_head(const HttpLimits& limits, HttpRequest& r) {
  int hosts = 0;
  bool has_te = false, has_cl = false;
  std::optional<int64_t> length;
  std::string te_last;
  int te_tokens = 0;
  bool close = false, keep_alive_token = false;
  for (const auto& [name, value] : r.headers) {
    if (iequals(name, "host")) {
      ++hosts;
    } else if (iequals(name, "transfer-encoding")) {
      has_te = true;
      for_each_token(value, [&](std::string_view t) {
        ++te_tokens;
        te_last.assign(t);
      });
    } else if (iequals(name, "content-length")) {
      has_cl = true;
      bool bad = false;
      for_each_token(value, [&](std::string_view t) {
        if (t.size() > 18) {
          bad = true;
          return;
        }
        int64_t v = 0;
        for (char c : t) {
          if (!std::isdigit(static_cast<unsigned char>(c))) {
            bad = true;
            return;
          }
          v = v * 10 + (c - '0');
        }
        if (length && *length != v) bad = true;
        length = v;
      });
      if (bad || !length) return HttpError{400, "invalid Content-Length"};
    } else if (iequals(name, "content-encoding")) {
      bool identity = true;
      for_each_token(value, [&](std::string_view t) { identity &= iequals(t, "identity"); });
      if (!identity)
        return HttpError{415,
                         "request content encodings are not supported: send the body "
                         "uncompressed"};
    } else if (iequals(name, "expect")) {
      if (!iequals(trim_ows(value), "100-continue"))
        return HttpError{417, "unsupported expectation"};
      r.expect_continue = true;
    } else if (iequals(name, "connection")) {
      for_each_token(value, [&](std::string_view t) {
        if (iequals(t, "close")) close = true;
        if (iequals(t, "keep-alive")) keep_alive_token = true;
      });
    }
  }
  if (r.minor_version >= 1 && hosts != 1)
    return HttpError{400, "exactly one Host header is required"};
  if (has_te && has_cl) return HttpError{400, "Content-Length together with Transfer-Encoding"};
  if (has_te) {
    if (r.minor_version == 0) return HttpError{400, "Transfer-Encoding in an HTTP/1.0 request"};
    if (!iequals(te_last, "chunked"))
      return HttpError{400, "the last transfer coding must be chunked"};
    if (te_tokens != 1)
      return HttpError{501, "transfer codings other than chunked are not supported"};
    r.chunked = true;
  }
  r.content_length = length.value_or(0);
  if (r.content_length > limits.max_body_bytes)
    return HttpError{413, "request body exceeds the server's --max-body-bytes"};
  r.keep_alive = r.minor_version >= 1 ? !close : (keep_alive_token && !close);
  return std::nullopt;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

const std::string* HttpRequest::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (iequals(n, name)) return &v;
  return nullptr;
}

HeadParse parse_request_head(std::string_view buf, const HttpLimits& limits) {
  size_t pos = 0;
  while (pos < buf.size() && (buf[pos] == '\r' || buf[pos] == '\n')) {
    if (buf[pos] == '\r' && pos + 1 < buf.size() && buf[pos + 1] != '\n')
      return head_error(400, "bare CR in request head");
    ++pos;
    if (pos > 64) return head_error(400, "too many blank lines before the request");
  }
  HeadParse out;
  HttpRequest& r = out.request;
  bool first = true;
  for (;;) {
    const size_t nl = buf.find('\n', pos);
    const size_t avail = (nl == std::string_view::npos ? buf.size() : nl) - pos;
    if (nl == std::string_view::npos) {
      if (first && avail > limits.max_target_bytes + 32) {
        // Request line still open: a target that long is 414, a missing space 400.
        return buf.find(' ', pos) == std::string_view::npos
                   ? head_error(400, "malformed request line")
                   : head_error(414, "request target too long");
      }
      if (!first && avail > limits.max_line_bytes) return head_error(431, "header line too long");
      if (buf.size() > limits.max_head_bytes) return head_error(431, "request head too large");
      return out;  // kIncomplete
    }
    if (nl + 1 > limits.max_head_bytes) return head_error(431, "request head too large");
    std::string_view line = buf.substr(pos, avail);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find('\r') != std::string_view::npos)
      return head_error(400, "bare CR in request head");
    pos = nl + 1;
    if (first) {
      if (auto e = parse_request_line(line, limits, r)) return head_error(e->status, e->message);
      first = false;
      continue;
    }
    if (line.empty()) break;
    if (line.size() > limits.max_line_bytes) return head_error(431, "header line too long");
    if (line[0] == ' ' || line[0] == '\t') return head_error(400, "obsolete line folding");
    const size_t colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) return head_error(400, "malformed header");
    for (size_t i = 0; i < colon; ++i)
      if (!is_tchar(static_cast<unsigned char>(line[i])))
        return head_error(400, "invalid character in header name");
    const std::string_view value = trim_ows(line.substr(colon + 1));
    for (unsigned char c : value)
      if (!is_value_char(c)) return head_error(400, "control character in header value");
    if (static_cast<int>(r.headers.size()) >= limits.max_headers)
      return head_error(431, "too many header fields");
    r.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  if (auto e = interpret_head(limits, r)) return head_error(e->status, e->message);
  out.kind = HeadParse::kDone;
  out.consumed = pos;
  return out;
}

size_t ChunkedDecoder::fail(int status, std::string message) {
  state_ = State::kError;
  error_ = HttpError{status, std::move(message)};
  return 0;
}

bool ChunkedDecoder::take_line(std::string_view in, size_t& pos, size_t max_len, bool& too_long) {
  const size_t nl = in.find('\n', pos);
  const size_t end = nl == std::string_view::npos ? in.size() : nl;
  line_.append(in.substr(pos, end - pos));
  pos = nl == std::string_view::npos ? in.size() : nl + 1;
  // +1: the CR that may end the line.
  too_long = line_.size() > max_len + 1;
  if (nl == std::string_view::npos || too_long) return false;
  if (!line_.empty() && line_.back() == '\r') line_.pop_back();
  return true;
}

size_t ChunkedDecoder::feed(std::string_view in, std::string& out) {
  size_t pos = 0;
  while (pos < in.size() && state_ != State::kDone && state_ != State::kError) {
    bool too_long = false;
    switch (state_) {
      case State::kSize: {
        if (!take_line(in, pos, 1024, too_long)) {
          if (too_long) return fail(400, "chunk size line too long");
          break;
        }
        size_t i = 0;
        int significant = 0;  // hex digits after leading zeros
        uint64_t size = 0;
        for (; i < line_.size() && std::isxdigit(static_cast<unsigned char>(line_[i])); ++i) {
          if ((size > 0 || line_[i] != '0') && ++significant > 15)
            return fail(413, "request body exceeds the server's --max-body-bytes");
          const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(line_[i])));
          size = size * 16 + static_cast<uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
        }
        std::string_view rest = std::string_view(line_).substr(i);
        while (!rest.empty() && (rest[0] == ' ' || rest[0] == '\t')) rest.remove_prefix(1);
        if (i == 0 || (!rest.empty() && rest[0] != ';')) return fail(400, "malformed chunk size");
        for (unsigned char c : rest)
          if (!is_value_char(c)) return fail(400, "control character in chunk extension");
        line_.clear();
        if (size == 0) {
          state_ = State::kTrailer;
        } else if (decoded_ + static_cast<int64_t>(size) > limits_.max_body_bytes) {
          return fail(413, "request body exceeds the server's --max-body-bytes");
        } else {
          remaining_ = size;
          state_ = State::kData;
        }
        break;
      }
      case State::kData: {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size() - pos));
        if (!discard_) out.append(in.substr(pos, n));
        pos += n;
        remaining_ -= n;
        decoded_ += static_cast<int64_t>(n);
        if (remaining_ == 0) state_ = State::kDataCrlf;
        break;
      }
      case State::kDataCrlf:
        if (!take_line(in, pos, 0, too_long)) {
          if (too_long) return fail(400, "chunk data longer than its size");
          break;
        }
        line_.clear();
        state_ = State::kSize;
        break;
      case State::kTrailer: {
        const bool complete = take_line(in, pos, limits_.max_line_bytes, too_long);
        if (too_long) return fail(431, "trailer line too long");
        if (!complete) break;
        trailer_bytes_ += line_.size() + 2;
        if (trailer_bytes_ > limits_.max_head_bytes) return fail(431, "trailers too large");
        if (line_.find('\r') != std::string::npos) return fail(400, "bare CR in trailer");
        state_ = line_.empty() ? State::kDone : State::kTrailer;
        line_.clear();
        break;
      }
      case State::kDone:
      case State::kError:
        break;
    }
  }
  return pos;
}

const char* http_reason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 417:
      return "Expectation Failed";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string serialize_response_head(int status, const HttpHeaders& headers, int64_t content_length,
                                    bool keep_alive, int minor_version) {
  char date[64];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  std::string h = "HTTP/1." + std::to_string(minor_version >= 1 ? 1 : 0) + " " +
                  std::to_string(status) + " " + http_reason(status) + "\r\nDate: " + date + "\r\n";
  for (const auto& [name, value] : headers) h += name + ": " + value + "\r\n";
  if (content_length >= 0) {
    h += "Content-Length: " + std::to_string(content_length) + "\r\n";
  } else if (content_length == kChunkedBody) {
    h += "Transfer-Encoding: chunked\r\n";
  }
  h += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  return h;
}

std::string http_chunk(std::string_view data) {
  if (data.empty()) return "0\r\n\r\n";
  char size[32];
  std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  std::string c = size;
  c.append(data);
  c += "\r\n";
  return c;
}

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+' && plus_is_space) {
      out += ' ';
    } else if (s[i] != '%') {
      out += s[i];
    } else {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi < 0 || lo < 0 || hi * 16 + lo < 0x20) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    }
  }
  return out;
}

}  // namespace trinity::server
