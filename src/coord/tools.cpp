#include "coord/tools.h"

#include <algorithm>
#include <set>

namespace trinity::coord {

const char* tool_choice_mode_name(ToolChoice::Mode m) {
  switch (m) {
    case ToolChoice::Mode::kAuto:
      return "auto";
    case ToolChoice::Mode::kNone:
      return "none";
    case ToolChoice::Mode::kRequired:
      return "required";
    case ToolChoice::Mode::kFunction:
      return "function";
  }
  return "auto";
}

OrderedJson ToolSet::to_json() const {
  OrderedJson j;
  j["tools"] = OrderedJson::array();
  for (const ToolSpec& t : tools) j["tools"].push_back(t.name);
  j["tool_choice"] = choice.mode == ToolChoice::Mode::kFunction
                         ? OrderedJson({{"type", "function"}, {"name", choice.name}})
                         : OrderedJson(tool_choice_mode_name(choice.mode));
  j["parallel_tool_calls"] = opt_json(parallel_tool_calls);
  j["dropped"] = dropped;
  return j;
}

OrderedJson tool_calls_json(const std::vector<ToolCall>& calls) {
  OrderedJson arr = OrderedJson::array();
  for (const ToolCall& c : calls) {
    OrderedJson f;
    f["name"] = c.name;
    f["arguments"] = c.arguments;
    OrderedJson j;
    j["id"] = c.id;
    j["type"] = "function";
    j["function"] = std::move(f);
    arr.push_back(std::move(j));
  }
  return arr;
}

Status check_tool_arguments(ToolCall& call, const std::string& what) {
  if (call.arguments.find_first_not_of(" \t\r\n") == std::string::npos) call.arguments = "{}";
  auto parsed = parse_json(call.arguments, what + ".arguments");
  if (!parsed.ok())
    return invalid_argument(what + ": the arguments of tool call '" + call.name +
                            "' are not valid JSON");
  if (!parsed->is_object())
    return invalid_argument(what + ": the arguments of tool call '" + call.name +
                            "' are not a JSON object");
  return ok_status();
}

bool valid_tool_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

Status check_tool_conversation(std::vector<Message>& messages,
                               const std::vector<std::string>& names, const char* id_field) {
  auto name = [&](size_t i) {
    return i < names.size() ? names[i] : "messages[" + std::to_string(i) + "]";
  };
  std::set<std::string> ids;      // every call id so far
  std::set<std::string> pending;  // calls of the last assistant message without a result yet
  size_t pending_from = 0;        // that assistant message
  for (size_t i = 0; i < messages.size(); ++i) {
    Message& m = messages[i];
    if (m.role == "tool") {
      if (!pending.erase(m.tool_call_id)) {
        std::string why = ids.count(m.tool_call_id) ? "' answers a call that is not the previous "
                                                      "assistant message's, or answers it twice"
                                                    : "' matches no earlier tool call";
        return invalid_argument(name(i) + "." + id_field + " '" + m.tool_call_id + why);
      }
      continue;
    }
    if (!pending.empty())
      return invalid_argument(name(pending_from) + ": tool call '" + *pending.begin() +
                              "' has no tool result (every call's result must directly follow "
                              "its assistant message)");
    if (!m.tool_calls.empty() && m.role != "assistant")
      return invalid_argument(name(i) + ": only assistant messages can have tool calls");
    for (size_t k = 0; k < m.tool_calls.size(); ++k) {
      ToolCall& c = m.tool_calls[k];
      const std::string what = name(i) + ".tool_calls[" + std::to_string(k) + "]";
      if (c.id.empty()) return invalid_argument(what + ": the call id is required");
      if (!ids.insert(c.id).second)
        return invalid_argument(what + ": the call id '" + c.id + "' is used twice");
      TRINITY_RETURN_IF_ERROR(check_tool_arguments(c, what));
      pending.insert(c.id);
      pending_from = i;
    }
  }
  // The conversation may end with calls not yet answered only if the client asks for nothing
  // after them; providers refuse that too, so it is an error as well.
  if (!pending.empty())
    return invalid_argument(name(pending_from) + ": tool call '" + *pending.begin() +
                            "' has no tool result (every call's result must directly follow "
                            "its assistant message)");
  return ok_status();
}

Status check_reply_tool_calls(std::vector<ToolCall>& calls, std::string& text,
                              const ToolSet* offered) {
  if (calls.empty()) {
    if (offered && offered->active() && offered->choice.mode != ToolChoice::Mode::kAuto)
      return invalid_argument("tool_choice requires a tool call, but the reply made none");
    return ok_status();
  }
  if (!offered || !offered->active()) {
    text = routed_content(Message{"assistant", text, calls});
    calls.clear();
    return ok_status();
  }
  if (offered->parallel_tool_calls == false && calls.size() > 1)
    return invalid_argument("parallel_tool_calls is false, but the reply made " +
                            std::to_string(calls.size()) + " tool calls");
  std::set<std::string> ids;
  for (size_t i = 0; i < calls.size(); ++i) {
    ToolCall& c = calls[i];
    const std::string what = "tool_calls[" + std::to_string(i) + "]";
    const bool known = std::any_of(offered->tools.begin(), offered->tools.end(),
                                   [&](const ToolSpec& t) { return t.name == c.name; });
    if (!known) return invalid_argument(what + " calls '" + c.name + "', which was not offered");
    if (offered->choice.mode == ToolChoice::Mode::kFunction && c.name != offered->choice.name)
      return invalid_argument(what + " calls '" + c.name + "', but tool_choice requires '" +
                              offered->choice.name + "'");
    TRINITY_RETURN_IF_ERROR(check_tool_arguments(c, what));
    if (!c.id.empty() && !ids.insert(c.id).second) c.id.clear();
  }
  return ok_status();
}

std::string shell_command_property(const ToolSpec& tool) {
  if (!tool.parameters.is_object()) return "";
  auto props = tool.parameters.find("properties");
  if (props == tool.parameters.end() || !props->is_object()) return "";
  for (const char* key : {"command", "cmd"}) {
    auto p = props->find(key);
    if (p == props->end() || !p->is_object()) continue;
    auto type = p->find("type");
    if (type != p->end() && *type == "string") return key;
  }
  return "";
}

}  // namespace trinity::coord
