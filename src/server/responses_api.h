// OpenAI Responses API wire format of `trinity serve` (POST /v1/responses): the request in, the
// response object and its streaming events out (see docs/server.md, "Responses API").
//
// Output: a `message` item with the answer's text (when it has text, or no tool calls), then one
// `function_call` item per tool call of the answer ({id: "fc_<run id>_<i>", call_id, name,
// arguments}).
//
// Stream: response.created, response.in_progress, trinity.progress (run_started, then per turn
// and verdict), then on success trinity.progress (run_finished) and per output item:
//   message:       response.output_item.added, response.content_part.added,
//                  response.output_text.delta..., response.output_text.done,
//                  response.content_part.done, response.output_item.done (the whole item);
//   function_call: response.output_item.added (arguments ""),
//                  response.function_call_arguments.delta..., .done, response.output_item.done;
// then response.completed (the response with its id, output and usage); on failure
// response.failed. Every event has `type` and a `sequence_number` counting from 0.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/openai_api.h"

namespace trinity::server {

struct ResponsesRequest : RunRequest {
  std::string model;
  std::vector<Message> messages;  // `instructions` (as a system message), then `input`
  bool stream = false;
  // Echoed in the response object.
  std::optional<std::string> instructions;
  std::optional<int64_t> max_output_tokens;  // also in overrides.max_tokens
  OrderedJson metadata = OrderedJson::object();
};

// Parses and validates a /v1/responses body (not the model name: the caller maps an unknown model
// to 404). Errors name the field path (`input[2].content[0].type`); kUnsupported for what this
// server does not do (previous_response_id, item types other than message, function_call and
// function_call_output), kInvalidArgument for bad shapes. A function_call item joins the
// assistant message just before it (or starts one); a function_call_output is a tool message
// and must answer an earlier call (`input[i].call_id`). Fields of real clients that do not change
// a coordinated run (include, reasoning, text, user, truncation, ...) are ignored.
Result<ResponsesRequest> parse_responses_request(const Json& body);

// What a response object says about its run.
struct ResponseView {
  std::string run_id;
  int64_t created_at = 0;
  std::string status = "in_progress";                 // in_progress, completed, failed
  const std::string* answer = nullptr;                // completed: the text of the output message
  const std::vector<ToolCall>* tool_calls = nullptr;  // completed: the function_call items
  const TokenUsage* usage = nullptr;                  // null: "usage": null
  const ApiError* error = nullptr;                    // failed: "error": {code, message}
  const OrderedJson* trinity = nullptr;               // the extension object (absent when null)
};

// "resp_<run_id>" / "msg_<run_id>" / "fc_<run_id>_<index>"
std::string response_id(const std::string& run_id);
std::string message_item_id(const std::string& run_id);
std::string function_call_item_id(const std::string& run_id, size_t index);
// {type: function_call, id, call_id, name, arguments, status}
OrderedJson function_call_item_json(const std::string& run_id, size_t index, const ToolCall& call,
                                    const char* status);

// {input_tokens, output_tokens, total_tokens, input_tokens_details, output_tokens_details}
OrderedJson responses_usage_json(const TokenUsage& u);
// The assistant's output message item: {type: message, id, status, role, content: [...]}, with
// one output_text part holding `text` (no part when text is null: an item just added).
OrderedJson message_item_json(const std::string& run_id, const std::string* text,
                              const char* status);
// The response object (object: "response").
OrderedJson response_json(const ResponsesRequest& req, const ResponseView& v);

// Stream events, without their sequence numbers (ResponseEventSequence adds them).
// response.created, response.in_progress (the response in_progress, no output).
std::vector<OrderedJson> response_start_events(const ResponsesRequest& req,
                                               const ResponseView& in_progress);
// From the first response.output_item.added to response.completed; `deltas` concatenate to
// *done.answer.
std::vector<OrderedJson> response_answer_events(const ResponsesRequest& req,
                                                const ResponseView& done,
                                                const std::vector<std::string>& deltas);
// response.failed (the response with status failed and its error).
OrderedJson response_failed_event(const ResponsesRequest& req, const ResponseView& failed);
// trinity.progress: {type, trinity: {run_id, event, ...}} (the chat stream's extension object).
OrderedJson trinity_progress_event(OrderedJson progress);

// Numbers a stream's events 0, 1, 2, ... in the order they are serialized, as
// "event: <type>\ndata: <json>\n\n". Safe to call from the run's thread and the writer's.
class ResponseEventSequence {
 public:
  std::string sse(OrderedJson event);

 private:
  std::atomic<int64_t> next_{0};
};

}  // namespace trinity::server
