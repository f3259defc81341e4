// Status / Result<T>: recoverable errors as values with context.
// Internal invariants use TRINITY_CHECK (aborts); everything caused by input,
// files, network or the user returns a Status.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace trinity {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,  // bad user input (flags, JSON shapes, values)
  kNotFound,         // missing file / tensor / key
  kIo,               // OS-level read/write failure
  kParse,            // malformed file content
  kUnsupported,      // valid input we deliberately do not implement
  kMismatch,         // hash / shape / size verification failed
  kBudgetExceeded,   // coordinator budgets
  kProvider,         // upstream LLM provider failure
  kCancelled,
  kInternal,
};

const char* error_code_name(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok_status() { return Status(); }
  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Prepends "context: " to the message (no-op on OK).
  Status with_context(const std::string& context) const {
    if (ok()) return *this;
    return Status(code_, context + ": " + message_);
  }
  std::string to_string() const { return ok() ? "OK" : message_; }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

inline Status ok_status() {
  return Status();
}
inline Status invalid_argument(std::string m) {
  return Status(ErrorCode::kInvalidArgument, std::move(m));
}
inline Status not_found(std::string m) {
  return Status(ErrorCode::kNotFound, std::move(m));
}
inline Status io_error(std::string m) {
  return Status(ErrorCode::kIo, std::move(m));
}
inline Status parse_error(std::string m) {
  return Status(ErrorCode::kParse, std::move(m));
}
inline Status unsupported(std::string m) {
  return Status(ErrorCode::kUnsupported, std::move(m));
}
inline Status mismatch(std::string m) {
  return Status(ErrorCode::kMismatch, std::move(m));
}
inline Status internal_error(std::string m) {
  return Status(ErrorCode::kInternal, std::move(m));
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {
    if (std::get<Status>(v_).ok()) v_ = Status(ErrorCode::kInternal, "Result built from OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &std::get<T>(v_); }
  const T* operator->() const { return &std::get<T>(v_); }
  T& operator*() & { return std::get<T>(v_); }
  const T& operator*() const& { return std::get<T>(v_); }

 private:
  std::variant<T, Status> v_;
};

[[noreturn]] void check_failed(const char* expr, const char* file, int line, const char* msg);

}  // namespace trinity

#define TRINITY_CONCAT_INNER(a, b) a##b
#define TRINITY_CONCAT(a, b) TRINITY_CONCAT_INNER(a, b)

#define TRINITY_RETURN_IF_ERROR(expr) \
  do {                                \
    ::trinity::Status _st = (expr);   \
    if (!_st.ok()) return _st;        \
  } while (0)

#define TRINITY_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()

#define TRINITY_ASSIGN_OR_RETURN(lhs, expr) \
  TRINITY_ASSIGN_OR_RETURN_IMPL(TRINITY_CONCAT(_res_, __LINE__), lhs, expr)

// Invariant check: only a bug can make it fail. Always on (also in Release).
#define TRINITY_CHECK(cond, msg)                                            \
  do {                                                                      \
    if (!(cond)) ::trinity::check_failed(#cond, __FILE__, __LINE__, (msg)); \
  } while (0)
