#include "coord/provider.h"

#include "coord/skills.h"

#include <algorithm>
#include <cmath>
#include <ctime>

#include "coord/parse.h"
#include "core/curl_http.h"
#include "core/json.h"
#include "router/mock_tiny.h"

namespace trinity::coord {
namespace {

std::string snippet(const std::string& body) {
  std::string s = body.substr(0, 200);
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return body.size() > 200 ? s + "..." : s;
}

// The last tool result among the messages (null if none).
const Message* last_tool_result(const std::vector<Message>& messages) {
  for (auto it = messages.rbegin(); it != messages.rend(); ++it)
    if (it->role == "tool") return &*it;
  return nullptr;
}

// At most `max_bytes` of `s`, never cut inside a UTF-8 sequence.
std::string utf8_prefix(const std::string& s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end) + "...";
}

// The mock Worker's tool call: the function tool_choice names, else the first tool with a
// string `command` or `cmd` property (given kMockToolCommand), else under tool_choice required
// the first tool; every other required string property gets a fixed text. Nullopt when no tool
// qualifies (the Worker then answers text).
std::optional<ToolCall> mock_tool_call(const ToolSet& tools) {
  const ToolSpec* pick = nullptr;
  for (const ToolSpec& t : tools.tools) {
    const bool chosen = tools.choice.mode == ToolChoice::Mode::kFunction
                            ? t.name == tools.choice.name
                            : !shell_command_property(t).empty();
    if (chosen) {
      pick = &t;
      break;
    }
  }
  if (!pick && tools.choice.mode == ToolChoice::Mode::kRequired) pick = &tools.tools.front();
  if (!pick) return std::nullopt;
  Json args = Json::object();
  if (const std::string prop = shell_command_property(*pick); !prop.empty())
    args[prop] = kMockToolCommand;
  const Json& p = pick->parameters;
  const Json props = p.is_object() ? p.value("properties", Json::object()) : Json::object();
  const Json required = p.is_object() ? p.value("required", Json::array()) : Json::array();
  if (!props.is_object() || !required.is_array()) return ToolCall{"", pick->name, args.dump()};
  for (const Json& name : required) {
    if (!name.is_string() || args.contains(name.get<std::string>())) continue;
    const Json schema = props.value(name.get<std::string>(), Json());
    if (schema.is_object() && schema.value("type", Json()) == "string")
      args[name.get<std::string>()] = "trinity mock tool call";
  }
  return ToolCall{"", pick->name, args.dump()};
}

// A mock Worker calls a tool when offered tools and the last message is not a tool result, or
// whenever tool_choice demands a call.
bool wants_tool_call(const ChatRequest& r) {
  if (!r.tools || !r.tools->active()) return false;
  return r.messages.empty() || r.messages.back().role != "tool" ||
         r.tools->choice.mode != ToolChoice::Mode::kAuto;
}

class MockProvider final : public Provider {
 public:
  using Provider::Provider;
  Result<ChatReply> chat(const ChatRequest& request, const CallContext& ctx) override {
    if (ctx.cancel && ctx.cancel->load()) return Status(ErrorCode::kCancelled, "run cancelled");
    ChatReply r;
    std::string prompt;
    for (const auto& m : request.messages) prompt += routed_content(m) + "\n";
    const Message* tool_result = last_tool_result(request.messages);
    if (request.role_id == kRoleVerifier) {
      r.text = "ACCEPT: the Worker answer addresses the request (mock " + spec_.model + ").";
    } else if (request.role_id == kRoleThinker) {
      r.text =
          "Plan: answer the request directly, then have it checked.\n"
          "<suggestion>Give the answer directly.</suggestion>\n"
          "<suggested_role>solver</suggested_role>";
    } else if (auto call =
                   wants_tool_call(request) ? mock_tool_call(*request.tools) : std::nullopt) {
      r.tool_calls.push_back(std::move(*call));
    } else if (tool_result) {
      r.text = "The tool returned (mock " + spec_.model + "):\n" +
               utf8_prefix(tool_result->content, 4000);
    } else {
      r.text = "Worker answer: (mock " + spec_.model + ", slot " +
               std::to_string(request.agent_id) + ") " +
               std::to_string(whitespace_word_count(prompt)) + " words considered.";
    }
    r.input_tokens = whitespace_word_count(prompt);
    r.output_tokens = whitespace_word_count(r.text) + static_cast<int64_t>(r.tool_calls.size());
    return r;
  }
};

// Shared retry loop of the HTTP providers.
class HttpProvider : public Provider {
 public:
  HttpProvider(ProviderSpec spec, std::string api_key, HttpClient* http)
      : Provider(std::move(spec)), api_key_(std::move(api_key)), http_(http) {}

  Result<ChatReply> chat(const ChatRequest& request, const CallContext& ctx) override {
    HttpRequest req;
    req.url = url();
    req.body = body(request);
    req.headers = headers();
    if (!ctx.traceparent.empty()) req.headers.emplace_back("traceparent", ctx.traceparent);
    if (!ctx.tracestate.empty()) req.headers.emplace_back("tracestate", ctx.tracestate);
    req.cancel = ctx.cancel;
    const std::string who = "provider " + spec_.provider + " (model " + spec_.model + ")";
    const int max_attempts = static_cast<int>(spec_.max_retries) + 1;
    // A failed call's class, for the caller (CallContext::failure).
    auto failed = [&](ProviderFailureKind kind, long http_status, std::string message) {
      if (ctx.failure) *ctx.failure = ProviderFailure{kind, http_status};
      return Status(ErrorCode::kProvider, std::move(message));
    };
    for (int attempt = 1;; ++attempt) {
      if (ctx.cancel && ctx.cancel->load()) return Status(ErrorCode::kCancelled, "run cancelled");
      req.timeout_ms = spec_.timeout_ms;
      if (ctx.deadline_ms >= 0) {
        int64_t left = ctx.deadline_ms - ctx.clock->monotonic_ms();
        if (left <= 0)
          return failed(ProviderFailureKind::kTimeout, 0,
                        who + ": no time left in the run's wall-time budget");
        req.timeout_ms = std::min(req.timeout_ms, left);
      }
      HttpResponse resp = http_->post(req);
      std::string failure;
      ProviderFailure cause;
      bool retriable = false;
      int64_t retry_after = -1;
      if (resp.error == TransportError::kCancelled)
        return Status(ErrorCode::kCancelled, "run cancelled");
      if (resp.error == TransportError::kTimeout) {
        return failed(ProviderFailureKind::kTimeout, 0,
                      who + ": timeout after " + std::to_string(req.timeout_ms) + " ms (" +
                          resp.error_message + ")");
      } else if (resp.error != TransportError::kNone) {
        failure = std::string(transport_error_name(resp.error)) + " error: " + resp.error_message;
        retriable = resp.error == TransportError::kConnect;
        cause.kind = retriable ? ProviderFailureKind::kConnection : ProviderFailureKind::kTransport;
      } else if (resp.status >= 200 && resp.status < 300) {
        auto parsed = parse(resp.body);
        if (!parsed.ok())
          return failed(ProviderFailureKind::kInvalidResponse, resp.status,
                        who + ": " + parsed.status().message());
        Status calls = check_reply_tool_calls(parsed->tool_calls, parsed->text, request.tools);
        if (!calls.ok())
          return failed(ProviderFailureKind::kInvalidResponse, resp.status,
                        who + ": invalid tool calls in the response: " + calls.message());
        parsed->attempts = attempt;
        parsed->http_status = resp.status;
        return parsed;
      } else {
        failure = "HTTP " + std::to_string(resp.status) + ": " + snippet(resp.body);
        cause = {ProviderFailureKind::kHttpStatus, resp.status};
        retriable = resp.status == 429 || resp.status >= 500;
        if (const std::string* ra = resp.header("retry-after"))
          retry_after = parse_retry_after_ms(*ra, ctx.clock->wall_ms());
      }
      if (!retriable || attempt >= max_attempts)
        return failed(cause.kind, cause.http_status,
                      who + ": " + failure + " (attempt " + std::to_string(attempt) + " of " +
                          std::to_string(max_attempts) + ")");
      int64_t delay = std::max(backoff_ms(attempt, ctx.rng), retry_after);
      if (retry_after > 120000)
        return failed(cause.kind, cause.http_status,
                      who + ": " + failure + "; Retry-After of " +
                          std::to_string(retry_after / 1000) + " s is too long to wait");
      if (ctx.deadline_ms >= 0 && ctx.clock->monotonic_ms() + delay >= ctx.deadline_ms)
        return failed(cause.kind, cause.http_status,
                      who + ": " + failure + "; retrying in " + std::to_string(delay) +
                          " ms would exceed the wall-time budget");
      if (!ctx.clock->sleep_ms(delay, ctx.cancel))
        return Status(ErrorCode::kCancelled, "run cancelled");
    }
  }

 protected:
  virtual std::string url() const = 0;
  virtual std::string body(const ChatRequest& request) const = 0;
  virtual std::vector<std::pair<std::string, std::string>> headers() const = 0;
  virtual Result<ChatReply> parse(const std::string& body) const = 0;

  std::vector<std::pair<std::string, std::string>> custom_headers() const {
    std::vector<std::pair<std::string, std::string>> h;
    for (const auto& [k, v] : spec_.headers) h.emplace_back(k, v);
    return h;
  }

  std::string api_key_;
  HttpClient* http_;
};

class OpenAiProvider final : public HttpProvider {
 public:
  using HttpProvider::HttpProvider;

 protected:
  std::string url() const override { return spec_.base_url + "/chat/completions"; }
  std::string body(const ChatRequest& r) const override {
    return openai_request_body(spec_, r.messages, r.tools);
  }
  std::vector<std::pair<std::string, std::string>> headers() const override {
    std::vector<std::pair<std::string, std::string>> h = {{"Content-Type", "application/json"}};
    if (!api_key_.empty()) h.emplace_back("Authorization", "Bearer " + api_key_);
    for (auto& kv : custom_headers()) h.push_back(kv);
    return h;
  }
  Result<ChatReply> parse(const std::string& b) const override { return parse_openai_response(b); }
};

class AnthropicProvider final : public HttpProvider {
 public:
  using HttpProvider::HttpProvider;

 protected:
  std::string url() const override { return spec_.base_url + "/messages"; }
  std::string body(const ChatRequest& r) const override {
    return anthropic_request_body(spec_, r.messages, r.tools);
  }
  std::vector<std::pair<std::string, std::string>> headers() const override {
    std::vector<std::pair<std::string, std::string>> h = {{"Content-Type", "application/json"},
                                                          {"anthropic-version", "2023-06-01"}};
    if (!api_key_.empty()) h.emplace_back("x-api-key", api_key_);
    for (auto& kv : custom_headers()) h.push_back(kv);
    return h;
  }
  Result<ChatReply> parse(const std::string& b) const override {
    return parse_anthropic_response(b);
  }
};

// parse_json, not Json::parse: it also refuses nesting that error_text's dump() could not walk.
Result<Json> parse_body(const std::string& body) {
  auto j = parse_json(body, "response");
  if (!j.ok()) return parse_error("malformed response: invalid JSON: " + snippet(body));
  if (!j->is_object()) return parse_error("malformed response: expected a JSON object");
  return j;
}

int64_t usage_field(const Json& j, const char* obj, const char* field) {
  auto u = j.find(obj);
  if (u == j.end() || !u->is_object()) return 0;
  auto f = u->find(field);
  if (f == u->end() || !f->is_number_integer()) return 0;
  return std::max<int64_t>(0, f->get<int64_t>());
}

std::string error_text(const Json& j) {
  auto e = j.find("error");
  if (e == j.end()) return "";
  if (e->is_string()) return e->get<std::string>();
  if (e->is_object() && e->contains("message") && (*e)["message"].is_string())
    return (*e)["message"].get<std::string>();
  return e->dump();
}

}  // namespace

int64_t call_cost_micro_usd(const ProviderSpec& spec, int64_t input_tokens, int64_t output_tokens) {
  double micro = static_cast<double>(input_tokens) * spec.price_in_per_mtok +
                 static_cast<double>(output_tokens) * spec.price_out_per_mtok;
  return static_cast<int64_t>(std::llround(micro));
}

int64_t backoff_ms(int retry, std::mt19937_64* rng) {
  int64_t base = std::min<int64_t>(5000, 200LL << std::min(retry - 1, 10));
  if (!rng) return base;
  std::uniform_int_distribution<int64_t> dist(0, base / 2);
  return base / 2 + dist(*rng);
}

int64_t parse_retry_after_ms(const std::string& value, int64_t now_wall_ms) {
  std::string v = trim(value);
  if (v.empty()) return -1;
  if (std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (v.size() > 9) return -1;
    return std::stoll(v) * 1000;
  }
  const std::time_t t = parse_http_date(v);
  if (t < 0) return -1;
  return std::max<int64_t>(0, static_cast<int64_t>(t) * 1000 - now_wall_ms);
}

std::string openai_request_body(const ProviderSpec& spec, const std::vector<Message>& messages,
                                const ToolSet* tools) {
  Json j;
  j["model"] = spec.model;
  j["messages"] = Json::array();
  for (const Json& m : messages_to_json(messages)) {
    Json msg = m;
    // An assistant message that only called tools: content null, as OpenAI sends it.
    if (msg.contains("tool_calls") && msg["content"] == "") msg["content"] = nullptr;
    j["messages"].push_back(std::move(msg));
  }
  j["max_tokens"] = spec.max_tokens;
  if (spec.temperature) j["temperature"] = *spec.temperature;
  if (tools && tools->active()) {
    j["tools"] = Json::array();
    for (const ToolSpec& t : tools->tools) {
      Json f;
      f["name"] = t.name;
      if (!t.description.empty()) f["description"] = t.description;
      if (!t.parameters.is_null()) f["parameters"] = t.parameters;
      if (t.strict) f["strict"] = *t.strict;
      j["tools"].push_back(Json{{"type", "function"}, {"function", std::move(f)}});
    }
    const ToolChoice& c = tools->choice;
    j["tool_choice"] = c.mode == ToolChoice::Mode::kFunction
                           ? Json{{"type", "function"}, {"function", {{"name", c.name}}}}
                           : Json(tool_choice_mode_name(c.mode));
    if (tools->parallel_tool_calls) j["parallel_tool_calls"] = *tools->parallel_tool_calls;
  }
  j["stream"] = false;
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

namespace {

// One entry of OpenAI's message.tool_calls.
Result<ToolCall> parse_openai_tool_call(const Json& c, size_t i) {
  const std::string what = "tool_calls[" + std::to_string(i) + "]";
  if (!c.is_object()) return parse_error("malformed response: " + what + " is not an object");
  ToolCall call;
  if (auto id = c.find("id"); id != c.end() && id->is_string()) call.id = id->get<std::string>();
  auto f = c.find("function");
  if (f == c.end() || !f->is_object())
    return parse_error("malformed response: " + what + " has no function");
  auto name = f->find("name");
  if (name == f->end() || !name->is_string() || name->get<std::string>().empty())
    return parse_error("malformed response: " + what + " has no function name");
  call.name = name->get<std::string>();
  auto args = f->find("arguments");
  if (args == f->end() || !args->is_string())
    return parse_error("malformed response: " + what + ".function.arguments is not a string");
  call.arguments = args->get<std::string>();
  Status st = check_tool_arguments(call, what);
  if (!st.ok()) return parse_error("invalid tool call in the response: " + st.message());
  return call;
}

}  // namespace

Result<ChatReply> parse_openai_response(const std::string& body) {
  TRINITY_ASSIGN_OR_RETURN(Json j, parse_body(body));
  std::string err = error_text(j);
  if (!err.empty()) return parse_error("error in response: " + err.substr(0, 200));
  auto choices = j.find("choices");
  if (choices == j.end() || !choices->is_array() || choices->empty() || !(*choices)[0].is_object())
    return parse_error("malformed response: no choices");
  const Json& c0 = (*choices)[0];
  auto msg = c0.find("message");
  if (msg == c0.end() || !msg->is_object()) return parse_error("malformed response: no message");
  ChatReply r;
  if (auto calls = msg->find("tool_calls"); calls != msg->end() && !calls->is_null()) {
    if (!calls->is_array()) return parse_error("malformed response: tool_calls is not an array");
    for (size_t i = 0; i < calls->size(); ++i) {
      TRINITY_ASSIGN_OR_RETURN(ToolCall call, parse_openai_tool_call((*calls)[i], i));
      r.tool_calls.push_back(std::move(call));
    }
  }
  auto content = msg->find("content");
  if (content != msg->end() && !content->is_null()) {
    if (!content->is_string()) return parse_error("malformed response: content is not a string");
    r.text = content->get<std::string>();
  }
  if (trim(r.text).empty() && r.tool_calls.empty())
    return parse_error("empty content in the response");
  r.input_tokens = usage_field(j, "usage", "prompt_tokens");
  r.output_tokens = usage_field(j, "usage", "completion_tokens");
  return r;
}

namespace {

// Anthropic accepts call ids of [A-Za-z0-9_-] only; ids from other providers (e.g.
// "functions.bash:0") get every other byte replaced by '_', the same way for a call and its result.
std::string anthropic_id(const std::string& id) {
  std::string out = id.empty() ? "call" : id;
  for (char& c : out)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-'))
      c = '_';
  return out;
}

// A message as Anthropic content blocks: text, tool_use (assistant tool calls) or tool_result.
Json anthropic_blocks(const Message& m) {
  Json blocks = Json::array();
  if (m.role == "tool") {
    blocks.push_back(Json{{"type", "tool_result"},
                          {"tool_use_id", anthropic_id(m.tool_call_id)},
                          {"content", m.content}});
    return blocks;
  }
  if (!m.content.empty()) blocks.push_back(Json{{"type", "text"}, {"text", m.content}});
  for (const ToolCall& c : m.tool_calls) {
    // The arguments were checked when they entered the run (a JSON object); be defensive anyway.
    auto input = parse_json(c.arguments, "arguments");
    blocks.push_back(Json{{"type", "tool_use"},
                          {"id", anthropic_id(c.id)},
                          {"name", c.name},
                          {"input", input.ok() && input->is_object() ? *input : Json::object()}});
  }
  return blocks;
}

Json anthropic_tool_choice(const ToolSet& tools) {
  Json c;
  switch (tools.choice.mode) {
    case ToolChoice::Mode::kRequired:
      c["type"] = "any";
      break;
    case ToolChoice::Mode::kFunction:
      c["type"] = "tool";
      c["name"] = tools.choice.name;
      break;
    default:
      c["type"] = "auto";
  }
  if (tools.parallel_tool_calls && !*tools.parallel_tool_calls)
    c["disable_parallel_tool_use"] = true;
  return c;
}

}  // namespace

std::string anthropic_request_body(const ProviderSpec& spec, const std::vector<Message>& messages,
                                   const ToolSet* tools) {
  Json j;
  j["model"] = spec.model;
  j["max_tokens"] = spec.max_tokens;
  std::string system;
  Json msgs = Json::array();
  for (const auto& m : messages) {
    if (m.role == "system") {
      system += (system.empty() ? "" : "\n\n") + m.content;
      continue;
    }
    // Tool results travel in user messages; consecutive same-role messages become one message
    // of blocks (a tool_result must directly follow its tool_use).
    const std::string role = m.role == "tool" ? "user" : m.role;
    const bool plain = m.role != "tool" && m.tool_calls.empty();
    if (!msgs.empty() && msgs.back()["role"] == role) {
      Json& prev = msgs.back()["content"];
      if (prev.is_string()) prev = Json::array({Json{{"type", "text"}, {"text", prev}}});
      for (Json& b : anthropic_blocks(m)) prev.push_back(std::move(b));
    } else {
      msgs.push_back(
          Json{{"role", role}, {"content", plain ? Json(m.content) : anthropic_blocks(m)}});
    }
  }
  if (!system.empty()) j["system"] = system;
  j["messages"] = msgs;
  if (spec.temperature) j["temperature"] = std::min(1.0, *spec.temperature);
  if (tools && tools->active()) {
    j["tools"] = Json::array();
    for (const ToolSpec& t : tools->tools) {
      Json tool;
      tool["name"] = t.name;
      if (!t.description.empty()) tool["description"] = t.description;
      tool["input_schema"] = t.parameters.is_object() ? t.parameters : Json{{"type", "object"}};
      j["tools"].push_back(std::move(tool));
    }
    j["tool_choice"] = anthropic_tool_choice(*tools);
  }
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<ChatReply> parse_anthropic_response(const std::string& body) {
  TRINITY_ASSIGN_OR_RETURN(Json j, parse_body(body));
  std::string err = error_text(j);
  if (!err.empty()) return parse_error("error in response: " + err.substr(0, 200));
  auto content = j.find("content");
  if (content == j.end() || !content->is_array())
    return parse_error("malformed response: no content array");
  ChatReply r;
  for (size_t i = 0; i < content->size(); ++i) {
    const Json& block = (*content)[i];
    // Not block.value("type", ""): it throws on a type that is not a string.
    if (!block.is_object()) continue;
    auto type = block.find("type"), text = block.find("text");
    if (type != block.end() && *type == "text" && text != block.end() && text->is_string())
      r.text += text->get<std::string>();
    if (type == block.end() || *type != "tool_use") continue;
    const std::string what = "content[" + std::to_string(i) + "]";
    auto id = block.find("id"), name = block.find("name"), input = block.find("input");
    if (name == block.end() || !name->is_string() || name->get<std::string>().empty())
      return parse_error("malformed response: " + what + " (tool_use) has no name");
    if (input == block.end() || !input->is_object())
      return parse_error("invalid tool call in the response: " + what +
                         ": the input of tool call '" + name->get<std::string>() +
                         "' is not a JSON object");
    r.tool_calls.push_back(
        ToolCall{id != block.end() && id->is_string() ? id->get<std::string>() : std::string(),
                 name->get<std::string>(), input->dump()});
  }
  if (trim(r.text).empty() && r.tool_calls.empty())
    return parse_error("empty content in the response");
  r.input_tokens = usage_field(j, "usage", "input_tokens");
  r.output_tokens = usage_field(j, "usage", "output_tokens");
  return r;
}

const char* provider_failure_kind_name(ProviderFailureKind kind) {
  switch (kind) {
    case ProviderFailureKind::kUnknown:
      return "unknown";
    case ProviderFailureKind::kConnection:
      return "connection error";
    case ProviderFailureKind::kTransport:
      return "transport error";
    case ProviderFailureKind::kTimeout:
      return "timeout";
    case ProviderFailureKind::kHttpStatus:
      return "HTTP status";
    case ProviderFailureKind::kInvalidResponse:
      return "invalid response";
    case ProviderFailureKind::kCircuitOpen:
      return "circuit open";
  }
  return "unknown";
}

Result<std::unique_ptr<Provider>> make_provider(const ProviderSpec& spec,
                                                const std::string& api_key, HttpClient* http) {
  if (!http) http = &default_http_client();
  if (spec.provider == "mock") return std::unique_ptr<Provider>(new MockProvider(spec));
  if (spec.provider == "skills") {
    auto p = make_skills_provider(spec);
    if (!p) return invalid_argument("skills provider: unknown model '" + spec.model + "'");
    return p;
  }
  if (spec.provider == "openai")
    return std::unique_ptr<Provider>(new OpenAiProvider(spec, api_key, http));
  if (spec.provider == "anthropic")
    return std::unique_ptr<Provider>(new AnthropicProvider(spec, api_key, http));
  return invalid_argument("unknown provider '" + spec.provider + "'");
}

}  // namespace trinity::coord
