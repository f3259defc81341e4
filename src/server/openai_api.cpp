#include "server/openai_api.h"

#include <algorithm>
#include <cmath>

#include "server/tool_wire.h"

namespace trinity::server {
namespace {

std::optional<int64_t> min_opt(const std::optional<int64_t>& a, const std::optional<int64_t>& b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

bool is_utf8_continuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

// "provider 'openai' (model 'gpt-4o') failed: connection error" / "...: upstream returned HTTP
// 502": the class of the failed call, never its detail (host and port, the transport library's
// text, the upstream body).
std::string provider_failure_message(const coord::RunResult& r) {
  std::string who = "a provider call";
  std::optional<coord::ProviderFailure> f;
  if (r.failed_call) {
    who = "provider '" + r.failed_call->provider + "' (model '" + r.failed_call->model + "')";
    f = r.failed_call->failure;
  } else if (!r.turns.empty()) {  // the failed turn is recorded before the run stops
    who = "provider '" + r.turns.back().provider + "' (model '" + r.turns.back().model + "')";
  }
  if (!f || f->kind == coord::ProviderFailureKind::kUnknown) return who + " failed";
  if (f->kind == coord::ProviderFailureKind::kHttpStatus)
    return who + " failed: upstream returned HTTP " + std::to_string(f->http_status);
  return who + " failed: " + coord::provider_failure_kind_name(f->kind);
}

// "text" -> "(only text parts)"; several -> "(only input_text, output_text or text parts)".
std::string only_parts(const std::vector<std::string>& types) {
  std::string s = "(only ";
  for (size_t i = 0; i < types.size(); ++i) {
    if (i > 0) s += i + 1 == types.size() ? " or " : ", ";
    s += types[i];
  }
  return s + " parts)";
}

}  // namespace

Result<std::string> parse_text_parts(const Json& parts, const std::string& field,
                                     const std::vector<std::string>& part_types) {
  std::string text;
  for (size_t k = 0; k < parts.size(); ++k) {
    const Json& part = parts[k];
    const std::string pctx = field + "[" + std::to_string(k) + "]";
    if (!part.is_object()) return invalid_argument(pctx + " must be an object");
    auto type = part.find("type");
    if (type == part.end() || !type->is_string())
      return invalid_argument(pctx + ".type must be a string");
    if (std::find(part_types.begin(), part_types.end(), type->get<std::string>()) ==
        part_types.end())
      return invalid_argument(pctx + ".type '" + type->get<std::string>() + "' is not supported " +
                              only_parts(part_types));
    auto t = part.find("text");
    if (t == part.end() || !t->is_string())
      return invalid_argument(pctx + ".text must be a string");
    if (k > 0) text += "\n";
    text += t->get<std::string>();
  }
  return text;
}

Result<std::optional<int64_t>> opt_positive_int(const Json& obj, const char* key,
                                                const std::string& ctx, bool allow_zero) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<int64_t>();
  if (!it->is_number_integer()) return invalid_argument(ctx + "." + key + " must be an integer");
  const int64_t v = it->get<int64_t>();
  if (v < 0 || (!allow_zero && v == 0))
    return invalid_argument(ctx + "." + key + " must be " + (allow_zero ? ">= 0" : "> 0"));
  return std::optional<int64_t>(v);
}

OrderedJson ApiError::body() const {
  OrderedJson e;
  e["message"] = message;
  e["type"] = type;
  e["param"] = nullptr;
  e["code"] = code.empty() ? OrderedJson(nullptr) : OrderedJson(code);
  OrderedJson j;
  j["error"] = std::move(e);
  return j;
}

Result<Message> parse_message(const Json& m, const std::string& ctx,
                              const std::vector<std::string>& part_types) {
  if (!m.is_object()) return invalid_argument(ctx + " must be an object");
  auto role_it = m.find("role");
  if (role_it == m.end() || !role_it->is_string())
    return invalid_argument(ctx + ".role must be a string");
  std::string role = role_it->get<std::string>();
  if (role == "developer") role = "system";
  if (role != "system" && role != "user" && role != "assistant" && role != "tool")
    return invalid_argument(ctx + ".role '" + role +
                            "' is not supported (system, developer, user, assistant or tool)");
  Message msg;
  msg.role = role;
  if (auto calls = m.find("tool_calls"); calls != m.end() && !calls->is_null()) {
    if (role != "assistant")
      return invalid_argument(ctx + ".tool_calls is only allowed on assistant messages");
    TRINITY_ASSIGN_OR_RETURN(msg.tool_calls, parse_chat_tool_calls(*calls, ctx));
  }
  if (role == "tool") {
    auto id = m.find("tool_call_id");
    if (id == m.end() || !id->is_string() || id->get<std::string>().empty())
      return invalid_argument(ctx + ".tool_call_id must be a non-empty string");
    msg.tool_call_id = id->get<std::string>();
  }
  auto c = m.find("content");
  if (c == m.end() || c->is_null()) {
    if (role != "assistant") return invalid_argument(ctx + ".content is required");
  } else if (c->is_string()) {
    msg.content = c->get<std::string>();
  } else if (c->is_array()) {
    TRINITY_ASSIGN_OR_RETURN(msg.content, parse_text_parts(*c, ctx + ".content", part_types));
  } else {
    return invalid_argument(ctx + ".content must be a string or an array of content parts");
  }
  return msg;
}

Result<std::vector<Message>> parse_openai_messages(const Json& messages) {
  if (!messages.is_array()) return invalid_argument("messages must be an array");
  if (messages.empty()) return invalid_argument("messages must not be empty");
  static const std::vector<std::string> kParts = {"text"};
  std::vector<Message> out;
  std::vector<std::string> names;
  out.reserve(messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    names.push_back("messages[" + std::to_string(i) + "]");
    TRINITY_ASSIGN_OR_RETURN(Message msg, parse_message(messages[i], names.back(), kParts));
    out.push_back(std::move(msg));
  }
  TRINITY_RETURN_IF_ERROR(coord::check_tool_conversation(out, names, "tool_call_id"));
  return out;
}

Result<coord::Budgets> parse_budgets(const Json& j, const std::string& ctx) {
  if (!j.is_object()) return invalid_argument(ctx + " must be an object");
  static const char* kKnown[] = {"max_wall_time_ms", "max_provider_calls",
                                 "max_provider_latency_ms", "max_verifier_revisions",
                                 "max_estimated_cost_usd"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (std::find_if(std::begin(kKnown), std::end(kKnown),
                     [&](const char* k) { return it.key() == k; }) == std::end(kKnown))
      return invalid_argument(ctx + "." + it.key() + " is not a known budget");
  }
  coord::Budgets b;
  TRINITY_ASSIGN_OR_RETURN(b.max_wall_time_ms, opt_positive_int(j, "max_wall_time_ms", ctx, false));
  TRINITY_ASSIGN_OR_RETURN(b.max_provider_calls,
                           opt_positive_int(j, "max_provider_calls", ctx, true));
  TRINITY_ASSIGN_OR_RETURN(b.max_provider_latency_ms,
                           opt_positive_int(j, "max_provider_latency_ms", ctx, false));
  TRINITY_ASSIGN_OR_RETURN(b.max_verifier_revisions,
                           opt_positive_int(j, "max_verifier_revisions", ctx, true));
  auto cost = j.find("max_estimated_cost_usd");
  if (cost != j.end() && !cost->is_null()) {
    if (!cost->is_number())
      return invalid_argument(ctx + ".max_estimated_cost_usd must be a number");
    auto micro = coord::usd_to_micro(cost->get<double>());
    if (!micro.ok()) return micro.status().with_context(ctx + ".max_estimated_cost_usd");
    b.max_estimated_cost_micro_usd = *micro;
  }
  return b;
}

Result<ChatCompletionRequest> parse_chat_request(const Json& body) {
  if (!body.is_object()) return invalid_argument("the request body must be a JSON object");
  ChatCompletionRequest r;
  auto model = body.find("model");
  if (model == body.end() || !model->is_string())
    return invalid_argument("model is required (use \"trinity\")");
  r.model = model->get<std::string>();
  auto messages = body.find("messages");
  if (messages == body.end()) return invalid_argument("messages is required");
  TRINITY_ASSIGN_OR_RETURN(r.messages, parse_openai_messages(*messages));
  if (auto s = body.find("stream"); s != body.end() && !s->is_null()) {
    if (!s->is_boolean()) return invalid_argument("stream must be a boolean");
    r.stream = s->get<bool>();
  }
  if (auto so = body.find("stream_options"); so != body.end() && so->is_object()) {
    if (auto iu = so->find("include_usage"); iu != so->end() && iu->is_boolean())
      r.include_usage = iu->get<bool>();
  }
  if (auto n = body.find("n"); n != body.end() && !n->is_null()) {
    if (!n->is_number_integer() || n->get<int64_t>() != 1)
      return invalid_argument("n must be 1 (one coordinated answer per request)");
  }
  TRINITY_ASSIGN_OR_RETURN(auto max_tokens, opt_positive_int(body, "max_tokens", "request", false));
  TRINITY_ASSIGN_OR_RETURN(auto max_completion,
                           opt_positive_int(body, "max_completion_tokens", "request", false));
  r.overrides.max_tokens = max_completion ? max_completion : max_tokens;
  TRINITY_RETURN_IF_ERROR(parse_request_tools(body, ToolForm::kChat, r.tools));
  TRINITY_RETURN_IF_ERROR(parse_run_fields(body, r));
  return r;
}

Status parse_run_fields(const Json& body, RunRequest& r) {
  if (auto t = body.find("temperature"); t != body.end() && !t->is_null()) {
    if (!t->is_number()) return invalid_argument("temperature must be a number");
    const double v = t->get<double>();
    if (!std::isfinite(v) || v < 0 || v > 2)
      return invalid_argument("temperature must be between 0 and 2");
    r.overrides.temperature = v;
  }
  auto ext = body.find("trinity");
  if (ext == body.end() || ext->is_null()) return ok_status();
  if (!ext->is_object()) return invalid_argument("trinity must be an object");
  if (auto b = ext->find("budgets"); b != ext->end() && !b->is_null()) {
    TRINITY_ASSIGN_OR_RETURN(r.budgets, parse_budgets(*b, "trinity.budgets"));
  }
  TRINITY_ASSIGN_OR_RETURN(auto turns, opt_positive_int(*ext, "max_turns", "trinity", false));
  if (turns) r.max_turns = static_cast<int>(std::min<int64_t>(*turns, 1000));
  if (auto cv = ext->find("cold_verifier"); cv != ext->end() && !cv->is_null()) {
    if (!cv->is_string()) return invalid_argument("trinity.cold_verifier must be a string");
    auto policy = coord::parse_cold_verifier(cv->get<std::string>());
    if (!policy.ok()) return policy.status().with_context("trinity.cold_verifier");
    r.cold_verifier = *policy;
  }
  if (auto ex = ext->find("exclude_agents"); ex != ext->end() && !ex->is_null()) {
    TRINITY_ASSIGN_OR_RETURN(r.exclude_agents, parse_exclude_agents(*ex, "trinity.exclude_agents"));
  }
  return ok_status();
}

coord::Budgets tighten_budgets(const coord::Budgets& server, const coord::Budgets& request) {
  coord::Budgets b;
  b.max_wall_time_ms = min_opt(server.max_wall_time_ms, request.max_wall_time_ms);
  b.max_provider_calls = min_opt(server.max_provider_calls, request.max_provider_calls);
  b.max_provider_latency_ms =
      min_opt(server.max_provider_latency_ms, request.max_provider_latency_ms);
  b.max_verifier_revisions = min_opt(server.max_verifier_revisions, request.max_verifier_revisions);
  b.max_estimated_cost_micro_usd =
      min_opt(server.max_estimated_cost_micro_usd, request.max_estimated_cost_micro_usd);
  return b;
}

OrderedJson TokenUsage::to_json() const {
  OrderedJson u;
  u["prompt_tokens"] = prompt_tokens;
  u["completion_tokens"] = completion_tokens;
  u["total_tokens"] = prompt_tokens + completion_tokens;
  return u;
}

OrderedJson turn_json(const coord::TurnRecord& t) {
  OrderedJson r;
  r["turn"] = t.turn;
  r["agent_id"] = t.agent_id;
  r["agent_label"] = agent_label(t.agent_id);
  r["role"] = role_name(t.role_id);
  r["agent_margin"] = opt_json(t.agent_margin);
  r["role_margin"] = opt_json(t.role_margin);
  r["provider"] = t.provider;
  r["model"] = t.model;
  if (t.fallback_index > 0) r["fallback_index"] = t.fallback_index;
  r["latency_ms"] = t.latency_ms;
  if (!t.verdict.empty()) r["verdict"] = t.verdict;
  if (!t.reroute.empty()) r["reroute"] = t.reroute;
  return r;
}

OrderedJson trinity_extension(const coord::RunResult& r, const std::optional<std::string>& trace) {
  OrderedJson x;
  x["run_id"] = r.run_id;
  x["status"] = r.run_status();
  x["outcome"] = r.outcome;
  if (!r.ok()) x["reason"] = r.failure_reason;
  x["turns"] = OrderedJson::array();
  for (const auto& t : r.turns) x["turns"].push_back(turn_json(t));
  x["provider_calls"] = r.usage.provider_calls;
  x["revision_count"] = r.usage.verifier_revisions;
  x["elapsed_ms"] = r.usage.elapsed_ms;
  if (!r.excluded_agents.empty()) x["excluded_agents"] = r.excluded_agents;
  x["estimated_cost_usd"] = coord::micro_to_usd(r.usage.cost_micro_usd);
  x["cost_usd"] = coord::micro_to_usd(r.usage.cost_micro_usd);  // the same; the older key stays
  if (r.budget_violation) x["budget_exceeded"] = r.budget_violation->to_json();
  x["trace"] = trace ? OrderedJson(*trace) : OrderedJson(nullptr);
  return x;
}

ApiError model_not_found(const std::string& model) {
  return {404, "invalid_request_error", "model_not_found",
          "the model '" + model + "' does not exist: this server answers for model \"trinity\""};
}

OrderedJson chat_completion_json(const std::string& id, int64_t created, const std::string& answer,
                                 const std::vector<ToolCall>& tool_calls, const TokenUsage& usage,
                                 OrderedJson trinity) {
  OrderedJson msg;
  msg["role"] = "assistant";
  msg["content"] =
      answer.empty() && !tool_calls.empty() ? OrderedJson(nullptr) : OrderedJson(answer);
  if (!tool_calls.empty()) msg["tool_calls"] = coord::tool_calls_json(tool_calls);
  OrderedJson choice;
  choice["index"] = 0;
  choice["message"] = std::move(msg);
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = tool_calls.empty() ? "stop" : "tool_calls";
  OrderedJson j;
  j["id"] = id;
  j["object"] = "chat.completion";
  j["created"] = created;
  j["model"] = kServedModel;
  j["choices"] = OrderedJson::array({std::move(choice)});
  j["usage"] = usage.to_json();
  j["trinity"] = std::move(trinity);
  return j;
}

OrderedJson chunk_json(const std::string& id, int64_t created, const OrderedJson* delta,
                       const char* finish_reason) {
  OrderedJson j;
  j["id"] = id;
  j["object"] = "chat.completion.chunk";
  j["created"] = created;
  j["model"] = kServedModel;
  j["choices"] = OrderedJson::array();
  if (delta) {
    OrderedJson choice;
    choice["index"] = 0;
    choice["delta"] = *delta;
    choice["logprobs"] = nullptr;
    choice["finish_reason"] = finish_reason ? OrderedJson(finish_reason) : OrderedJson(nullptr);
    j["choices"].push_back(std::move(choice));
  }
  return j;
}

std::string sse_event(const OrderedJson& j) {
  return "data: " + j.dump(-1, ' ', false, OrderedJson::error_handler_t::replace) + "\n\n";
}

std::vector<std::string> split_deltas(const std::string& answer, size_t max_bytes) {
  std::vector<std::string> out;
  if (max_bytes < 8) max_bytes = 8;
  size_t pos = 0;
  while (pos < answer.size()) {
    size_t end = std::min(answer.size(), pos + max_bytes);
    if (end < answer.size()) {
      // Prefer to cut after the last whitespace in the window's second half (a search bounded
      // by the window: text without whitespace stays linear).
      size_t cut = end - 1;
      while (cut >= pos + max_bytes / 2 && answer[cut] != ' ' && answer[cut] != '\n' &&
             answer[cut] != '\t')
        --cut;
      if (cut >= pos + max_bytes / 2) {
        end = cut + 1;
      } else {
        while (end > pos + 1 && is_utf8_continuation(static_cast<unsigned char>(answer[end])))
          --end;
      }
    }
    out.push_back(answer.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

ApiError run_failure_error(const coord::RunResult& r) {
  ApiError e;
  e.message = r.status.message();
  e.code = r.failure_reason;
  const std::string& why = r.failure_reason;
  if (why == "invalid_input") {
    e.http_status = 400;
    e.type = "invalid_request_error";
  } else if (why == "provider_error") {
    e.http_status = 502;
    e.type = "upstream_error";
    e.message = provider_failure_message(r);
  } else if (why == "cancelled") {
    e.http_status = 503;
    e.type = "server_error";
  } else if (why == "budget_exceeded" || why == "max_turns_reached" ||
             why == "verifier_before_worker_response") {
    e.http_status = 422;
    e.type = "coordination_error";
  } else {
    // router_error, trace_error, internal_error: the detail (engine, file system) is ours.
    e.http_status = 500;
    e.type = "server_error";
    e.message = why == "router_error"  ? "internal error: routing failed"
                : why == "trace_error" ? "internal error: the run's trace could not be written"
                                       : "internal error";
  }
  return e;
}

std::string run_failure_detail(const coord::RunResult& r) {
  std::string d = r.failure_reason.empty() ? "run failed" : r.failure_reason;
  if (r.failed_call) {
    d += " (provider '" + r.failed_call->provider + "', model '" + r.failed_call->model + "', " +
         coord::provider_failure_kind_name(r.failed_call->failure.kind);
    if (r.failed_call->failure.kind == coord::ProviderFailureKind::kHttpStatus)
      d += " " + std::to_string(r.failed_call->failure.http_status);
    d += ")";
  }
  return d + ": " + (r.status.ok() ? std::string("no error status") : r.status.message());
}

}  // namespace trinity::server
