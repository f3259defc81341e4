#include "server/tool_wire.h"

#include <algorithm>
#include <set>

#include "server/openai_api.h"

namespace trinity::server {
namespace {

Result<std::string> opt_string(const Json& obj, const char* key, const std::string& ctx) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::string();
  if (!it->is_string()) return invalid_argument(ctx + "." + key + " must be a string");
  return it->get<std::string>();
}

// One function tool; `f` is the object holding name/description/parameters/strict (the tool
// itself in the Responses form, its `function` in the Chat form), `ctx` its path.
Result<coord::ToolSpec> parse_function(const Json& f, const std::string& ctx) {
  coord::ToolSpec t;
  auto name = f.find("name");
  if (name == f.end() || !name->is_string() || name->get<std::string>().empty())
    return invalid_argument(ctx + ".name must be a non-empty string");
  t.name = name->get<std::string>();
  if (!coord::valid_tool_name(t.name))
    return invalid_argument(ctx + ".name '" + t.name +
                            "' is not a valid function name (1 to 64 of a-z, A-Z, 0-9, _ and -)");
  TRINITY_ASSIGN_OR_RETURN(t.description, opt_string(f, "description", ctx));
  if (auto p = f.find("parameters"); p != f.end() && !p->is_null()) {
    if (!p->is_object()) return invalid_argument(ctx + ".parameters must be a JSON Schema object");
    t.parameters = *p;
  }
  if (auto s = f.find("strict"); s != f.end() && !s->is_null()) {
    if (!s->is_boolean()) return invalid_argument(ctx + ".strict must be a boolean");
    t.strict = s->get<bool>();
  }
  return t;
}

Status parse_tool_list(const Json& tools, ToolForm form, coord::ToolSet& out) {
  if (!tools.is_array()) return invalid_argument("tools must be an array");
  std::set<std::string> names;
  for (size_t i = 0; i < tools.size(); ++i) {
    const std::string ctx = "tools[" + std::to_string(i) + "]";
    const Json& t = tools[i];
    if (!t.is_object()) return invalid_argument(ctx + " must be an object");
    auto type = t.find("type");
    if (type == t.end() || !type->is_string())
      return invalid_argument(ctx + ".type must be a string");
    if (*type != "function") {  // a hosted or client-specific tool: not forwarded
      std::string dropped = type->get<std::string>();
      if (auto n = t.find("name"); n != t.end() && n->is_string()) {
        dropped += ':';
        dropped += n->get<std::string>();
      }
      out.dropped.push_back(std::move(dropped));
      continue;
    }
    const Json* f = &t;
    std::string fctx = ctx;
    if (form == ToolForm::kChat) {
      auto fn = t.find("function");
      if (fn == t.end() || !fn->is_object())
        return invalid_argument(ctx + ".function must be an object");
      f = &*fn;
      fctx += ".function";
    }
    TRINITY_ASSIGN_OR_RETURN(coord::ToolSpec spec, parse_function(*f, fctx));
    if (!names.insert(spec.name).second)
      return invalid_argument(fctx + ".name '" + spec.name + "' is defined twice");
    out.tools.push_back(std::move(spec));
  }
  return ok_status();
}

Status parse_tool_choice(const Json& c, ToolForm form, coord::ToolSet& out) {
  using Mode = coord::ToolChoice::Mode;
  if (c.is_string()) {
    const std::string s = c.get<std::string>();
    if (s == "auto") return ok_status();
    if (s == "none") return out.choice.mode = Mode::kNone, ok_status();
    if (s == "required") return out.choice.mode = Mode::kRequired, ok_status();
    return invalid_argument("tool_choice must be \"auto\", \"none\", \"required\" or a function");
  }
  if (!c.is_object() || c.value("type", Json()) != "function")
    return invalid_argument(
        "tool_choice must be \"auto\", \"none\", \"required\" or {\"type\": \"function\", ...}");
  const Json* named = &c;
  std::string ctx = "tool_choice";
  if (form == ToolForm::kChat) {
    auto fn = c.find("function");
    if (fn == c.end() || !fn->is_object())
      return invalid_argument("tool_choice.function must be an object");
    named = &*fn;
    ctx += ".function";
  }
  auto name = named->find("name");
  if (name == named->end() || !name->is_string())
    return invalid_argument(ctx + ".name must be a string");
  const std::string n = name->get<std::string>();
  if (std::none_of(out.tools.begin(), out.tools.end(),
                   [&](const coord::ToolSpec& t) { return t.name == n; }))
    return invalid_argument(ctx + ".name '" + n + "' is not one of the function tools");
  out.choice = {Mode::kFunction, n};
  return ok_status();
}

}  // namespace

Status parse_request_tools(const Json& body, ToolForm form, coord::ToolSet& out) {
  if (auto t = body.find("tools"); t != body.end() && !t->is_null())
    TRINITY_RETURN_IF_ERROR(parse_tool_list(*t, form, out));
  if (auto c = body.find("tool_choice"); c != body.end() && !c->is_null())
    TRINITY_RETURN_IF_ERROR(parse_tool_choice(*c, form, out));
  if (auto p = body.find("parallel_tool_calls"); p != body.end() && !p->is_null()) {
    if (!p->is_boolean()) return invalid_argument("parallel_tool_calls must be a boolean");
    out.parallel_tool_calls = p->get<bool>();
  }
  return ok_status();
}

Result<std::vector<ToolCall>> parse_chat_tool_calls(const Json& calls, const std::string& ctx) {
  if (!calls.is_array()) return invalid_argument(ctx + ".tool_calls must be an array");
  std::vector<ToolCall> out;
  for (size_t k = 0; k < calls.size(); ++k) {
    const std::string cctx = ctx + ".tool_calls[" + std::to_string(k) + "]";
    const Json& c = calls[k];
    if (!c.is_object()) return invalid_argument(cctx + " must be an object");
    if (auto type = c.find("type"); type != c.end() && *type != "function")
      return invalid_argument(cctx + ".type must be \"function\"");
    auto id = c.find("id");
    if (id == c.end() || !id->is_string() || id->get<std::string>().empty())
      return invalid_argument(cctx + ".id must be a non-empty string");
    auto f = c.find("function");
    if (f == c.end() || !f->is_object())
      return invalid_argument(cctx + ".function must be an object");
    auto name = f->find("name");
    if (name == f->end() || !name->is_string() || name->get<std::string>().empty())
      return invalid_argument(cctx + ".function.name must be a non-empty string");
    auto args = f->find("arguments");
    if (args == f->end() || !args->is_string())
      return invalid_argument(cctx + ".function.arguments must be a string");
    ToolCall call{id->get<std::string>(), name->get<std::string>(), args->get<std::string>()};
    TRINITY_RETURN_IF_ERROR(coord::check_tool_arguments(call, cctx + ".function"));
    out.push_back(std::move(call));
  }
  return out;
}

Result<std::vector<coord::AgentRef>> parse_exclude_agents(const Json& list,
                                                          const std::string& ctx) {
  if (!list.is_array())
    return invalid_argument(ctx + " must be an array of agent slots (0-6) and model names");
  std::vector<coord::AgentRef> out;
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& v = list[i];
    coord::AgentRef ref;
    if (v.is_number_unsigned()) {
      ref.slot = static_cast<int>(std::min<uint64_t>(v.get<uint64_t>(), 1000000));
    } else if (v.is_number_integer()) {
      ref.slot = static_cast<int>(std::clamp<int64_t>(v.get<int64_t>(), -1000000, 1000000));
    } else if (v.is_string() && !v.get<std::string>().empty()) {
      ref.model = v.get<std::string>();
    } else {
      return invalid_argument(ctx + "[" + std::to_string(i) +
                              "] must be an agent slot (0-6) or a model name");
    }
    out.push_back(std::move(ref));
  }
  return out;
}

std::vector<OrderedJson> tool_call_deltas(const std::vector<ToolCall>& calls, size_t max_bytes) {
  std::vector<OrderedJson> out;
  for (size_t i = 0; i < calls.size(); ++i) {
    OrderedJson head;
    head["index"] = i;
    head["id"] = calls[i].id;
    head["type"] = "function";
    head["function"] = {{"name", calls[i].name}, {"arguments", ""}};
    out.push_back({{"tool_calls", OrderedJson::array({std::move(head)})}});
    for (const std::string& piece : split_deltas(calls[i].arguments, max_bytes)) {
      OrderedJson d;
      d["index"] = i;
      d["function"] = {{"arguments", piece}};
      out.push_back({{"tool_calls", OrderedJson::array({std::move(d)})}});
    }
  }
  return out;
}

OrderedJson responses_tools_json(const coord::ToolSet& tools) {
  OrderedJson arr = OrderedJson::array();
  for (const coord::ToolSpec& t : tools.tools) {
    OrderedJson j;
    j["type"] = "function";
    j["name"] = t.name;
    j["description"] = t.description.empty() ? OrderedJson(nullptr) : OrderedJson(t.description);
    j["parameters"] =
        t.parameters.is_null() ? OrderedJson(nullptr) : OrderedJson::parse(t.parameters.dump());
    j["strict"] = opt_json(t.strict);
    arr.push_back(std::move(j));
  }
  return arr;
}

OrderedJson responses_tool_choice_json(const coord::ToolSet& tools) {
  if (tools.choice.mode == coord::ToolChoice::Mode::kFunction)
    return {{"type", "function"}, {"name", tools.choice.name}};
  return coord::tool_choice_mode_name(tools.choice.mode);
}

}  // namespace trinity::server
