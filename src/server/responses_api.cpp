#include "server/responses_api.h"

namespace trinity::server {
namespace {

// `input`: a string (one user message) or an array of message items.
Status parse_input(const Json& input, std::vector<Message>& out) {
  if (input.is_string()) {
    out.push_back({"user", input.get<std::string>()});
    return ok_status();
  }
  if (!input.is_array()) return invalid_argument("input must be a string or an array of items");
  if (input.empty()) return invalid_argument("input must not be empty");
  static const std::vector<std::string> kParts = {"input_text", "output_text", "text"};
  for (size_t i = 0; i < input.size(); ++i) {
    const std::string ctx = "input[" + std::to_string(i) + "]";
    const Json& item = input[i];
    if (!item.is_object()) return invalid_argument(ctx + " must be an object");
    std::string type = "message";  // EasyInputMessage: {role, content} with no type
    if (auto t = item.find("type"); t != item.end()) {
      if (!t->is_string()) return invalid_argument(ctx + ".type must be a string");
      type = t->get<std::string>();
    }
    if (type == "function_call" || type == "function_call_output")
      return unsupported(ctx + ": items of type '" + type +
                         "' are not supported yet (this server does not call tools)");
    if (type != "message")
      return unsupported(ctx + ".type '" + type + "' is not supported (message items only)");
    TRINITY_ASSIGN_OR_RETURN(Message m, parse_message(item, ctx, kParts));
    out.push_back(std::move(m));
  }
  return ok_status();
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

OrderedJson item_event(const char* type, OrderedJson item) {
  OrderedJson e;
  e["type"] = type;
  e["output_index"] = 0;
  e["item"] = std::move(item);
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
  TRINITY_ASSIGN_OR_RETURN(r.parallel_tool_calls, opt_bool(body, "parallel_tool_calls", true));
  TRINITY_RETURN_IF_ERROR(parse_run_fields(body, r));
  return r;
}

std::string response_id(const std::string& run_id) {
  return "resp_" + run_id;
}

std::string message_item_id(const std::string& run_id) {
  return "msg_" + run_id;
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
  if (v.answer) j["output"].push_back(message_item_json(v.run_id, v.answer, "completed"));
  j["usage"] = v.usage ? responses_usage_json(*v.usage) : OrderedJson(nullptr);
  j["error"] = nullptr;
  if (v.error) j["error"] = {{"code", v.error->code}, {"message", v.error->message}};
  j["incomplete_details"] = nullptr;
  j["instructions"] = opt_json(req.instructions);
  j["metadata"] = req.metadata;
  j["parallel_tool_calls"] = req.parallel_tool_calls;
  j["temperature"] = opt_json(req.overrides.temperature);
  j["tool_choice"] = "auto";
  j["tools"] = OrderedJson::array();  // tools in the request are not used (yet)
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
  std::vector<OrderedJson> ev;
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
  ev.push_back(
      item_event("response.output_item.done", message_item_json(done.run_id, &text, "completed")));
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
