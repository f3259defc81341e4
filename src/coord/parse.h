// Parsing of Verifier verdicts and Thinker suggestions (exact rules of the coordinator spec).
#pragma once

#include <optional>
#include <string>

namespace trinity::coord {

enum class Verdict { kAccept, kRevise, kUnknown };
const char* verdict_name(Verdict v);  // "accept" | "revise" | "unknown"

struct VerifierResult {
  Verdict verdict = Verdict::kUnknown;
  std::string diagnosis;  // the text after the token, without leading '-', ':' and whitespace
};

// Trim (Unicode White_Space); compare case-insensitively. ACCEPT if the reply equals the token or
// starts with it followed by ':', ' ', '-', '\n' or "\r\n"; likewise REVISE; anything else is
// unknown (and the loop counts it as a revision).
VerifierResult parse_verifier(const std::string& reply);

struct ThinkerSuggestion {
  std::string suggestion;
  int role_id = 0;  // kRoleWorker or kRoleVerifier
};

// Needs both <suggestion>...</suggestion> and <suggested_role>...</suggested_role> (first
// occurrence each, trimmed, non-empty). solver/worker -> Worker, verifier -> Verifier (any case);
// anything else -> no suggestion.
std::optional<ThinkerSuggestion> parse_thinker(const std::string& reply);

// Removes leading and trailing Unicode White_Space.
std::string trim(const std::string& s);
// The diagnosis after a verdict token: "ACCEPT - looks right" -> "looks right".
std::string clean_diagnosis(const std::string& rest);

}  // namespace trinity::coord
