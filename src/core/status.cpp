#include "core/status.h"

namespace trinity {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "ok";
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kIo:
      return "io";
    case ErrorCode::kParse:
      return "parse";
    case ErrorCode::kUnsupported:
      return "unsupported";
    case ErrorCode::kMismatch:
      return "mismatch";
    case ErrorCode::kBudgetExceeded:
      return "budget_exceeded";
    case ErrorCode::kProvider:
      return "provider";
    case ErrorCode::kCancelled:
      return "cancelled";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "unknown";
}

void check_failed(const char* expr, const char* file, int line, const char* msg) {
  std::fprintf(stderr, "trinity: internal invariant failed: %s (%s:%d): %s\n", expr, file, line,
               msg ? msg : "");
  std::abort();
}

}  // namespace trinity
