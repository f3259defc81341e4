// What an agent is sent (the "agent request shape").
//
// Strict OpenAI-compatible servers reject some message lists (llama.cpp: "Cannot have 2 or more
// assistant messages at the end of the list"; many chat templates require user/assistant
// alternation ending with a user turn). The coordinator's transcript ends with assistant turns
// after the first dispatch, so agents never see it raw. Every dispatch sends exactly two
// messages:
//
//   [ {role: "system", content: <the pool's prompt for the dispatched role>},
//     {role: "user",   content: <rendered conversation + this turn's instruction>} ]
//
// The user message renders every transcript message in order, each under a header saying who
// said it:
//
//   The conversation so far, oldest first:
//
//   ### system
//   <content>
//
//   ### user
//   <content>
//
//   ### assistant (turn 1: Worker, agent slot 4 google/gemma-3-27b-it)
//   <content>
//
//   ### Your task (turn 2: Verifier)
//   <role instruction>
//
// Input messages that were given as assistant turns are shown as "### assistant". Tool calls
// and results are shown as the router reads them (route.h routed_content): an assistant message's
// calls as "[tool_call NAME ARGUMENTS]" lines, a tool result under "### tool (result of call
// ID)". The router still routes the plain transcript (role + content of the input and of every
// reply); role prompts and this rendering are never routed.
//
// Tools (tools.h): a Worker turn of a run with active tools gets the conversation natively, so
// that it can call tools and read their results:
//
//   [ {role: "system", content: <Worker prompt> [+ the run's earlier turns, rendered as above,
//                                               and the Worker instruction]},
//     <the input messages as given: system, user, assistant (with tool_calls), tool> ]
//
// The run's own earlier turns (Thinker plans, Verifier critiques, proposed calls that were not
// run) go into the system message, so the conversation still ends as the client sent it.
#pragma once

#include <string>
#include <vector>

#include "coord/pool.h"
#include "coord/tools.h"
#include "router/route.h"

namespace trinity::coord {

// Speaker annotation of a transcript message: empty for input messages, else e.g.
// "turn 1: Worker, agent slot 4 google/gemma-3-27b-it".
std::string speaker_note(int turn_number, int role_id, int agent_id);

// The per-turn instruction that ends the user message.
const char* role_instruction(int role_id);

// The messages for one dispatch in the pool's shape: kRendered as above; kReference
// [system(role prompt)] ++ the transcript verbatim (a user's own system messages stay system
// messages; agent replies are assistant messages, so the list may end with several of them,
// which some servers reject: see docs/coordinator.md), tool calls and results flattened to text
// (a tool result becomes a user message "[tool_result ID]\n<content>"). A Worker turn with
// active `tools` gets the native shape above, whatever the pool's shape. notes[i] is empty for
// input messages and the speaker note of the run's own replies.
std::vector<Message> build_agent_messages(const RolePrompts& prompts, MessageShape shape,
                                          int role_id, int turn_number,
                                          const std::vector<Message>& transcript,
                                          const std::vector<std::string>& notes,
                                          const ToolSet* tools = nullptr);

}  // namespace trinity::coord
