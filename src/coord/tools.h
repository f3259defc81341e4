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
// the call in the error. Empty (or all-whitespace) arguments, which some OpenAI-compatible
// servers send for a function without parameters, are first normalized to "{}".
Status check_tool_arguments(ToolCall& call, const std::string& what);

// OpenAI's and Anthropic's rule for function names: 1 to 64 of [A-Za-z0-9_-].
bool valid_tool_name(const std::string& name);

// The tool calls and results of a conversation, as the providers require them: tool calls only
// on assistant messages, each with a non-empty id used once in the conversation and JSON-object
// arguments; the results of an assistant message's calls directly after it (role "tool", one per
// call, in any order), and no tool result anywhere else. names[i] names message i in errors
// ("messages[3]"), `id_field` the field a result's call id is in ("tool_call_id", "call_id").
Status check_tool_conversation(std::vector<Message>& messages,
                               const std::vector<std::string>& names, const char* id_field);

// A reply's tool calls against the turn that asked for them (the provider layer and the
// orchestrator both apply it, so a fallback can answer instead). Offered tools: every call names
// one of them, with JSON-object arguments; tool_choice required (function) means at least one
// call (only to that function); parallel_tool_calls false means at most one call; an id already
// used by an earlier call of the reply is cleared (the orchestrator gives it a new one). No tools
// offered (a Thinker or Verifier turn): the calls are appended to the text in the router's text
// form ("[tool_call NAME ARGUMENTS]") and dropped, so such a reply is text.
Status check_reply_tool_calls(std::vector<ToolCall>& calls, std::string& text,
                              const ToolSet* offered);

// OpenAI's form of tool calls: [{id, type: "function", function: {name, arguments}}].
OrderedJson tool_calls_json(const std::vector<ToolCall>& calls);

// The first string property named `command` or `cmd` of a tool's parameters ("" if none): how
// the mock pool finds a shell tool.
std::string shell_command_property(const ToolSpec& tool);

}  // namespace trinity::coord
