// LLM providers behind one interface: `mock` (deterministic, no network), `openai` (Chat
// Completions; also vLLM, llama.cpp server, Ollama, OpenRouter, LiteLLM) and `anthropic`
// (Messages API). HTTP goes through HttpClient (libcurl in production, swappable in tests).
//
// Retries: connect errors, HTTP 429 and 5xx are retried up to spec.max_retries times with
// exponential backoff (200 ms * 2^(n-1), capped at 5 s) and full-half jitter, waiting at least
// the server's Retry-After. Timeouts are not retried. Every attempt's timeout and every backoff
// sleep is bounded by the caller's deadline (the run's remaining wall-time budget).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "coord/clock.h"
#include "coord/http.h"
#include "coord/pool.h"
#include "coord/tools.h"
#include "core/status.h"
#include "router/route.h"

namespace trinity::coord {

struct ChatRequest {
  std::vector<Message> messages;  // what the agent sees (see prompts.h)
  // Worker turns of a run with active tools (tools.h): the tools to offer, in the provider's
  // native form; the messages then carry tool calls and results natively. Null: no tools.
  const ToolSet* tools = nullptr;
  int role_id = 0;
  int agent_id = 0;
  int turn = 0;
};

struct ChatReply {
  std::string text;                  // may be empty when the reply made tool calls
  std::vector<ToolCall> tool_calls;  // ids as the upstream gave them ("" when it gave none)
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int attempts = 1;  // 0 for a cached reply (no call was made)
  long http_status = 0;
  // Served from a response cache (train/response_cache.h): the tokens are those of the original
  // call, but nothing was paid, so the orchestrator charges 0 for it.
  bool cached = false;
  int fallback_index = 0;  // who answered (fallback.h): 0 the slot's own provider, 1.. a fallback
};

// The class of a failed provider call: what may be told to a client. The call's Status message
// has the details (the transport library's text with host and port, the upstream body), which
// belong in logs only.
enum class ProviderFailureKind {
  kUnknown,          // the provider did not say
  kConnection,       // could not connect (after the retries)
  kTransport,        // another transport failure (TLS, reset connection, ...)
  kTimeout,          // the call's timeout, or no time left in the run's wall-time budget
  kHttpStatus,       // upstream answered a non-2xx status (http_status)
  kInvalidResponse,  // a 2xx answer that could not be read (malformed, empty, an error object)
  kCircuitOpen,      // no call was made: every endpoint's circuit was open (fallback.h)
};
// "unknown", "connection error", "transport error", "timeout", "HTTP status", "invalid response",
// "circuit open"
const char* provider_failure_kind_name(ProviderFailureKind kind);

struct ProviderFailure {
  ProviderFailureKind kind = ProviderFailureKind::kUnknown;
  long http_status = 0;  // kHttpStatus: the last attempt's status
};

class DispatchObserver;  // fallback.h

struct CallContext {
  Clock* clock = nullptr;  // required
  const std::atomic<bool>* cancel = nullptr;
  int64_t deadline_ms = -1;        // monotonic; -1: none
  std::mt19937_64* rng = nullptr;  // jitter source; null: no jitter
  // Optional: a failed call (kProvider) records its class here (HTTP providers do; others leave
  // it untouched).
  ProviderFailure* failure = nullptr;
  // Optional: what a dispatch over fallbacks does (fallback.h); plain providers ignore it.
  DispatchObserver* observer = nullptr;
  // W3C trace context for the upstream (HTTP providers send them as headers when non-empty).
  std::string traceparent, tracestate;
};

class Provider {
 public:
  explicit Provider(ProviderSpec spec) : spec_(std::move(spec)) {}
  virtual ~Provider() = default;
  // Thread-safe. Errors: kProvider (with the provider/model and cause), kCancelled.
  virtual Result<ChatReply> chat(const ChatRequest& request, const CallContext& ctx) = 0;
  const ProviderSpec& spec() const { return spec_; }

 protected:
  ProviderSpec spec_;
};

// `api_key` is the value read from spec.api_key_env ("" for none); `http` must outlive the
// provider (null: the shared libcurl client).
Result<std::unique_ptr<Provider>> make_provider(const ProviderSpec& spec,
                                                const std::string& api_key,
                                                HttpClient* http = nullptr);

// Micro-dollars for a call: tokens x USD-per-million-tokens (= micro-dollars per token).
int64_t call_cost_micro_usd(const ProviderSpec& spec, int64_t input_tokens, int64_t output_tokens);

// Backoff before retry number `retry` (1-based), in ms, with jitter drawn from rng (if any).
int64_t backoff_ms(int retry, std::mt19937_64* rng);
// Retry-After as milliseconds (delta-seconds or HTTP-date relative to now); -1 if unparsable.
int64_t parse_retry_after_ms(const std::string& value, int64_t now_wall_ms);

// Request/response codecs (exposed for tests and fuzzing). With `tools`, the request offers them
// and the messages' tool calls and results are sent natively: OpenAI `tools`, `tool_calls` and
// `tool` messages; Anthropic `tools`, `tool_use` and `tool_result` blocks. A reply's tool calls
// must have a name and arguments that are a JSON object (else kParse: an invalid response);
// arguments are kept byte for byte (Anthropic's `input` object is serialized compactly).
std::string openai_request_body(const ProviderSpec& spec, const std::vector<Message>& messages,
                                const ToolSet* tools = nullptr);
Result<ChatReply> parse_openai_response(const std::string& body);
std::string anthropic_request_body(const ProviderSpec& spec, const std::vector<Message>& messages,
                                   const ToolSet* tools = nullptr);
Result<ChatReply> parse_anthropic_response(const std::string& body);

// The mock pool's fixed shell command (docs/coordinator.md, "Tools"): a Worker offered a tool
// with a string `command` or `cmd` property calls it with this, unless the last message is a
// tool result; its output, "trinity-tool-42", can only reach an answer if a client ran it.
inline constexpr const char* kMockToolCommand = "echo trinity-tool-$((40+2))";

}  // namespace trinity::coord
