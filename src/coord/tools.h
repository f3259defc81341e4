// Function tools a client offers a run (docs/coordinator.md, "Tools").
//
// A client (a coding agent) sends `tools`; Worker turns are dispatched with them and the whole
// conversation in the provider's native form, and a Worker answer is text, tool calls or both.
// Thinker and Verifier turns get no tools: they see the proposed calls rendered as text. The
// tools themselves are never run here: a run whose final Worker answer holds tool calls returns
// them to the client, which runs them and sends the results in its next request.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "router/route.h"

namespace trinity::coord {

// One function tool, in a provider-neutral form.
struct ToolSpec {
  std::string name;
  std::string description;     // "" when the client gave none
  Json parameters;             // the JSON Schema object; null when the client gave none
  std::optional<bool> strict;  // OpenAI's `strict`, passed on when set
};

struct ToolChoice {
  enum class Mode { kAuto, kNone, kRequired, kFunction };
  Mode mode = Mode::kAuto;
  std::string name;  // kFunction: the function that must be called
};

struct ToolSet {
  std::vector<ToolSpec> tools;
  ToolChoice choice;
  std::optional<bool> parallel_tool_calls;  // passed on when the client set it
  // Tools the client sent that are not forwarded (types other than `function`, e.g. Codex's
  // `web_search` and `namespace`): "<type>" or "<type>:<name>", for the trace.
  std::vector<std::string> dropped;

  // True when Worker turns are dispatched with tools: some tools and a choice other than none.
  bool active() const { return !tools.empty() && choice.mode != ToolChoice::Mode::kNone; }
  // {tools: [names], tool_choice, parallel_tool_calls, dropped: [...]}: what the trace records.
  OrderedJson to_json() const;
};

// "auto" | "none" | "required" | "function"
const char* tool_choice_mode_name(ToolChoice::Mode m);

// A tool call's arguments must be a JSON object (OpenAI's and Anthropic's contract); `what` names
// the call in the error.
Status check_tool_arguments(const ToolCall& call, const std::string& what);

// OpenAI's form of tool calls: [{id, type: "function", function: {name, arguments}}].
OrderedJson tool_calls_json(const std::vector<ToolCall>& calls);

// The first string property named `command` or `cmd` of a tool's parameters ("" if none): how
// the mock pool finds a shell tool.
std::string shell_command_property(const ToolSpec& tool);

}  // namespace trinity::coord
