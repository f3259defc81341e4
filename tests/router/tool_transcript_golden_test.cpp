// The router's text form of tool calls and tool results (route.h routed_content,
// docs/coordinator.md "Tools"): pinned so that routing and transcript_hash of tool conversations
// never change silently.
#include <gtest/gtest.h>

#include "router/etf_hash.h"
#include "router/route.h"

namespace trinity {
namespace {

// A coding agent's second request: the user's ask, the call it got back (with text), the
// tool's output, then a call without text.
std::vector<Message> tool_conversation() {
  return {
      {"system", "You are a coding agent."},
      {"user", "List the files."},
      {"assistant", "Listing.", {{"call_1", "exec_command", R"({"cmd":"ls"})"}}},
      {"tool", "a.txt\nb.txt", {}, "call_1"},
      {"assistant",
       "",
       {{"call_2", "exec_command", R"({"cmd":"wc -l a.txt"})"},
        {"call_3", "read", R"({"path": "b.txt"})"}}},
  };
}

TEST(ToolTranscriptGolden, TextForm) {
  EXPECT_EQ(build_transcript(tool_conversation()),
            "system: You are a coding agent.\n"
            "user: List the files.\n"
            "assistant: Listing.\n"
            "[tool_call exec_command {\"cmd\":\"ls\"}]\n"
            "tool: a.txt\n"
            "b.txt\n"
            "assistant: [tool_call exec_command {\"cmd\":\"wc -l a.txt\"}]\n"
            "[tool_call read {\"path\": \"b.txt\"}]");
}

TEST(ToolTranscriptGolden, TranscriptHashFollowsTheTextForm) {
  const auto messages = tool_conversation();
  // The hash of the tool conversation is the hash of plain messages holding the text form.
  std::vector<Message> flat;
  for (const Message& m : messages) flat.push_back(Message{m.role, routed_content(m)});
  auto h = transcript_hash(messages);
  auto flat_h = transcript_hash(flat);
  ASSERT_TRUE(h.ok() && flat_h.ok());
  EXPECT_EQ(*h, *flat_h);
  EXPECT_EQ(*h, "63dc86a17de20228fb696c083949ec929c1ac7808edcbb731d70c9f7e2ec4296");
  auto b = trace_transcript_hash(messages);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, *trace_transcript_hash(flat));
  // Call ids are not part of the text form; arguments are, byte for byte.
  auto other_ids = messages;
  other_ids[2].tool_calls[0].id = "call_x";
  other_ids[3].tool_call_id = "call_x";
  EXPECT_EQ(*transcript_hash(other_ids), *h);
  auto spaced = messages;
  spaced[2].tool_calls[0].arguments = R"({"cmd": "ls"})";
  EXPECT_NE(*transcript_hash(spaced), *h);
}

}  // namespace
}  // namespace trinity
