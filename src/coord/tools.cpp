#include "coord/tools.h"

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

Status check_tool_arguments(const ToolCall& call, const std::string& what) {
  auto parsed = parse_json(call.arguments, what + ".arguments");
  if (!parsed.ok())
    return invalid_argument(what + ": the arguments of tool call '" + call.name +
                            "' are not valid JSON");
  if (!parsed->is_object())
    return invalid_argument(what + ": the arguments of tool call '" + call.name +
                            "' are not a JSON object");
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
