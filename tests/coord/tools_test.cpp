// Tools through the coordinator (coord/tools.h): which turns see the tools and in which form,
// what a Worker answer with tool calls becomes, call ids and arguments, the mock pool's tool
// behaviour, and agent exclusions.
#include <gtest/gtest.h>

#include "coord/prompts.h"
#include "coord_test_util.h"

namespace trinity::coord::testing {
namespace {

ToolSet shell_tools() {
  ToolSet t;
  ToolSpec bash;
  bash.name = "bash";
  bash.description = "Run a shell command";
  bash.parameters = Json::parse(R"({"type":"object","properties":{"command":{"type":"string"},)"
                                R"("description":{"type":"string"},"timeout":{"type":"number"}},)"
                                R"("required":["command","description"]})");
  ToolSpec read;
  read.name = "read";
  read.parameters = Json::parse(R"({"type":"object","properties":{"path":{"type":"string"}}})");
  t.tools = {read, bash};
  t.dropped = {"web_search"};
  return t;
}

const ToolCall kLsCall{"call_ls", "bash", R"({"command": "ls -la", "description": "list"})"};

class ToolLoopTest : public ::testing::Test {
 protected:
  ToolLoopTest() : provider_(std::make_shared<ScriptedProvider>("scripted-model", &clock_)) {
    provider_->set(kRoleWorker, {ScriptedReply::calls({kLsCall})});
    provider_->set(kRoleThinker, {{"Plan: list the files."}});
    provider_->set(kRoleVerifier, {{"ACCEPT: listing is the right first step"}});
    opts_.tools = shell_tools();
  }
  RunResult run(std::vector<ScriptStep> steps, std::vector<Message> input) {
    router_ = std::make_shared<ScriptedRouter>(std::move(steps));
    Orchestrator orch(router_, single_provider_pool(provider_));
    opts_.clock = &clock_;
    opts_.sinks = {&sink_};
    opts_.run_id = "tool-run";
    return orch.run(input, opts_);
  }

  FakeClock clock_;
  std::shared_ptr<ScriptedProvider> provider_;
  std::shared_ptr<ScriptedRouter> router_;
  MemorySink sink_;
  RunOptions opts_;
};

TEST_F(ToolLoopTest, WorkerGetsToolsNativelyVerifierSeesTheCallAsTextAcceptReturnsIt) {
  auto r = run({{3, kRoleWorker}, {5, kRoleVerifier}}, {{"user", "What is in this directory?"}});
  ASSERT_TRUE(r.ok()) << r.status.message();
  EXPECT_EQ(r.outcome, "accepted");
  EXPECT_EQ(*r.answer, "");
  EXPECT_EQ(r.answer_tool_calls, std::vector<ToolCall>{kLsCall});  // id and arguments unchanged
  auto reqs = provider_->requests();
  ASSERT_EQ(reqs.size(), 2u);
  // The Worker: the tools, [system prompt, the conversation as given].
  ASSERT_NE(reqs[0].tools, nullptr);
  EXPECT_EQ(reqs[0].tools->tools.size(), 2u);
  ASSERT_EQ(reqs[0].messages.size(), 2u);
  EXPECT_EQ(reqs[0].messages[0].role, "system");
  EXPECT_EQ(reqs[0].messages[1], (Message{"user", "What is in this directory?"}));
  // The Verifier: no tools; the proposed call rendered as text.
  EXPECT_EQ(reqs[1].tools, nullptr);
  ASSERT_EQ(reqs[1].messages.size(), 2u);
  EXPECT_NE(reqs[1].messages[1].content.find(
                "### assistant (turn 1: Worker, agent slot 3 " + std::string(agent_label(3)) +
                ")\n[tool_call bash {\"command\": \"ls -la\", \"description\": \"list\"}]\n"),
            std::string::npos)
      << reqs[1].messages[1].content;
  // The router reads the call in its text form.
  auto seen = router_->seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(build_transcript(seen[1]),
            "user: What is in this directory?\nassistant: [tool_call bash {\"command\": \"ls "
            "-la\", \"description\": \"list\"}]");
  // The trace: what was offered and dropped, the reply's calls, the final calls.
  auto rd = sink_.of("route_decision");
  EXPECT_EQ(rd[0]["tools"]["tools"], OrderedJson::array({"read", "bash"}));
  EXPECT_EQ(rd[0]["tools"]["dropped"], OrderedJson::array({"web_search"}));
  EXPECT_FALSE(rd[1].contains("tools"));
  auto finished = sink_.of("provider_dispatch_finished");
  EXPECT_EQ(finished[0]["tool_calls"][0]["id"], "call_ls");
  EXPECT_EQ(sink_.of("run_finished")[0]["tool_calls"][0]["function"]["name"], "bash");
}

TEST_F(ToolLoopTest, ToolResultsGoBackToTheWorkerNativelyAndEarlierTurnsIntoItsSystemPrompt) {
  provider_->set(kRoleWorker, {{"The directory holds a.txt"}});
  std::vector<Message> input = {{"user", "What is in this directory?"},
                                {"assistant", "", {kLsCall}},
                                {"tool", "a.txt", {}, "call_ls"}};
  auto r = run({{1, kRoleThinker}, {2, kRoleWorker}, {4, kRoleVerifier}}, input);
  ASSERT_TRUE(r.ok()) << r.status.message();
  EXPECT_EQ(*r.answer, "The directory holds a.txt");
  EXPECT_TRUE(r.answer_tool_calls.empty());
  auto reqs = provider_->requests();
  ASSERT_EQ(reqs.size(), 3u);
  // The Thinker sees the call and its result rendered.
  EXPECT_EQ(reqs[0].tools, nullptr);
  EXPECT_NE(reqs[0].messages[1].content.find("### tool (result of call call_ls)\na.txt\n"),
            std::string::npos);
  // The Worker: the conversation natively, ending with the tool result; the Thinker's plan in
  // the system message.
  ASSERT_NE(reqs[1].tools, nullptr);
  ASSERT_EQ(reqs[1].messages.size(), 4u);
  EXPECT_EQ(reqs[1].messages[2], input[1]);
  EXPECT_EQ(reqs[1].messages[3], input[2]);
  EXPECT_NE(reqs[1].messages[0].content.find("Plan: list the files."), std::string::npos);
  EXPECT_NE(reqs[1].messages[0].content.find("### Your task (turn 2: Worker)"), std::string::npos);
  // The router reads the tool result as "tool: <output>".
  EXPECT_EQ(build_transcript(router_->seen()[0]),
            "user: What is in this directory?\nassistant: [tool_call bash {\"command\": \"ls "
            "-la\", \"description\": \"list\"}]\ntool: a.txt");
}

TEST_F(ToolLoopTest, VerifierReviseLeadsToTheRevisedCallBeingReturned) {
  const ToolCall revised{"call_2", "bash", R"({"command":"ls","description":"list"})"};
  provider_->set(kRoleWorker, {ScriptedReply::calls({kLsCall}), ScriptedReply::calls({revised})});
  provider_->set(kRoleVerifier, {{"REVISE: plain ls is enough"}, {"ACCEPT"}});
  auto r = run({{0, kRoleWorker}, {1, kRoleVerifier}, {0, kRoleWorker}, {1, kRoleVerifier}},
               {{"user", "list"}});
  ASSERT_TRUE(r.ok()) << r.status.message();
  EXPECT_EQ(r.outcome, "accepted");
  EXPECT_EQ(r.usage.verifier_revisions, 1);
  EXPECT_EQ(r.answer_tool_calls, std::vector<ToolCall>{revised});
}

TEST_F(ToolLoopTest, LastTurnRuleStillEndsWithAWorkerAnswerHoldingTheCall) {
  opts_.max_turns = 2;
  auto r = run({{0, kRoleThinker}, {0, kRoleThinker}}, {{"user", "list"}});
  ASSERT_TRUE(r.ok()) << r.status.message();
  EXPECT_EQ(r.run_status(), std::string("unverified"));
  ASSERT_EQ(r.turns.size(), 2u);
  EXPECT_EQ(r.turns[1].reroute, "last_turn");
  EXPECT_EQ(r.answer_tool_calls, std::vector<ToolCall>{kLsCall});
}

TEST_F(ToolLoopTest, MissingCallIdsAreGeneratedAndInvalidArgumentsFailTheCall) {
  provider_->set(kRoleWorker, {ScriptedReply::calls({{"", "bash", R"({"command":"ls"})"},
                                                     {"", "read", R"({"path":"a"})"}})});
  auto r = run({{0, kRoleWorker}, {1, kRoleVerifier}}, {{"user", "list"}});
  ASSERT_TRUE(r.ok()) << r.status.message();
  ASSERT_EQ(r.answer_tool_calls.size(), 2u);
  EXPECT_EQ(r.answer_tool_calls[0].id, "call_tool-run_0_0");
  EXPECT_EQ(r.answer_tool_calls[1].id, "call_tool-run_0_1");

  // Empty arguments (a function without parameters) read as {}.
  provider_->set(kRoleWorker, {ScriptedReply::calls({{"c", "bash", " "}})});
  auto empty = run({{0, kRoleWorker}, {1, kRoleVerifier}}, {{"user", "list"}});
  ASSERT_TRUE(empty.ok()) << empty.status.message();
  EXPECT_EQ(empty.answer_tool_calls[0].arguments, "{}");

  for (const std::string bad : {"{\"command\": ", "[1, 2]", "null"}) {
    provider_->set(kRoleWorker, {ScriptedReply::calls({{"c", "bash", bad}})});
    auto f = run({{0, kRoleWorker}}, {{"user", "list"}});
    ASSERT_FALSE(f.ok()) << bad;
    EXPECT_EQ(f.failure_reason, "provider_error");
    ASSERT_TRUE(f.failed_call);
    EXPECT_EQ(f.failed_call->failure.kind, ProviderFailureKind::kInvalidResponse);
    EXPECT_NE(f.status.message().find("tool call 'bash'"), std::string::npos) << f.status.message();
    EXPECT_FALSE(f.answer);
  }
}

TEST_F(ToolLoopTest, CallsFromATurnWithoutToolsAreDropped) {
  opts_.tools = ToolSet();  // no tools offered
  provider_->set(kRoleWorker, {ScriptedReply::calls({kLsCall}, "Here is the plan.")});
  auto r = run({{0, kRoleWorker}, {1, kRoleVerifier}}, {{"user", "list"}});
  ASSERT_TRUE(r.ok()) << r.status.message();
  EXPECT_EQ(*r.answer,
            "Here is the plan.\n[tool_call bash {\"command\": \"ls -la\", \"description\": "
            "\"list\"}]");
  EXPECT_TRUE(r.answer_tool_calls.empty());
  EXPECT_TRUE(r.answer_tool_calls.empty());
  // A reply that is only calls becomes their text form (so a Verifier's stray call is a verdict
  // of unknown, not a failed run).
  provider_->set(kRoleWorker, {ScriptedReply::calls({kLsCall})});
  auto f = run({{0, kRoleWorker}, {1, kRoleVerifier}}, {{"user", "list"}});
  ASSERT_TRUE(f.ok()) << f.status.message();
  EXPECT_EQ(*f.answer, "[tool_call bash {\"command\": \"ls -la\", \"description\": \"list\"}]");
}

TEST_F(ToolLoopTest, RepliesBreakingTheOfferedToolsFailTheCall) {
  struct Case {
    std::vector<ToolCall> calls;
    ToolChoice choice;
    std::optional<bool> parallel;
    const char* why;
  };
  const ToolCall read{"c2", "read", R"({"path":"a"})"};
  const std::vector<Case> cases = {
      {{{"c1", "rm_rf", "{}"}}, {}, std::nullopt, "calls 'rm_rf', which was not offered"},
      {{kLsCall, read}, {}, false, "parallel_tool_calls is false"},
      {{kLsCall},
       {ToolChoice::Mode::kFunction, "read"},
       std::nullopt,
       "tool_choice requires 'read'"},
      {{}, {ToolChoice::Mode::kRequired, ""}, std::nullopt, "requires a tool call"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.why);
    opts_.tools = shell_tools();
    opts_.tools.choice = c.choice;
    opts_.tools.parallel_tool_calls = c.parallel;
    provider_->set(kRoleWorker, {ScriptedReply::calls(c.calls, c.calls.empty() ? "text" : "")});
    auto f = run({{0, kRoleWorker}}, {{"user", "list"}});
    ASSERT_FALSE(f.ok());
    EXPECT_EQ(f.failure_reason, "provider_error");
    EXPECT_NE(f.status.message().find(c.why), std::string::npos) << f.status.message();
  }
  // Duplicate ids within a reply, or ids the conversation already used, are replaced.
  opts_.tools = shell_tools();
  const ToolCall again{"call_ls", "read", R"({"path":"b"})"};
  provider_->set(kRoleWorker, {ScriptedReply::calls({again, {"call_ls", "read", "{}"}})});
  auto r = run({{0, kRoleWorker}, {1, kRoleVerifier}},
               {{"user", "list"}, {"assistant", "", {kLsCall}}, {"tool", "a", {}, "call_ls"}});
  ASSERT_TRUE(r.ok()) << r.status.message();
  ASSERT_EQ(r.answer_tool_calls.size(), 2u);
  EXPECT_EQ(r.answer_tool_calls[0].id, "call_tool-run_0_0");
  EXPECT_EQ(r.answer_tool_calls[1].id, "call_tool-run_0_1");
}

TEST_F(ToolLoopTest, ToolResultWithoutAnEarlierCallIsInvalidInput) {
  auto r = run({{0, kRoleWorker}}, {{"user", "list"}, {"tool", "a.txt", {}, "call_nope"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure_reason, "invalid_input");
  EXPECT_NE(r.status.message().find("messages[1].tool_call_id 'call_nope' matches no earlier"),
            std::string::npos)
      << r.status.message();
  EXPECT_TRUE(provider_->requests().empty());
}

TEST_F(ToolLoopTest, ExcludedAgentsAreNeverRoutedAndMarginsUseTheAllowedSlots) {
  // The router prefers slot 3 every turn; 3 and 0 are excluded.
  opts_.excluded_agents[3] = opts_.excluded_agents[0] = true;
  opts_.reflex.enabled = false;  // the allowed slots tie (margin 0): keep the scripted roles
  provider_->set(kRoleWorker, {{"42"}});
  auto r = run({{3, kRoleThinker}, {3, kRoleWorker}, {3, kRoleVerifier}}, {{"user", "q"}});
  ASSERT_TRUE(r.ok()) << r.status.message();
  ASSERT_EQ(r.turns.size(), 3u);
  for (const auto& t : r.turns) {
    EXPECT_EQ(t.agent_id, 1);  // the first allowed slot (all allowed logits tie at 0)
    ASSERT_TRUE(t.agent_margin);
    EXPECT_EQ(*t.agent_margin, 0.0);
  }
  EXPECT_EQ(r.excluded_agents, (std::vector<int>{0, 3}));
  for (const auto& rd : sink_.of("route_decision")) {
    EXPECT_EQ(rd["agent_id"], 1);
    EXPECT_EQ(rd["excluded_agents"], OrderedJson::array({0, 3}));
  }
  // Every slot excluded: the run is refused before any call.
  opts_.excluded_agents.fill(true);
  auto none = run({{3, kRoleWorker}}, {{"user", "q"}});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.failure_reason, "invalid_input");
  EXPECT_EQ(provider_->requests().size(), 3u);
}

TEST(RestrictAgents, ArgmaxAndMarginOverTheAllowedSlotsOnly) {
  std::array<float, kNumAgents> a = {0.9f, 0.1f, 0.7f, 0.2f, 0.6f, 0.0f, 0.3f};
  std::array<float, kNumRoles> r = {1.0f, 0.0f, 0.0f};
  auto d = make_route_decision({{"user", "x"}}, a, r);
  ASSERT_TRUE(d.ok());
  std::array<bool, kNumAgents> allowed = {false, true, true, true, true, true, true};
  RouteDecision rd = *d;
  ASSERT_TRUE(restrict_agents(rd, allowed).ok());
  EXPECT_EQ(rd.agent_id, 2);
  EXPECT_NEAR(*rd.agent_margin, 0.1, 1e-6);  // 0.7 - 0.6
  EXPECT_NE(rd.route_hash, d->route_hash);
  allowed = {false, false, false, false, false, false, true};
  ASSERT_TRUE(restrict_agents(rd, allowed).ok());
  EXPECT_EQ(rd.agent_id, 6);
  EXPECT_FALSE(rd.agent_margin);  // one allowed slot: no second
  allowed.fill(false);
  EXPECT_FALSE(restrict_agents(rd, allowed).ok());
}

TEST(AgentRefs, SlotsAndModelNamesResolveAgainstThePool) {
  PoolConfig pool = builtin_mock_pool();
  pool.slots[2].model = "shared-model";
  pool.slots[5].model = "shared-model";
  ProviderSpec fb = pool.slots[0];
  fb.model = "backup-model";
  pool.slots[6].fallbacks = {fb};
  auto ex = resolve_excluded_agents(parse_agent_ref_list("1, shared-model,backup-model"), pool,
                                    "--exclude-agents");
  ASSERT_TRUE(ex.ok()) << ex.status().message();
  EXPECT_EQ(*ex, (std::array<bool, kNumAgents>{false, true, true, false, false, true, true}));
  auto unknown = resolve_excluded_agents({{std::nullopt, "nope"}}, pool, "trinity.exclude_agents");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("trinity.exclude_agents[0]"), std::string::npos);
  auto range = resolve_excluded_agents({{7, ""}}, pool, "x");
  ASSERT_FALSE(range.ok());
  EXPECT_NE(range.status().message().find("out of range"), std::string::npos);
}

TEST(MockTools, WorkerCallsTheShellToolThenQuotesItsResult) {
  auto provider = make_provider(builtin_mock_pool().slots[0], "");
  ASSERT_TRUE(provider.ok());
  const ToolSet tools = shell_tools();
  ChatRequest req;
  req.role_id = kRoleWorker;
  req.tools = &tools;
  req.messages = {{"system", "s"}, {"user", "list"}};
  CallContext ctx;
  ctx.clock = &system_clock();
  auto call = (*provider)->chat(req, ctx);
  ASSERT_TRUE(call.ok());
  ASSERT_EQ(call->tool_calls.size(), 1u);
  EXPECT_EQ(call->tool_calls[0].name, "bash");  // the first tool with a string command
  EXPECT_EQ(Json::parse(call->tool_calls[0].arguments),
            Json::parse(R"j({"command":"echo trinity-tool-$((40+2))",)j"
                        R"j("description":"trinity mock tool call"})j"));
  req.messages.push_back({"assistant", "", {{"c1", "bash", "{}"}}});
  req.messages.push_back({"tool", "trinity-tool-42\n", {}, "c1"});
  auto text = (*provider)->chat(req, ctx);
  ASSERT_TRUE(text.ok());
  EXPECT_TRUE(text->tool_calls.empty());
  EXPECT_NE(text->text.find("trinity-tool-42"), std::string::npos);
  // No tool with a command property: a plain answer.
  ToolSet other;
  other.tools = {tools.tools[0]};
  req.tools = &other;
  req.messages.resize(2);
  auto plain = (*provider)->chat(req, ctx);
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->tool_calls.empty());
  EXPECT_FALSE(plain->text.empty());
}

}  // namespace
}  // namespace trinity::coord::testing
