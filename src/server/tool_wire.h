// Tools on the wire of the run endpoints (docs/server.md, "Tools"): the request's `tools`,
// `tool_choice`, `parallel_tool_calls`, assistant `tool_calls` and the `trinity.exclude_agents`
// extension in; tool calls out, whole or as stream deltas.
//
// Chat Completions tools are {type: "function", function: {name, description, parameters,
// strict}}; Responses tools are {type: "function", name, description, parameters, strict}.
// Tools of any other type (web_search, namespace, file_search, ...) are not forwarded and do not
// fail the request: ToolSet::dropped records them for the trace.
#pragma once

#include <string>
#include <vector>

#include "coord/pool.h"
#include "coord/tools.h"
#include "core/json.h"
#include "core/status.h"
#include "router/route.h"

namespace trinity::server {

enum class ToolForm { kChat, kResponses };

// `tools`, `tool_choice` and `parallel_tool_calls` of a request body into `out`. Errors name the
// field ("tools[2].function.name must be a non-empty string").
Status parse_request_tools(const Json& body, ToolForm form, coord::ToolSet& out);

// An assistant message's `tool_calls` (Chat Completions form); `ctx` names the message.
Result<std::vector<ToolCall>> parse_chat_tool_calls(const Json& calls, const std::string& ctx);

// `trinity.exclude_agents`: an array of slot indices (integers) and model names (strings).
Result<std::vector<coord::AgentRef>> parse_exclude_agents(const Json& list, const std::string& ctx);

// Chat Completions stream deltas of the answer's tool calls: per call, one delta with its index,
// id, type and name (arguments ""), then the arguments in pieces of at most ~max_bytes.
std::vector<OrderedJson> tool_call_deltas(const std::vector<ToolCall>& calls,
                                          size_t max_bytes = 48);

// Responses: the function tools echoed in the response object, and its tool_choice.
OrderedJson responses_tools_json(const coord::ToolSet& tools);
OrderedJson responses_tool_choice_json(const coord::ToolSet& tools);

}  // namespace trinity::server
