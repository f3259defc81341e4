#include "server/responses_api.h"

#include "server/tool_wire.h"

namespace trinity::server {
namespace {

Result<std::string> required_string(const Json& item, const char* key, const std::string& ctx) {
  auto it = item.find(key);
  if (it == item.end() || !it->is_string() || it->get<std::string>().empty())
    return invalid_argument(ctx + "." + key + " must be a non-empty string");
  return it->get<std::string>();
}

// A function_call item: joins the assistant message just before it (the previous item was that
// message or another function_call), else starts an assistant message of its own.
Status add_function_call(const Json& item, const std::string& ctx, bool joins,
                         std::vector<Message>& out) {
  ToolCall call;
  TRINITY_ASSIGN_OR_RETURN(call.id, required_string(item, "call_id", ctx));
  TRINITY_ASSIGN_OR_RETURN(call.name, required_string(item, "name", ctx));
  auto args = item.find("arguments");
  if (args == item.end() || !args->is_string())
    return invalid_argument(ctx + ".arguments must be a string");
  call.arguments = args->get<std::string>();
  TRINITY_RETURN_IF_ERROR(coord::check_tool_arguments(call, ctx));
  if (!joins) out.push_back(Message{"assistant", ""});
  out.back().tool_calls.push_back(std::move(call));
  return ok_status();
}

// A function_call_output item: a tool message. `output` is a string or an array of text parts.
Status add_function_call_output(const Json& item, const std::string& ctx,
                                std::vector<Message>& out) {
  Message m{"tool", ""};
  TRINITY_ASSIGN_OR_RETURN(m.tool_call_id, required_string(item, "call_id", ctx));
  auto output = item.find("output");
  if (output != item.end() && output->is_string()) {
    m.content = output->get<std::string>();
  } else if (output != item.end() && output->is_array()) {
    static const std::vector<std::string> kParts = {"input_text", "output_text", "text"};
    TRINITY_ASSIGN_OR_RETURN(m.content, parse_text_parts(*output, ctx + ".output", kParts));
  } else {
    return invalid_argument(ctx + ".output must be a string or an array of text parts");
  }
  out.push_back(std::move(m));
  return ok_status();
}

// `input`: a string (one user message) or an array of message items.
Status parse_input(const Json& input, std::vector<Message>& out) {
  if (input.is_string()) {
    out.push_back({"user", input.get<std::string>()});
    return ok_status();
  }
  if (!input.is_array()) return invalid_argument("input must be a string or an array of items");
  if (input.empty()) return invalid_argument("input must not be empty");
  static const std::vector<std::string> kParts = {"input_text", "output_text", "text"};
  std::vector<std::string> names(out.size(), "instructions");  // what each message came from
  bool assistant_open = false;  // the previous item was an assistant message or function_call
  for (size_t i = 0; i < input.size(); ++i) {
    const std::string ctx = "input[" + std::to_string(i) + "]";
    const Json& item = input[i];
    if (!item.is_object()) return invalid_argument(ctx + " must be an object");
    std::string type = "message";  // EasyInputMessage: {role, content} with no type
    if (auto t = item.find("type"); t != item.end()) {
      if (!t->is_string()) return invalid_argument(ctx + ".type must be a string");
      type = t->get<std::string>();
    }
    if (type == "function_call") {
      TRINITY_RETURN_IF_ERROR(add_function_call(item, ctx, assistant_open, out));
      if (!assistant_open) names.push_back(ctx);
      assistant_open = true;
      continue;
    }
    if (type == "function_call_output") {
      TRINITY_RETURN_IF_ERROR(add_function_call_output(item, ctx, out));
    } else if (type == "message") {
      if (item.value("role", Json()) == "tool")
        return invalid_argument(ctx +
                                ".role 'tool' is not supported in message items (a tool's "
                                "result is a function_call_output item)");
      TRINITY_ASSIGN_OR_RETURN(Message m, parse_message(item, ctx, kParts));
      out.push_back(std::move(m));
    } else {
      return unsupported(ctx + ".type '" + type +
                         "' is not supported (message, function_call and function_call_output "
                         "items only)");
    }
    names.push_back(ctx);
    assistant_open = out.back().role == "assistant";
  }
  return coord::check_tool_conversation(out, names, "call_id");
}

// `metadata`: at most 16 string pairs, keys up to 64 characters, values up to 512 (as OpenAI).
Result<OrderedJson> parse_metadata(const Json& m) {
  if (m.is_null()) return OrderedJson::object();
  if (!m.is_object()) return invalid_argument("metadata must be an object of strings");
  if (m.size() > 16) return invalid_argument("metadata has more than 16 keys");
  OrderedJson out = OrderedJson::object();
  for (auto it = m.begin(); it != m.end(); ++it) {
    if (it.key().size() > 64)
      return invalid_argument("metadata: a key is longer than 64 characters");
    if (!it->is_string() || it->get<std::string>().size() > 512)
      return invalid_argument("metadata." + it.key() + " must be a string of <= 512 characters");
    out[it.key()] = it->get<std::string>();
  }
  return out;
}

Result<bool> opt_bool(const Json& body, const char* key, bool fallback) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) return invalid_argument(std::string(key) + " must be a boolean");
  return it->get<bool>();
}

OrderedJson output_text_part(const std::string& text) {
  OrderedJson p;
  p["type"] = "output_text";
  p["text"] = text;
  p["annotations"] = OrderedJson::array();
  return p;
}

// {type, item_id, output_index: 0, content_index: 0} of the events on the one output_text part.
OrderedJson part_event(const char* type, const std::string& run_id) {
  OrderedJson e;
  e["type"] = type;
  e["item_id"] = message_item_id(run_id);
  e["output_index"] = 0;
  e["content_index"] = 0;
  return e;
}

OrderedJson item_event(const char* type, OrderedJson item, int output_index = 0) {
  OrderedJson e;
  e["type"] = type;
  e["output_index"] = output_index;
  e["item"] = std::move(item);
  return e;
}

// {type, item_id, output_index} of the argument events of function_call item `index`.
OrderedJson args_event(const char* type, const std::string& run_id, size_t index,
                       int output_index) {
  OrderedJson e;
  e["type"] = type;
  e["item_id"] = function_call_item_id(run_id, index);
  e["output_index"] = output_index;
  return e;
}

OrderedJson response_event(const char* type, OrderedJson response) {
  OrderedJson e;
  e["type"] = type;
  e["response"] = std::move(response);
  return e;
}

}  // namespace

Result<ResponsesRequest> parse_responses_request(const Json& body) {
  if (!body.is_object()) return invalid_argument("the request body must be a JSON object");
  ResponsesRequest r;
  auto model = body.find("model");
  if (model == body.end() || !model->is_string())
    return invalid_argument("model is required (use \"trinity\")");
  r.model = model->get<std::string>();
  if (auto p = body.find("previous_response_id"); p != body.end() && !p->is_null())
    return unsupported(
        "previous_response_id is not supported: this server stores no responses; send the whole "
        "conversation as input");
  if (auto ins = body.find("instructions"); ins != body.end() && !ins->is_null()) {
    if (!ins->is_string()) return invalid_argument("instructions must be a string");
    r.instructions = ins->get<std::string>();
    r.messages.push_back({"system", *r.instructions});
  }
  auto input = body.find("input");
  if (input == body.end() || input->is_null()) return invalid_argument("input is required");
  TRINITY_RETURN_IF_ERROR(parse_input(*input, r.messages));
  TRINITY_ASSIGN_OR_RETURN(r.stream, opt_bool(body, "stream", false));
  TRINITY_ASSIGN_OR_RETURN(r.max_output_tokens,
                           opt_positive_int(body, "max_output_tokens", "request", false));
  r.overrides.max_tokens = r.max_output_tokens;
  if (auto m = body.find("metadata"); m != body.end()) {
    TRINITY_ASSIGN_OR_RETURN(r.metadata, parse_metadata(*m));
  }
  TRINITY_ASSIGN_OR_RETURN(bool store, opt_bool(body, "store", false));
  (void)store;  // nothing is stored either way: the response says "store": false
  TRINITY_RETURN_IF_ERROR(parse_request_tools(body, ToolForm::kResponses, r.tools));
  TRINITY_RETURN_IF_ERROR(parse_run_fields(body, r));
  return r;
}

std::string response_id(const std::string& run_id) {
  return "resp_" + run_id;
}

std::string message_item_id(const std::string& run_id) {
  return "msg_" + run_id;
}

std::string function_call_item_id(const std::string& run_id, size_t index) {
  std::string id = "fc_";
  id += run_id;
  id += '_';
  id += std::to_string(index);
  return id;
}

OrderedJson function_call_item_json(const std::string& run_id, size_t index, const ToolCall& call,
                                    const char* status) {
  OrderedJson f;
  f["type"] = "function_call";
  f["id"] = function_call_item_id(run_id, index);
  f["call_id"] = call.id;
  f["name"] = call.name;
  f["arguments"] = call.arguments;
  f["status"] = status;
  return f;
}

OrderedJson responses_usage_json(const TokenUsage& u) {
  OrderedJson j;
  j["input_tokens"] = u.prompt_tokens;
  j["input_tokens_details"] = {{"cached_tokens", 0}};
  j["output_tokens"] = u.completion_tokens;
  j["output_tokens_details"] = {{"reasoning_tokens", 0}};
  j["total_tokens"] = u.prompt_tokens + u.completion_tokens;
  return j;
}

OrderedJson message_item_json(const std::string& run_id, const std::string* text,
                              const char* status) {
  OrderedJson m;
  m["type"] = "message";
  m["id"] = message_item_id(run_id);
  m["status"] = status;
  m["role"] = "assistant";
  m["content"] = OrderedJson::array();
  if (text) m["content"].push_back(output_text_part(*text));
  return m;
}

OrderedJson response_json(const ResponsesRequest& req, const ResponseView& v) {
  OrderedJson j;
  j["id"] = response_id(v.run_id);
  j["object"] = "response";
  j["created_at"] = v.created_at;
  j["status"] = v.status;
  j["model"] = kServedModel;
  j["output"] = OrderedJson::array();
  const bool calls = v.tool_calls && !v.tool_calls->empty();
  if (v.answer && (!v.answer->empty() || !calls))
    j["output"].push_back(message_item_json(v.run_id, v.answer, "completed"));
  for (size_t i = 0; calls && i < v.tool_calls->size(); ++i)
    j["output"].push_back(function_call_item_json(v.run_id, i, (*v.tool_calls)[i], "completed"));
  j["usage"] = v.usage ? responses_usage_json(*v.usage) : OrderedJson(nullptr);
  j["error"] = nullptr;
  if (v.error) j["error"] = {{"code", v.error->code}, {"message", v.error->message}};
  j["incomplete_details"] = nullptr;
  j["instructions"] = opt_json(req.instructions);
  j["metadata"] = req.metadata;
  j["parallel_tool_calls"] = req.tools.parallel_tool_calls.value_or(true);
  j["temperature"] = opt_json(req.overrides.temperature);
  j["tool_choice"] = responses_tool_choice_json(req.tools);
  j["tools"] = responses_tools_json(req.tools);  // the function tools (others are not forwarded)
  j["top_p"] = nullptr;
  j["max_output_tokens"] = opt_json(req.max_output_tokens);
  j["previous_response_id"] = nullptr;
  j["store"] = false;
  j["text"] = {{"format", {{"type", "text"}}}};
  j["truncation"] = "disabled";
  if (v.trinity) j["trinity"] = *v.trinity;
  return j;
}

std::vector<OrderedJson> response_start_events(const ResponsesRequest& req,
                                               const ResponseView& in_progress) {
  OrderedJson r = response_json(req, in_progress);
  return {response_event("response.created", r),
          response_event("response.in_progress", std::move(r))};
}

std::vector<OrderedJson> response_answer_events(const ResponsesRequest& req,
                                                const ResponseView& done,
                                                const std::vector<std::string>& deltas) {
  const std::string& text = *done.answer;
  const std::vector<ToolCall> none;
  const std::vector<ToolCall>& calls = done.tool_calls ? *done.tool_calls : none;
  std::vector<OrderedJson> ev;
  int output_index = 0;
  if (!text.empty() || calls.empty()) {
    ev.push_back(item_event("response.output_item.added",
                            message_item_json(done.run_id, nullptr, "in_progress")));
    OrderedJson added = part_event("response.content_part.added", done.run_id);
    added["part"] = output_text_part("");
    ev.push_back(std::move(added));
    for (const std::string& d : deltas) {
      OrderedJson e = part_event("response.output_text.delta", done.run_id);
      e["delta"] = d;
      e["logprobs"] = OrderedJson::array();
      ev.push_back(std::move(e));
    }
    OrderedJson text_done = part_event("response.output_text.done", done.run_id);
    text_done["text"] = text;
    text_done["logprobs"] = OrderedJson::array();
    ev.push_back(std::move(text_done));
    OrderedJson part_done = part_event("response.content_part.done", done.run_id);
    part_done["part"] = output_text_part(text);
    ev.push_back(std::move(part_done));
    ev.push_back(item_event("response.output_item.done",
                            message_item_json(done.run_id, &text, "completed")));
    ++output_index;
  }
  for (size_t i = 0; i < calls.size(); ++i, ++output_index) {
    OrderedJson pending = function_call_item_json(done.run_id, i, calls[i], "in_progress");
    pending["arguments"] = "";
    ev.push_back(item_event("response.output_item.added", std::move(pending), output_index));
    for (const std::string& d : split_deltas(calls[i].arguments)) {
      OrderedJson e =
          args_event("response.function_call_arguments.delta", done.run_id, i, output_index);
      e["delta"] = d;
      ev.push_back(std::move(e));
    }
    OrderedJson args_done =
        args_event("response.function_call_arguments.done", done.run_id, i, output_index);
    args_done["name"] = calls[i].name;
    args_done["arguments"] = calls[i].arguments;
    ev.push_back(std::move(args_done));
    ev.push_back(item_event("response.output_item.done",
                            function_call_item_json(done.run_id, i, calls[i], "completed"),
                            output_index));
  }
  ev.push_back(response_event("response.completed", response_json(req, done)));
  return ev;
}

OrderedJson response_failed_event(const ResponsesRequest& req, const ResponseView& failed) {
  return response_event("response.failed", response_json(req, failed));
}

OrderedJson trinity_progress_event(OrderedJson progress) {
  OrderedJson e;
  e["type"] = "trinity.progress";
  e["trinity"] = std::move(progress);
  return e;
}

std::string ResponseEventSequence::sse(OrderedJson event) {
  const std::string type = event.value("type", "");
  event["sequence_number"] = next_.fetch_add(1);
  return "event: " + type +
         "\ndata: " + event.dump(-1, ' ', false, OrderedJson::error_handler_t::replace) + "\n\n";
}

}  // namespace trinity::server
