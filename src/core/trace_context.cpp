#include "core/trace_context.h"

#include <chrono>
#include <random>

#include "core/random.h"

namespace trinity {
namespace {

constexpr const char* kHex = "0123456789abcdef";
constexpr size_t kV0Length = 55;  // 2 + 1 + 32 + 1 + 16 + 1 + 2

bool is_lower_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool all_zero(std::string_view s) {
  return s.find_first_not_of('0') == std::string_view::npos;
}

int hex_value(char c) {
  return c <= '9' ? c - '0' : c - 'a' + 10;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void append_hex(std::string& out, uint64_t v, int digits) {
  for (int i = digits - 1; i >= 0; --i) out += kHex[(v >> (4 * i)) & 15];
}

uint64_t random_u64() {
  static thread_local std::mt19937_64 rng{
      std::random_device{}() ^
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())};
  return rng();
}

// FNV-1a over the bytes, the start of derive_span_id's mix.
uint64_t fnv1a(uint64_t h, std::string_view s) {
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  return h;
}

}  // namespace

bool is_valid_trace_id(std::string_view id) {
  return id.size() == 32 && is_lower_hex(id) && !all_zero(id);
}

bool is_valid_span_id(std::string_view id) {
  return id.size() == 16 && is_lower_hex(id) && !all_zero(id);
}

std::optional<TraceContext> parse_traceparent(std::string_view header) {
  const std::string_view h = trim_ows(header);
  if (h.size() < kV0Length) return std::nullopt;
  const std::string_view version = h.substr(0, 2);
  if (!is_lower_hex(version) || version == "ff") return std::nullopt;
  if (version == "00" ? h.size() != kV0Length : h.size() > kV0Length && h[kV0Length] != '-')
    return std::nullopt;
  if (h[2] != '-' || h[35] != '-' || h[52] != '-') return std::nullopt;
  const std::string_view trace_id = h.substr(3, 32), span_id = h.substr(36, 16),
                         flags = h.substr(53, 2);
  if (!is_valid_trace_id(trace_id) || !is_valid_span_id(span_id) || !is_lower_hex(flags))
    return std::nullopt;
  TraceContext c;
  c.trace_id = std::string(trace_id);
  c.span_id = std::string(span_id);
  c.flags = static_cast<uint8_t>(hex_value(flags[0]) * 16 + hex_value(flags[1]));
  return c;
}

std::string format_traceparent(const TraceContext& context) {
  std::string s = "00-" + context.trace_id + "-" + context.span_id + "-";
  append_hex(s, context.flags, 2);
  return s;
}

std::string sanitize_tracestate(std::string_view value) {
  const std::string_view v = trim_ows(value);
  if (v.size() > 512) return "";
  for (char c : v)
    if (c < 0x20 || c > 0x7e) return "";
  return std::string(v);
}

std::string random_trace_id() {
  std::string s;
  s.reserve(32);
  uint64_t hi = random_u64(), lo = random_u64();
  if (hi == 0 && lo == 0) lo = 1;
  append_hex(s, hi, 16);
  append_hex(s, lo, 16);
  return s;
}

std::string random_span_id() {
  uint64_t v = random_u64();
  if (v == 0) v = 1;
  std::string s;
  s.reserve(16);
  append_hex(s, v, 16);
  return s;
}

std::string derive_span_id(std::string_view parent_span_id, std::string_view name, int64_t n) {
  uint64_t h = fnv1a(0xcbf29ce484222325ull, parent_span_id);
  h = fnv1a(h, "/");
  h = fnv1a(h, name);
  uint64_t v = splitmix64(h ^ splitmix64(static_cast<uint64_t>(n)));
  if (v == 0) v = 1;
  std::string s;
  s.reserve(16);
  append_hex(s, v, 16);
  return s;
}

}  // namespace trinity
