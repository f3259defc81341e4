// Unit tests of the Responses API codec of `trinity serve`: request parsing, the response object
// and the stream's events.
#include <gtest/gtest.h>

#include "server/responses_api.h"

namespace trinity::server {
namespace {

Result<ResponsesRequest> parse(const char* text) {
  return parse_responses_request(Json::parse(text));
}

// The error message of a body that must be rejected with `code`.
std::string rejected(const char* text, ErrorCode code = ErrorCode::kInvalidArgument) {
  auto r = parse(text);
  EXPECT_FALSE(r.ok()) << text;
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), code) << r.status().message();
  return r.status().message();
}

TEST(ResponsesApi, StringInputInstructionsAndFields) {
  auto r = parse(R"({
    "model": "trinity", "input": "What is 6 times 7?", "instructions": "Be brief.",
    "stream": true, "max_output_tokens": 64, "temperature": 0.5, "store": true,
    "metadata": {"ticket": "T-1"}, "parallel_tool_calls": false,
    "trinity": {"max_turns": 3, "cold_verifier": "error",
                "budgets": {"max_provider_calls": 4, "max_estimated_cost_usd": 0.5}}})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->model, "trinity");
  ASSERT_EQ(r->messages.size(), 2u);
  EXPECT_EQ(r->messages[0], (Message{"system", "Be brief."}));
  EXPECT_EQ(r->messages[1], (Message{"user", "What is 6 times 7?"}));
  EXPECT_TRUE(r->stream);
  EXPECT_EQ(r->instructions, "Be brief.");
  EXPECT_EQ(r->max_output_tokens, 64);
  EXPECT_EQ(r->overrides.max_tokens, 64);
  EXPECT_EQ(r->overrides.temperature, 0.5);
  EXPECT_EQ(r->metadata, OrderedJson({{"ticket", "T-1"}}));
  EXPECT_EQ(r->tools.parallel_tool_calls, false);
  EXPECT_EQ(r->max_turns, 3);
  EXPECT_EQ(r->cold_verifier, coord::ColdVerifier::kError);
  EXPECT_EQ(r->budgets.max_provider_calls, 4);
  EXPECT_EQ(r->budgets.max_estimated_cost_micro_usd, 500000);
}

TEST(ResponsesApi, MessageItemsAsCodexAndOpenCodeSendThem) {
  // Codex: typed items, a developer message, input_text parts, and fields that do not change a
  // coordinated run. OpenCode: untyped {role, content} items, a system message.
  auto r = parse(R"({
    "model": "trinity", "store": false, "include": ["reasoning.encrypted_content"],
    "reasoning": {"effort": "medium"}, "parallel_tool_calls": true, "prompt_cache_key": "k",
    "text": {"format": {"type": "text"}}, "tool_choice": "auto", "user": "u",
    "truncation": "auto", "service_tier": "auto",
    "tools": [{"type": "function", "name": "exec_command", "parameters": {}}],
    "input": [
      {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "d"}]},
      {"role": "system", "content": "s"},
      {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "a"},
                                                       {"type": "text", "text": "b"}]},
      {"type": "message", "role": "assistant", "id": "msg_1", "status": "completed",
       "content": [{"type": "output_text", "text": "earlier", "annotations": []}]},
      {"role": "user", "content": "next"}]})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->messages.size(), 5u);
  EXPECT_EQ(r->messages[0], (Message{"system", "d"}));
  EXPECT_EQ(r->messages[1], (Message{"system", "s"}));
  EXPECT_EQ(r->messages[2], (Message{"user", "a\nb"}));
  EXPECT_EQ(r->messages[3], (Message{"assistant", "earlier"}));
  EXPECT_EQ(r->messages[4], (Message{"user", "next"}));
  EXPECT_FALSE(r->stream);
  EXPECT_FALSE(r->instructions.has_value());
  EXPECT_TRUE(r->overrides.empty());
}

TEST(ResponsesApi, RejectsBadShapesNamingTheField) {
  EXPECT_NE(rejected(R"({"input": "x"})").find("model"), std::string::npos);
  EXPECT_NE(rejected(R"({"model": "trinity"})").find("input is required"), std::string::npos);
  EXPECT_NE(rejected(R"({"model": "trinity", "input": []})").find("empty"), std::string::npos);
  EXPECT_NE(rejected(R"({"model": "trinity", "input": 5})").find("input must be"),
            std::string::npos);
  EXPECT_NE(rejected(R"({"model": "trinity", "input": ["x"]})").find("input[0] must be"),
            std::string::npos);
  EXPECT_NE(rejected(R"({"model": "trinity", "input": [{"content": "x"}]})").find("input[0].role"),
            std::string::npos);
  EXPECT_NE(rejected(R"({"model": "trinity", "input": [{"role": "tool", "content": "x"}]})")
                .find("input[0].role 'tool'"),
            std::string::npos);
  EXPECT_NE(rejected(R"({"model": "trinity", "input": [
                {"role": "user", "content": "a"}, {"role": "user", "content": "b"},
                {"role": "user", "content": [{"type": "input_image", "image_url": "x"}]}]})")
                .find("input[2].content[0].type 'input_image' is not supported"),
            std::string::npos);
  EXPECT_NE(
      rejected(
          R"({"model": "trinity", "input": [{"role": "user", "content": [{"type": "input_text"}]}]})")
          .find("input[0].content[0].text"),
      std::string::npos);
  EXPECT_NE(
      rejected(R"({"model": "trinity", "input": "x", "instructions": 1})").find("instructions"),
      std::string::npos);
  EXPECT_NE(rejected(R"({"model": "trinity", "input": "x", "max_output_tokens": 0})")
                .find("max_output_tokens"),
            std::string::npos);
  EXPECT_NE(rejected(R"({"model": "trinity", "input": "x", "temperature": 3})").find("temperature"),
            std::string::npos);
  EXPECT_NE(rejected(R"({"model": "trinity", "input": "x", "stream": "yes"})").find("stream"),
            std::string::npos);
  EXPECT_NE(rejected(R"({"model": "trinity", "input": "x", "store": 1})").find("store"),
            std::string::npos);
  EXPECT_NE(
      rejected(R"({"model": "trinity", "input": "x", "metadata": {"k": 1}})").find("metadata.k"),
      std::string::npos);
  EXPECT_NE(rejected(R"({"model": "trinity", "input": "x",
                         "trinity": {"budgets": {"max_wall_time_ms": -1}}})")
                .find("trinity.budgets.max_wall_time_ms"),
            std::string::npos);
  EXPECT_NE(rejected(R"({"model": "trinity", "input": "x", "trinity": {"cold_verifier": "maybe"}})")
                .find("trinity.cold_verifier"),
            std::string::npos);
}

TEST(ResponsesApi, FunctionCallItemsBecomeToolCallsAndResults) {
  // Codex's second request: the call it got, echoed back, then its output.
  auto r = parse(R"({"model": "trinity", "input": [
      {"role": "user", "content": "list files"},
      {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "ok"}]},
      {"type": "function_call", "call_id": "c1", "name": "exec_command", "arguments": "{}"},
      {"type": "function_call", "id": "fc_1", "call_id": "c2", "name": "exec_command",
       "arguments": "{\"cmd\": \"ls\"}"},
      {"type": "function_call_output", "call_id": "c1", "output": "a b"},
      {"type": "function_call_output", "call_id": "c2",
       "output": [{"type": "input_text", "text": "x"}, {"type": "input_text", "text": "y"}]},
      {"role": "user", "content": "and now"},
      {"type": "function_call", "call_id": "c3", "name": "exec_command", "arguments": ""},
      {"type": "function_call_output", "call_id": "c3", "output": "z"}]})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->messages.size(), 7u);
  EXPECT_EQ(r->messages[1],
            (Message{"assistant",
                     "ok",
                     {{"c1", "exec_command", "{}"}, {"c2", "exec_command", R"({"cmd": "ls"})"}}}));
  EXPECT_EQ(r->messages[2], (Message{"tool", "a b", {}, "c1"}));
  EXPECT_EQ(r->messages[3], (Message{"tool", "x\ny", {}, "c2"}));
  // Empty arguments (a function without parameters) read as {}.
  EXPECT_EQ(r->messages[5], (Message{"assistant", "", {{"c3", "exec_command", "{}"}}}));
  EXPECT_EQ(r->messages[6], (Message{"tool", "z", {}, "c3"}));
  // Bad items name the field.
  EXPECT_NE(rejected(R"({"model": "trinity", "input": [
      {"type": "function_call_output", "call_id": "c1", "output": "a b"}]})")
                .find("input[0].call_id 'c1' matches no earlier tool call"),
            std::string::npos);
  EXPECT_NE(rejected(R"({"model": "trinity", "input": [
      {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{oops"}]})")
                .find("input[0]: the arguments of tool call 'f' are not valid JSON"),
            std::string::npos);
  EXPECT_NE(rejected(R"({"model": "trinity", "input": [
      {"type": "function_call", "name": "f", "arguments": "{}"}]})")
                .find("input[0].call_id must be a non-empty string"),
            std::string::npos);
  // Every call needs its result right after it; a call id is used once.
  EXPECT_NE(rejected(R"({"model": "trinity", "input": [{"role": "user", "content": "a"},
      {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
      {"role": "user", "content": "b"}]})")
                .find("input[1]: tool call 'c1' has no tool result"),
            std::string::npos);
  EXPECT_NE(rejected(R"({"model": "trinity", "input": [{"role": "user", "content": "a"},
      {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
      {"type": "function_call_output", "call_id": "c1", "output": "x"},
      {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
      {"type": "function_call_output", "call_id": "c1", "output": "x"}]})")
                .find("input[3].tool_calls[0]: the call id 'c1' is used twice"),
            std::string::npos);
  EXPECT_NE(rejected(R"({"model": "trinity", "input": [{"role": "user", "content": "a"},
      {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
      {"type": "function_call_output", "call_id": "c1", "output": [{"type": "image"}]}]})")
                .find("input[2].output[0].type 'image'"),
            std::string::npos);
}

TEST(ResponsesApi, OtherItemTypesAndPreviousResponseAreUnsupported) {
  EXPECT_NE(rejected(R"({"model": "trinity", "input": [{"type": "reasoning", "summary": []}]})",
                     ErrorCode::kUnsupported)
                .find("input[0].type 'reasoning'"),
            std::string::npos);
  EXPECT_NE(rejected(R"({"model": "trinity", "input": "x", "previous_response_id": "resp_1"})",
                     ErrorCode::kUnsupported)
                .find("previous_response_id"),
            std::string::npos);
  // null is the same as absent.
  EXPECT_TRUE(parse(R"({"model": "trinity", "input": "x", "previous_response_id": null,
                        "instructions": null, "metadata": null, "temperature": null})")
                  .ok());
}

ResponsesRequest simple_request() {
  auto r = parse(R"({"model": "trinity", "input": "q", "instructions": "Be brief.",
                     "temperature": 0.25, "metadata": {"a": "b"}})");
  EXPECT_TRUE(r.ok());
  return *r;
}

TEST(ResponsesApi, CompletedResponseObject) {
  const ResponsesRequest req = simple_request();
  const std::string answer = "forty-two";
  const TokenUsage usage{10, 3};
  const OrderedJson ext = {{"run_id", "abc"}, {"status", "accepted"}};
  const ResponseView v{"abc", 1700000000, "completed", &answer, nullptr, &usage, nullptr, &ext};
  const OrderedJson j = response_json(req, v);
  EXPECT_EQ(j["id"], "resp_abc");
  EXPECT_EQ(j["object"], "response");
  EXPECT_EQ(j["created_at"], 1700000000);
  EXPECT_EQ(j["status"], "completed");
  EXPECT_EQ(j["model"], "trinity");
  ASSERT_EQ(j["output"].size(), 1u);
  const OrderedJson& item = j["output"][0];
  EXPECT_EQ(item["type"], "message");
  EXPECT_EQ(item["id"], "msg_abc");
  EXPECT_EQ(item["status"], "completed");
  EXPECT_EQ(item["role"], "assistant");
  ASSERT_EQ(item["content"].size(), 1u);
  EXPECT_EQ(item["content"][0], OrderedJson({{"type", "output_text"},
                                             {"text", answer},
                                             {"annotations", OrderedJson::array()}}));
  EXPECT_FALSE(j.contains("output_text"));  // the SDK computes it; not a field of the API
  const OrderedJson& u = j["usage"];
  EXPECT_EQ(u["input_tokens"], 10);
  EXPECT_EQ(u["output_tokens"], 3);
  EXPECT_EQ(u["total_tokens"], 13);
  EXPECT_EQ(u["input_tokens_details"]["cached_tokens"], 0);
  EXPECT_EQ(u["output_tokens_details"]["reasoning_tokens"], 0);
  EXPECT_TRUE(j["error"].is_null());
  EXPECT_TRUE(j["incomplete_details"].is_null());
  EXPECT_EQ(j["instructions"], "Be brief.");
  EXPECT_EQ(j["metadata"], OrderedJson({{"a", "b"}}));
  EXPECT_EQ(j["parallel_tool_calls"], true);
  EXPECT_EQ(j["temperature"], 0.25);
  EXPECT_EQ(j["tool_choice"], "auto");
  EXPECT_EQ(j["tools"], OrderedJson::array());  // no tools in the request
  EXPECT_TRUE(j["top_p"].is_null());
  EXPECT_TRUE(j["max_output_tokens"].is_null());
  EXPECT_TRUE(j["previous_response_id"].is_null());
  EXPECT_EQ(j["store"], false);
  EXPECT_EQ(j["text"]["format"]["type"], "text");
  EXPECT_EQ(j["truncation"], "disabled");
  EXPECT_EQ(j["trinity"], ext);
}

TEST(ResponsesApi, InProgressAndFailedResponseObjects) {
  const ResponsesRequest req = simple_request();
  ResponseView v;
  v.run_id = "abc";
  const OrderedJson running = response_json(req, v);
  EXPECT_EQ(running["status"], "in_progress");
  EXPECT_EQ(running["output"], OrderedJson::array());
  EXPECT_TRUE(running["usage"].is_null());
  EXPECT_FALSE(running.contains("trinity"));

  const ApiError e{422, "coordination_error", "max_turns_reached", "no answer"};
  const OrderedJson ext = {{"status", "failed"}};
  v.status = "failed";
  v.error = &e;
  v.trinity = &ext;
  const OrderedJson failed = response_failed_event(req, v);
  EXPECT_EQ(failed["type"], "response.failed");
  EXPECT_EQ(failed["response"]["status"], "failed");
  EXPECT_EQ(failed["response"]["error"],
            OrderedJson({{"code", "max_turns_reached"}, {"message", "no answer"}}));
  EXPECT_EQ(failed["response"]["output"], OrderedJson::array());
  EXPECT_EQ(failed["response"]["trinity"], ext);
}

TEST(ResponsesApi, StreamEventsInStandardOrder) {
  const ResponsesRequest req = simple_request();
  ResponseView v;
  v.run_id = "abc";
  std::vector<OrderedJson> events = response_start_events(req, v);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["type"], "response.created");
  EXPECT_EQ(events[1]["type"], "response.in_progress");
  EXPECT_EQ(events[0]["response"]["status"], "in_progress");

  const std::string answer = "one two three";
  const TokenUsage usage{5, 2};
  v.status = "completed";
  v.answer = &answer;
  v.usage = &usage;
  std::vector<OrderedJson> tail = response_answer_events(req, v, {"one ", "two ", "three"});
  std::vector<std::string> types;
  for (const auto& e : tail) types.push_back(e["type"]);
  EXPECT_EQ(
      types,
      (std::vector<std::string>{
          "response.output_item.added", "response.content_part.added", "response.output_text.delta",
          "response.output_text.delta", "response.output_text.delta", "response.output_text.done",
          "response.content_part.done", "response.output_item.done", "response.completed"}));
  EXPECT_EQ(tail[0]["item"]["status"], "in_progress");
  EXPECT_EQ(tail[0]["item"]["content"], OrderedJson::array());
  EXPECT_EQ(tail[1]["part"]["text"], "");
  for (size_t i = 1; i <= 6; ++i) {
    EXPECT_EQ(tail[i]["item_id"], "msg_abc");
    EXPECT_EQ(tail[i]["output_index"], 0);
    EXPECT_EQ(tail[i]["content_index"], 0);
  }
  EXPECT_EQ(tail[2]["delta"], "one ");
  EXPECT_EQ(tail[5]["text"], answer);
  EXPECT_EQ(tail[6]["part"]["text"], answer);
  EXPECT_EQ(tail[7]["item"], tail[8]["response"]["output"][0]);
  EXPECT_EQ(tail[8]["response"]["usage"]["total_tokens"], 7);

  ResponseEventSequence seq;
  EXPECT_EQ(seq.sse(events[0]).rfind("event: response.created\ndata: {\"type\":", 0), 0u);
  const std::string second = seq.sse(trinity_progress_event({{"event", "run_started"}}));
  EXPECT_EQ(second,
            "event: trinity.progress\ndata: {\"type\":\"trinity.progress\",\"trinity\":"
            "{\"event\":\"run_started\"},\"sequence_number\":1}\n\n");
}

}  // namespace
}  // namespace trinity::server
