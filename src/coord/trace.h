// Run events, redaction and the JSONL trace writer.
//
// Every event is one JSON object: {schema_version: 1, event, run_id, timestamp_ms, ...fields}.
// Events: route_decision, reflex_decision, budget_snapshot, provider_dispatch_started,
// provider_fallback, circuit_state_changed (fallback.h), provider_dispatch_finished,
// verifier_result, run_warning, run_finished, run_failed; every field the reference writes is
// there under its name (docs/trace-schema.md, docs/trace-schema.json).
// Content fields (message and reply bodies, tool call arguments, provider error text) are:
// input_content, request_messages, reply, answer, diagnosis, suggestion, error, tool_calls (and
// the tool_calls of the messages in input_content / request_messages). With ContentMode::kHash
// (default) the trace writer replaces them by "sha256:<hex>" refs; with kFull they are written
// as is (after redaction). The trace file is appended to; its parent directories are created.
// Redaction (always, before any sink sees an event): values under the keys api_key,
// authorization, password, secret, token (any case, '-' or '_', also as a suffix such as
// x-api-key or access_token) become "<redacted>"; "Bearer <credential>" anywhere becomes
// "Bearer <redacted>"; every configured secret value (of 8 bytes or more) is replaced wherever it
// appears.
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"

namespace trinity::coord {

inline constexpr int kTraceSchemaVersion = 1;
inline constexpr const char* kRedacted = "<redacted>";

class Redactor {
 public:
  Redactor() = default;
  explicit Redactor(std::vector<std::string> secrets);
  // Values shorter than kMinSecretBytes are not secrets ("EMPTY", "ollama", "none": what local
  // servers take as a key); replacing them would corrupt answers and tool arguments.
  static constexpr size_t kMinSecretBytes = 8;
  void add_secret(const std::string& secret);
  // For traces and logs: secret values, "Bearer <credential>" and sensitive keys.
  std::string redact_text(const std::string& text) const;
  void redact_json(OrderedJson& j) const;
  // For answers returned to the user: only the exact secret values are replaced; everything
  // else (the word "bearer" included) comes back verbatim.
  std::string remove_secrets(const std::string& text) const;
  static bool is_sensitive_key(const std::string& key);

 private:
  std::vector<std::string> secrets_;  // longest first
};

// "<prefix>:sha256:<lowercase hex of sha256(bytes)>", the reference's ref form.
std::string sha256_ref(const char* prefix, const std::string& bytes);

enum class ContentMode { kHash, kFull };
Result<ContentMode> parse_content_mode(const std::string& s);  // "hash" | "full"
const char* content_mode_name(ContentMode m);

// Receives every event of a run, in order, already redacted. Called from the run's thread.
class EventSink {
 public:
  virtual ~EventSink() = default;
  // A non-OK status ends the run (a trace that cannot be written is an error).
  virtual Status on_event(const OrderedJson& event) = 0;
};

// Applies the content mode to a copy of the event (for sinks that persist events).
OrderedJson apply_content_mode(const OrderedJson& event, ContentMode mode);

// JSONL file sink: one event per line, flushed after every event. Thread-safe.
class JsonlTraceWriter final : public EventSink {
 public:
  static Result<std::unique_ptr<JsonlTraceWriter>> open(const std::string& path, ContentMode mode);
  ~JsonlTraceWriter() override;
  Status on_event(const OrderedJson& event) override;
  const std::string& path() const { return path_; }

 private:
  JsonlTraceWriter(std::FILE* f, std::string path, ContentMode mode)
      : file_(f), path_(std::move(path)), mode_(mode) {}
  std::mutex mu_;
  std::FILE* file_;
  std::string path_;
  ContentMode mode_;
};

}  // namespace trinity::coord
