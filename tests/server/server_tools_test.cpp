// Tools over HTTP with the mock pool (coord/tools.h, server/tool_wire.h): tool calls out and tool
// results back in on both run endpoints, streamed and not; the bad inputs; agent exclusions.
#include <unistd.h>

#include <filesystem>

#include "server/server_test_util.h"
#include "store/run_store.h"

namespace trinity::server::testing {
namespace {

const json kBashTool = json::parse(R"({"type": "function", "function": {"name": "bash",
  "description": "Run a shell command", "parameters": {"type": "object",
  "properties": {"command": {"type": "string"}, "description": {"type": "string"}},
  "required": ["command"]}}})");
const json kExecTool = json::parse(R"({"type": "function", "name": "exec_command",
  "description": "Run a command", "parameters": {"type": "object",
  "properties": {"cmd": {"type": "string"}}, "required": ["cmd"]}})");
const char* kMockArgs = R"j({"command":"echo trinity-tool-$((40+2))"})j";

// The JSON payload of every SSE event (Chat "data: ..." and Responses "event: ...\ndata: ...").
std::vector<json> sse_payloads(const std::string& body) {
  std::vector<json> out;
  for (const std::string& block : sse_blocks(body)) {
    const size_t data = block.find("data: ");
    if (data == std::string::npos || block.compare(data + 6, 6, "[DONE]") == 0) continue;
    out.push_back(json::parse(block.substr(data + 6)));
  }
  return out;
}

class ServerToolsTest : public ::testing::Test {
 protected:
  void SetUp() override { start(test_config()); }
  void start(ServerConfig cfg) {
    ts_ =
        std::make_unique<TestServer>(std::move(cfg), std::make_shared<TurnRouter>(), mock_pools());
  }
  HttpResult chat(const json& body) { return post(ts_->url("/v1/chat/completions"), body.dump()); }
  HttpResult responses(const json& body) { return post(ts_->url("/v1/responses"), body.dump()); }
  static json chat_request(json messages, bool stream = false) {
    return {{"model", "trinity"},
            {"messages", std::move(messages)},
            {"tools", json::array({kBashTool, {{"type", "web_search"}}})},
            {"stream", stream}};
  }
  std::unique_ptr<TestServer> ts_;
};

TEST_F(ServerToolsTest, ChatToolCallThenToolResult) {
  HttpResult first = chat(chat_request(json::array({{{"role", "user"}, {"content", "ls"}}})));
  ASSERT_EQ(first.status, 200) << first.body;
  const json choice = first.js()["choices"][0];
  EXPECT_EQ(choice["finish_reason"], "tool_calls");
  EXPECT_TRUE(choice["message"]["content"].is_null());
  const json call = choice["message"]["tool_calls"][0];
  EXPECT_EQ(call["type"], "function");
  EXPECT_EQ(call["function"]["name"], "bash");
  EXPECT_EQ(call["function"]["arguments"], kMockArgs);
  const std::string id = call["id"];
  EXPECT_EQ(id.rfind("call_", 0), 0u);

  json messages =
      json::array({{{"role", "user"}, {"content", "ls"}},
                   {{"role", "assistant"}, {"content", ""}, {"tool_calls", {call}}},
                   {{"role", "tool"}, {"tool_call_id", id}, {"content", "trinity-tool-42\n"}}});
  HttpResult second = chat(chat_request(messages));
  ASSERT_EQ(second.status, 200) << second.body;
  const json answer = second.js()["choices"][0];
  EXPECT_EQ(answer["finish_reason"], "stop");
  EXPECT_NE(answer["message"]["content"].get<std::string>().find("trinity-tool-42"),
            std::string::npos);
  EXPECT_FALSE(answer["message"].contains("tool_calls"));
}

TEST_F(ServerToolsTest, ChatStreamSendsToolCallDeltasAndAFinishReason) {
  HttpResult r = chat(chat_request(json::array({{{"role", "user"}, {"content", "ls"}}}), true));
  ASSERT_EQ(r.status, 200) << r.body;
  std::string id, name, args, finish;
  for (const json& chunk : sse_payloads(r.body)) {
    if (!chunk.contains("choices") || chunk["choices"].empty()) continue;
    const json& c = chunk["choices"][0];
    if (!c["finish_reason"].is_null()) finish = c["finish_reason"];
    if (!c["delta"].contains("tool_calls")) continue;
    const json& d = c["delta"]["tool_calls"][0];
    EXPECT_EQ(d["index"], 0);
    if (d.contains("id")) id = d["id"];
    if (d["function"].contains("name")) name = d["function"]["name"];
    args += d["function"]["arguments"].get<std::string>();
  }
  EXPECT_EQ(finish, "tool_calls");
  EXPECT_EQ(id.rfind("call_", 0), 0u);
  EXPECT_EQ(name, "bash");
  EXPECT_EQ(args, kMockArgs);
  EXPECT_NE(r.body.find("data: [DONE]"), std::string::npos);
}

TEST_F(ServerToolsTest, ResponsesFunctionCallThenOutput) {
  json body = {{"model", "trinity"},
               {"input", json::array({{{"role", "developer"}, {"content", "be brief"}},
                                      {{"role", "user"}, {"content", "ls"}}})},
               {"tools", json::array({kExecTool, {{"type", "namespace"}, {"name", "mcp"}}})},
               {"store", false},
               {"include", json::array({"reasoning.encrypted_content"})},
               {"parallel_tool_calls", true}};
  HttpResult first = responses(body);
  ASSERT_EQ(first.status, 200) << first.body;
  const json out = first.js()["output"];
  ASSERT_EQ(out.size(), 1u) << out.dump();
  EXPECT_EQ(out[0]["type"], "function_call");
  EXPECT_EQ(out[0]["name"], "exec_command");
  EXPECT_EQ(out[0]["arguments"], R"j({"cmd":"echo trinity-tool-$((40+2))"})j");
  EXPECT_EQ(out[0]["id"].get<std::string>().rfind("fc_", 0), 0u);
  EXPECT_EQ(first.js()["tools"].size(), 1u);  // the namespace tool is not forwarded

  json item = out[0];
  body["input"].push_back(item);
  body["input"].push_back({{"type", "function_call_output"},
                           {"call_id", item["call_id"]},
                           {"output", "Process exited with code 0\nOutput:\ntrinity-tool-42\n"}});
  HttpResult second = responses(body);
  ASSERT_EQ(second.status, 200) << second.body;
  const json msg = second.js()["output"][0];
  EXPECT_EQ(msg["type"], "message");
  EXPECT_NE(msg["content"][0]["text"].get<std::string>().find("trinity-tool-42"),
            std::string::npos);
}

TEST_F(ServerToolsTest, ResponsesStreamHasTheFullFunctionCallEventSequence) {
  json body = {
      {"model", "trinity"}, {"input", "ls"}, {"stream", true}, {"tools", json::array({kExecTool})}};
  HttpResult r = responses(body);
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<std::string> types;
  std::string args, item_id;
  json completed;
  for (const json& e : sse_payloads(r.body)) {
    const std::string type = e["type"];
    if (type == "trinity.progress") continue;
    types.push_back(type);
    if (type == "response.output_item.added") item_id = e["item"]["id"];
    if (type == "response.function_call_arguments.delta") {
      EXPECT_EQ(e["item_id"], item_id);
      args += e["delta"].get<std::string>();
    }
    if (type == "response.completed") completed = e["response"];
  }
  EXPECT_EQ(types,
            (std::vector<std::string>{
                "response.created", "response.in_progress", "response.output_item.added",
                "response.function_call_arguments.delta", "response.function_call_arguments.done",
                "response.output_item.done", "response.completed"}));
  EXPECT_EQ(args, R"j({"cmd":"echo trinity-tool-$((40+2))"})j");
  EXPECT_EQ(completed["id"].get<std::string>().rfind("resp_", 0), 0u);
  EXPECT_GT(completed["usage"]["total_tokens"].get<int64_t>(), 0);
  EXPECT_EQ(completed["output"][0]["id"], item_id);
  EXPECT_EQ(completed["output"][0]["call_id"].get<std::string>().rfind("call_", 0), 0u);
}

TEST_F(ServerToolsTest, BadToolInputsAre400sNamingTheField) {
  auto expect_400 = [&](const HttpResult& r, const std::string& field) {
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(r.js()["error"]["message"].get<std::string>().find(field), std::string::npos)
        << r.body;
  };
  expect_400(chat(chat_request(json::array(
                 {{{"role", "user"}, {"content", "ls"}},
                  {{"role", "tool"}, {"tool_call_id", "call_nope"}, {"content", "x"}}}))),
             "messages[1].tool_call_id 'call_nope' matches no earlier tool call");
  expect_400(chat(chat_request(json::array(
                 {{{"role", "user"}, {"content", "ls"}}, {{"role", "tool"}, {"content", "x"}}}))),
             "messages[1].tool_call_id");
  json bad_args = chat_request(json::array(
      {{{"role", "user"}, {"content", "ls"}},
       {{"role", "assistant"},
        {"content", nullptr},
        {"tool_calls", json::array({{{"id", "c1"},
                                     {"type", "function"},
                                     {"function", {{"name", "bash"}, {"arguments", "{ls"}}}}})}}}));
  expect_400(chat(bad_args), "messages[1].tool_calls[0].function");
  json no_fn = chat_request(json::array({{{"role", "user"}, {"content", "ls"}}}));
  no_fn["tools"] = json::array({{{"type", "function"}}});
  expect_400(chat(no_fn), "tools[0].function must be an object");
  json choice = chat_request(json::array({{{"role", "user"}, {"content", "ls"}}}));
  choice["tool_choice"] = {{"type", "function"}, {"function", {{"name", "nope"}}}};
  expect_400(chat(choice), "tool_choice.function.name 'nope'");
  json orphan = {
      {"model", "trinity"},
      {"input",
       json::array({{{"role", "user"}, {"content", "ls"}},
                    {{"type", "function_call_output"}, {"call_id", "call_x"}, {"output", "x"}}})}};
  expect_400(responses(orphan), "input[1].call_id 'call_x' matches no earlier tool call");
}

TEST_F(ServerToolsTest, ConversationsProvidersWouldRefuseAre400s) {
  auto expect_400 = [&](const json& messages, const std::string& why) {
    HttpResult r = chat(chat_request(messages));
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(r.body.find(why), std::string::npos) << r.body;
  };
  const json call = {
      {"id", "c1"}, {"type", "function"}, {"function", {{"name", "bash"}, {"arguments", "{}"}}}};
  const json user = {{"role", "user"}, {"content", "ls"}};
  const json asked = {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", {call}}};
  const json result = {{"role", "tool"}, {"tool_call_id", "c1"}, {"content", "a"}};
  expect_400(json::array({user, asked, user}), "messages[1]: tool call 'c1' has no tool result");
  expect_400(json::array({user, asked}), "messages[1]: tool call 'c1' has no tool result");
  expect_400(json::array({user, asked, result, result}),
             "messages[3].tool_call_id 'c1' answers a call that is not the previous");
  expect_400(json::array({user, asked, result, asked, result}),
             "messages[3].tool_calls[0]: the call id 'c1' is used twice");
  json bad_name = chat_request(json::array({user}));
  bad_name["tools"][0]["function"]["name"] = "bad name!";
  HttpResult r = chat(bad_name);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("tools[0].function.name 'bad name!' is not a valid function name"),
            std::string::npos);
  // Empty arguments read as {}.
  json empty_args = asked;
  empty_args["tool_calls"][0]["function"]["arguments"] = "";
  EXPECT_EQ(chat(chat_request(json::array({user, empty_args, result}))).status, 200);
}

TEST(ServerTools, TheRunStoreKeepsToolCallsAndResults) {
  const std::string dir =
      std::filesystem::temp_directory_path() / ("trinity-tools-store-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  store::StoreOptions so;
  so.owner = "tools-test";
  auto st = store::open_run_store("sqlite:" + dir + "/runs.db", so);
  ASSERT_TRUE(st.ok()) << st.status().message();
  ServerConfig cfg = test_config();
  cfg.store = std::shared_ptr<store::RunStore>(std::move(st).value());
  cfg.trace_content = coord::ContentMode::kFull;
  TestServer ts(cfg, std::make_shared<TurnRouter>(), mock_pools());
  const json call = {{"id", "c1"},
                     {"type", "function"},
                     {"function", {{"name", "bash"}, {"arguments", R"({"command":"ls"})"}}}};
  json body = {
      {"model", "trinity"},
      {"tools", json::array({kBashTool})},
      {"messages", json::array({{{"role", "user"}, {"content", "ls"}},
                                {{"role", "assistant"}, {"tool_calls", {call}}},
                                {{"role", "tool"}, {"tool_call_id", "c1"}, {"content", "a"}},
                                {{"role", "user"}, {"content", "again"}}})}};
  HttpResult r = post(ts.url("/v1/chat/completions"), body.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string id = r.js()["trinity"]["run_id"];
  HttpResult stored = http("GET", ts.url("/v1/runs/" + id));
  ASSERT_EQ(stored.status, 200) << stored.body;
  const json run = stored.js();
  EXPECT_EQ(run["request"]["messages"][1]["tool_calls"][0]["function"]["arguments"],
            R"({"command":"ls"})");
  EXPECT_EQ(run["request"]["messages"][2]["tool_call_id"], "c1");
  EXPECT_EQ(run["request"]["options"]["tools"]["tools"], json::array({"bash"}));
  ASSERT_TRUE(run.contains("tool_calls")) << run.dump();
  EXPECT_EQ(run["tool_calls"][0]["function"]["arguments"], kMockArgs);
  EXPECT_EQ(run["tool_calls"][0]["id"], r.js()["choices"][0]["message"]["tool_calls"][0]["id"]);
  std::filesystem::remove_all(dir);
}

TEST_F(ServerToolsTest, ExcludedAgentsAreNeverChosenAndExcludingAllIs400) {
  json body = json::parse(chat_body("What is 6 times 7?"));
  body["trinity"] = {{"exclude_agents", json::array({0, 1, 2, "mock-agent-3"})}};
  for (int i = 0; i < 4; ++i) {
    body["messages"][0]["content"] = "question " + std::to_string(i);
    HttpResult r = chat(body);
    ASSERT_EQ(r.status, 200) << r.body;
    const json x = r.js()["trinity"];
    EXPECT_EQ(x["excluded_agents"], json::array({0, 1, 2, 3}));
    for (const json& t : x["turns"]) EXPECT_GE(t["agent_id"].get<int>(), 4) << x.dump();
  }
  body["trinity"]["exclude_agents"] = json::array({0, 1, 2, 3, 4, 5, "mock-agent-6"});
  HttpResult all = chat(body);
  EXPECT_EQ(all.status, 400) << all.body;
  EXPECT_NE(all.body.find("trinity.exclude_agents: every agent slot is excluded"),
            std::string::npos);
  body["trinity"]["exclude_agents"] = json::array({"no-such-model"});
  HttpResult unknown = chat(body);
  EXPECT_EQ(unknown.status, 400) << unknown.body;
  EXPECT_NE(unknown.body.find("trinity.exclude_agents[0]"), std::string::npos);
}

TEST_F(ServerToolsTest, ServerExclusionsCannotBeLiftedByARequest) {
  ServerConfig cfg = test_config();
  cfg.excluded_agents = {true, true, true, true, true, false, false};
  start(cfg);
  json body = json::parse(chat_body("anything"));
  body["trinity"] = {{"exclude_agents", json::array()}};
  for (int i = 0; i < 3; ++i) {
    body["messages"][0]["content"] = "question " + std::to_string(i);
    HttpResult r = chat(body);
    ASSERT_EQ(r.status, 200) << r.body;
    const json turns = r.js()["trinity"]["turns"];  // a copy: js() returns a temporary
    for (const json& t : turns) EXPECT_GE(t["agent_id"].get<int>(), 5);
  }
  body["trinity"]["exclude_agents"] = json::array({5, 6});
  EXPECT_EQ(chat(body).status, 400);
  // /v1/route decides over the allowed slots too.
  for (int i = 0; i < 5; ++i) {
    json route = {
        {"messages", json::array({{{"role", "user"}, {"content", std::string(i, 'x')}}})}};
    HttpResult d = post(ts_->url("/v1/route"), route.dump());
    ASSERT_EQ(d.status, 200) << d.body;
    EXPECT_GE(d.js()["agent_id"].get<int>(), 5) << d.body;
    EXPECT_EQ(d.js()["excluded_agents"], json::array({0, 1, 2, 3, 4}));
  }
}

}  // namespace
}  // namespace trinity::server::testing
