#include "coord/parse.h"

#include <cctype>

#include "core/utf8.h"

#include "router/route.h"

namespace trinity::coord {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// If `text` (trimmed) matches `token` per the verdict rule, sets *rest to the text after the
// token and its separator.
bool match_token(const std::string& text, const std::string& token, std::string* rest) {
  if (text.size() < token.size()) return false;
  if (lower(text.substr(0, token.size())) != lower(token)) return false;
  if (text.size() == token.size()) {
    rest->clear();
    return true;
  }
  const char c = text[token.size()];
  if (c == ':' || c == ' ' || c == '-' || c == '\n') {
    *rest = text.substr(token.size() + 1);
    return true;
  }
  if (c == '\r' && text.size() > token.size() + 1 && text[token.size() + 1] == '\n') {
    *rest = text.substr(token.size() + 2);
    return true;
  }
  return false;
}

std::optional<std::string> tag_body(const std::string& text, const std::string& tag) {
  const std::string open = "<" + tag + ">", close = "</" + tag + ">";
  size_t a = text.find(open);
  if (a == std::string::npos) return std::nullopt;
  a += open.size();
  size_t b = text.find(close, a);
  if (b == std::string::npos) return std::nullopt;
  std::string body = trim(text.substr(a, b - a));
  if (body.empty()) return std::nullopt;
  return body;
}

}  // namespace

std::string trim(const std::string& s) {
  return trim_unicode(s);
}

std::string clean_diagnosis(const std::string& rest) {
  std::string_view v = trim_unicode_start(rest);
  while (!v.empty() && (v.front() == '-' || v.front() == ':')) v = trim_unicode_start(v.substr(1));
  return trim_unicode(v);
}

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kAccept:
      return "accept";
    case Verdict::kRevise:
      return "revise";
    case Verdict::kUnknown:
      return "unknown";
  }
  return "unknown";
}

VerifierResult parse_verifier(const std::string& reply) {
  const std::string text = trim(reply);
  VerifierResult r;
  std::string rest;
  if (match_token(text, "ACCEPT", &rest)) {
    r.verdict = Verdict::kAccept;
    r.diagnosis = clean_diagnosis(rest);
  } else if (match_token(text, "REVISE", &rest)) {
    r.verdict = Verdict::kRevise;
    r.diagnosis = clean_diagnosis(rest);
  } else {
    r.verdict = Verdict::kUnknown;
    r.diagnosis = text;
  }
  return r;
}

std::optional<ThinkerSuggestion> parse_thinker(const std::string& reply) {
  auto suggestion = tag_body(reply, "suggestion");
  auto role = tag_body(reply, "suggested_role");
  if (!suggestion || !role) return std::nullopt;
  const std::string r = lower(*role);
  ThinkerSuggestion out;
  out.suggestion = *suggestion;
  if (r == "solver" || r == "worker") {
    out.role_id = kRoleWorker;
  } else if (r == "verifier") {
    out.role_id = kRoleVerifier;
  } else {
    return std::nullopt;
  }
  return out;
}

}  // namespace trinity::coord
