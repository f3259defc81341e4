// Tool calls and tool results through the provider codecs, both ways, on recorded bodies: what
// an OpenAI-compatible server and Anthropic's Messages API are sent (tools, calls, results in
// their native forms) and what is read back from their replies (ids kept, arguments byte for
// byte, malformed arguments a typed error).
#include <gtest/gtest.h>

#include "coord/provider.h"

namespace trinity::coord {
namespace {

ToolSet one_tool(ToolChoice choice = {}, std::optional<bool> parallel = std::nullopt) {
  ToolSet t;
  ToolSpec s;
  s.name = "exec_command";
  s.description = "Run a command";
  s.parameters = Json::parse(R"({"type":"object","properties":{"cmd":{"type":"string"}}})");
  t.tools = {s};
  t.choice = std::move(choice);
  t.parallel_tool_calls = parallel;
  return t;
}

// A conversation after one tool round trip: two calls, two results, then the user again.
std::vector<Message> round_trip() {
  return {{"system", "Be brief."},
          {"user", "Count the files."},
          {"assistant",
           "Checking.",
           {{"call_a", "exec_command", R"({"cmd":"ls"})"},
            {"call_b", "exec_command", R"({"cmd": "pwd"})"}}},
          {"tool", "a.txt\nb.txt", {}, "call_a"},
          {"tool", "/work", {}, "call_b"},
          {"user", "And now?"}};
}

ProviderSpec spec(const char* provider, const char* model) {
  ProviderSpec s;
  s.provider = provider;
  s.model = model;
  s.max_tokens = 256;
  return s;
}

TEST(ToolCodec, OpenAiRequestCarriesToolsCallsAndResultsNatively) {
  const ToolSet tools = one_tool({ToolChoice::Mode::kFunction, "exec_command"}, false);
  const Json body =
      Json::parse(openai_request_body(spec("openai", "gpt-4o-mini"), round_trip(), &tools));
  const Json expected = Json::parse(R"({
    "model": "gpt-4o-mini", "max_tokens": 256, "stream": false,
    "messages": [
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": "Count the files."},
      {"role": "assistant", "content": "Checking.", "tool_calls": [
        {"id": "call_a", "type": "function", "function": {"name": "exec_command", "arguments": "{\"cmd\":\"ls\"}"}},
        {"id": "call_b", "type": "function", "function": {"name": "exec_command", "arguments": "{\"cmd\": \"pwd\"}"}}]},
      {"role": "tool", "content": "a.txt\nb.txt", "tool_call_id": "call_a"},
      {"role": "tool", "content": "/work", "tool_call_id": "call_b"},
      {"role": "user", "content": "And now?"}],
    "tools": [{"type": "function", "function": {"name": "exec_command", "description": "Run a command",
               "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}}}}],
    "tool_choice": {"type": "function", "function": {"name": "exec_command"}},
    "parallel_tool_calls": false})");
  EXPECT_EQ(body, expected) << body.dump(2);
  // A call-only assistant message goes out with content null; without tools no tool fields.
  auto only_call = round_trip();
  only_call[2].content = "";
  const Json b2 = Json::parse(openai_request_body(spec("openai", "m"), only_call, &tools));
  EXPECT_TRUE(b2["messages"][2]["content"].is_null());
  const Json b3 = Json::parse(openai_request_body(spec("openai", "m"), {{"user", "hi"}}));
  EXPECT_FALSE(b3.contains("tools"));
  EXPECT_FALSE(b3.contains("tool_choice"));
}

TEST(ToolCodec, OpenAiReplyToolCallsKeepIdsAndArgumentsByteForByte) {
  // Recorded from an OpenAI-compatible server (vLLM style: content null, spaces in arguments).
  const std::string recorded = R"({"id":"chatcmpl-9","object":"chat.completion","created":1,
    "model":"qwen","choices":[{"index":0,"message":{"role":"assistant","content":null,
    "tool_calls":[{"id":"call_Xy1","type":"function","function":{"name":"exec_command",
    "arguments":"{\"cmd\": \"ls -la\",  \"note\": \"\u00e9\"}"}}]},"finish_reason":"tool_calls"}],
    "usage":{"prompt_tokens":120,"completion_tokens":17,"total_tokens":137}})";
  auto r = parse_openai_response(recorded);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->text, "");
  ASSERT_EQ(r->tool_calls.size(), 1u);
  EXPECT_EQ(r->tool_calls[0].id, "call_Xy1");
  EXPECT_EQ(r->tool_calls[0].name, "exec_command");
  EXPECT_EQ(r->tool_calls[0].arguments, "{\"cmd\": \"ls -la\",  \"note\": \"\xc3\xa9\"}");
  EXPECT_EQ(r->output_tokens, 17);
  // Text and calls together; a call without an id keeps "" (the orchestrator generates one).
  auto both = parse_openai_response(
      R"({"choices":[{"message":{"content":"Let me look.","tool_calls":[{"type":"function",)"
      R"("function":{"name":"exec_command","arguments":"{}"}}]}}]})");
  ASSERT_TRUE(both.ok()) << both.status().message();
  EXPECT_EQ(both->text, "Let me look.");
  EXPECT_EQ(both->tool_calls[0].id, "");
}

TEST(ToolCodec, MalformedToolCallsAreTypedParseErrors) {
  const char* bad[] = {
      R"({"choices":[{"message":{"content":null,"tool_calls":[{"id":"c","function":{"name":"f","arguments":"{\"cmd\": "}}]}}]})",
      R"({"choices":[{"message":{"content":null,"tool_calls":[{"id":"c","function":{"name":"f","arguments":"[1]"}}]}}]})",
      R"({"choices":[{"message":{"content":null,"tool_calls":[{"id":"c","function":{"name":"f","arguments":{"cmd":"ls"}}}]}}]})",
      R"({"choices":[{"message":{"content":null,"tool_calls":[{"id":"c","function":{"arguments":"{}"}}]}}]})",
      R"({"choices":[{"message":{"content":null,"tool_calls":{"id":"c"}}}]})",
      R"({"choices":[{"message":{"content":null,"tool_calls":[]}}]})",
  };
  for (const char* body : bad) {
    auto r = parse_openai_response(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().code(), ErrorCode::kParse) << body;
  }
  auto anth = parse_anthropic_response(
      R"({"content":[{"type":"tool_use","id":"toolu_1","name":"f","input":"ls"}]})");
  ASSERT_FALSE(anth.ok());
  EXPECT_EQ(anth.status().code(), ErrorCode::kParse);
  EXPECT_NE(anth.status().message().find("not a JSON object"), std::string::npos);
}

TEST(ToolCodec, AnthropicRequestUsesToolUseAndToolResultBlocks) {
  const ToolSet tools = one_tool({ToolChoice::Mode::kRequired, ""}, false);
  const Json body = Json::parse(
      anthropic_request_body(spec("anthropic", "claude-sonnet-4-5"), round_trip(), &tools));
  const Json expected = Json::parse(R"({
    "model": "claude-sonnet-4-5", "max_tokens": 256, "system": "Be brief.",
    "messages": [
      {"role": "user", "content": "Count the files."},
      {"role": "assistant", "content": [
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "call_a", "name": "exec_command", "input": {"cmd": "ls"}},
        {"type": "tool_use", "id": "call_b", "name": "exec_command", "input": {"cmd": "pwd"}}]},
      {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "call_a", "content": "a.txt\nb.txt"},
        {"type": "tool_result", "tool_use_id": "call_b", "content": "/work"},
        {"type": "text", "text": "And now?"}]}],
    "tools": [{"name": "exec_command", "description": "Run a command",
               "input_schema": {"type": "object", "properties": {"cmd": {"type": "string"}}}}],
    "tool_choice": {"type": "any", "disable_parallel_tool_use": true}})");
  EXPECT_EQ(body, expected) << body.dump(2);
  // Plain conversations keep string contents (unchanged from before tools).
  const Json plain = Json::parse(
      anthropic_request_body(spec("anthropic", "m"), {{"user", "hi"}, {"assistant", "yo"}}));
  EXPECT_EQ(plain["messages"][0]["content"], "hi");
  EXPECT_FALSE(plain.contains("tools"));
}

TEST(ToolCodec, AnthropicReplyToolUseBecomesAToolCall) {
  // Recorded from the Messages API (stop_reason tool_use, text before the call).
  const std::string recorded = R"({"id":"msg_01","type":"message","role":"assistant",
    "model":"claude-sonnet-4-5","content":[{"type":"text","text":"I'll list them."},
    {"type":"tool_use","id":"toolu_01A","name":"exec_command","input":{"cmd":"ls -la"}}],
    "stop_reason":"tool_use","usage":{"input_tokens":310,"output_tokens":52}})";
  auto r = parse_anthropic_response(recorded);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->text, "I'll list them.");
  ASSERT_EQ(r->tool_calls.size(), 1u);
  EXPECT_EQ(r->tool_calls[0], (ToolCall{"toolu_01A", "exec_command", R"({"cmd":"ls -la"})"}));
  EXPECT_EQ(r->input_tokens, 310);
  auto only = parse_anthropic_response(
      R"({"content":[{"type":"tool_use","id":"toolu_2","name":"f","input":{}}]})");
  ASSERT_TRUE(only.ok()) << only.status().message();
  EXPECT_EQ(only->tool_calls[0].arguments, "{}");
}

}  // namespace
}  // namespace trinity::coord
