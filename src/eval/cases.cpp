#include "eval/cases.h"

#include <set>

#include "core/file_util.h"

namespace trinity::eval {

namespace {

Result<int> small_int(const OrderedJson& obj, const char* key, int lo, int hi,
                      const std::string& ctx) {
  auto it = obj.find(key);
  if (it == obj.end()) return parse_error(ctx + ": field '" + key + "' is missing");
  if (!it->is_number_integer())
    return parse_error(ctx + ": field '" + key + "' must be an integer");
  const int64_t v = it->get<int64_t>();
  if (v < lo || v > hi) {
    return parse_error(ctx + ": field '" + key + "' must be in " + std::to_string(lo) + ".." +
                       std::to_string(hi) + ", got " + std::to_string(v));
  }
  return static_cast<int>(v);
}

Result<EvalCase> parse_case(const OrderedJson& c, const std::string& ctx_in) {
  std::string ctx = ctx_in;
  if (!c.is_object()) return parse_error(ctx + " must be an object");
  EvalCase out;
  out.raw = c;
  auto id = c.find("id");
  if (id == c.end()) return parse_error(ctx + ": field 'id' is missing");
  if (!id->is_string() || id->get_ref<const std::string&>().empty())
    return parse_error(ctx + ": field 'id' must be a non-empty string");
  out.id = id->get<std::string>();
  ctx += " (id '" + out.id + "')";

  auto msgs = c.find("messages");
  if (msgs == c.end()) return parse_error(ctx + ": field 'messages' is missing");
  auto messages = messages_from_json(Json(*msgs), ctx + ": field 'messages'");
  if (!messages.ok()) return messages.status();
  out.messages = std::move(messages).value();

  auto exp = c.find("expected");
  if (exp != c.end() && !exp->is_null()) {
    const std::string ectx = ctx + ": field 'expected'";
    if (!exp->is_object()) return parse_error(ectx + " must be an object {agent_id, role_id}");
    ExpectedRoute e;
    TRINITY_ASSIGN_OR_RETURN(e.agent_id, small_int(*exp, "agent_id", 0, kNumAgents - 1, ectx));
    TRINITY_ASSIGN_OR_RETURN(e.role_id, small_int(*exp, "role_id", 0, kNumRoles - 1, ectx));
    out.expected = e;
  }

  auto tags = c.find("tags");
  if (tags != c.end() && !tags->is_null()) {
    if (!tags->is_array()) return parse_error(ctx + ": field 'tags' must be an array of strings");
    for (size_t i = 0; i < tags->size(); ++i) {
      if (!(*tags)[i].is_string()) {
        return parse_error(ctx + ": field 'tags'[" + std::to_string(i) + "] must be a string");
      }
      out.tags.push_back((*tags)[i].get<std::string>());
    }
  }
  auto notes = c.find("notes");
  if (notes != c.end() && !notes->is_null()) {
    if (!notes->is_string()) return parse_error(ctx + ": field 'notes' must be a string");
    out.notes = notes->get<std::string>();
  }
  return out;
}

}  // namespace

Result<CasesFile> parse_cases(const std::string& text, const std::string& what) {
  TRINITY_ASSIGN_OR_RETURN(OrderedJson doc, parse_ordered_json(text, what));
  if (!doc.is_object())
    return parse_error(what + ": expected a JSON object {schema_version, cases}");
  CasesFile out;
  out.raw = doc;
  auto sv = doc.find("schema_version");
  if (sv == doc.end()) return parse_error(what + ": field 'schema_version' is missing");
  if (!sv->is_number_integer() || sv->get<int64_t>() != kCasesSchemaVersion) {
    return unsupported(what + ": field 'schema_version' must be " +
                       std::to_string(kCasesSchemaVersion) + ", got " +
                       sv->dump(-1, ' ', false, OrderedJson::error_handler_t::replace));
  }
  auto cases = doc.find("cases");
  if (cases == doc.end()) return parse_error(what + ": field 'cases' is missing");
  if (!cases->is_array()) return parse_error(what + ": field 'cases' must be an array");
  std::set<std::string> seen;
  for (size_t i = 0; i < cases->size(); ++i) {
    auto c = parse_case((*cases)[i], what + ": cases[" + std::to_string(i) + "]");
    if (!c.ok()) return c.status();
    if (!seen.insert(c->id).second) {
      return parse_error(what + ": cases[" + std::to_string(i) + "]: duplicate id '" + c->id + "'");
    }
    out.cases.push_back(std::move(c).value());
  }
  return out;
}

Result<CasesFile> load_cases_file(const std::string& path) {
  auto text = read_file(path);
  if (!text.ok()) return text.status().with_context("cases file");
  return parse_cases(*text, path);
}

OrderedJson cases_to_json(const CasesFile& file) {
  OrderedJson doc = file.raw.is_object() ? file.raw : OrderedJson::object();
  doc["schema_version"] = file.schema_version;
  OrderedJson arr = OrderedJson::array();
  for (const EvalCase& c : file.cases) {
    OrderedJson o = c.raw.is_object() ? c.raw : OrderedJson::object();
    o["id"] = c.id;
    // The reference's role-then-content key order (messages_to_json would sort the keys).
    OrderedJson msgs = OrderedJson::array();
    for (const Message& m : c.messages)
      msgs.push_back(OrderedJson{{"role", m.role}, {"content", m.content}});
    o["messages"] = std::move(msgs);
    if (c.expected) {
      o["expected"] =
          OrderedJson{{"agent_id", c.expected->agent_id}, {"role_id", c.expected->role_id}};
    } else if (o.contains("expected")) {
      o["expected"] = nullptr;
    }
    if (!c.tags.empty() || o.contains("tags")) o["tags"] = c.tags;
    if (!c.notes.empty() || o.contains("notes")) o["notes"] = c.notes;
    arr.push_back(std::move(o));
  }
  doc["cases"] = std::move(arr);
  return doc;
}

std::string cases_to_text(const CasesFile& file) {
  return cases_to_json(file).dump(2, ' ', false, OrderedJson::error_handler_t::replace) + "\n";
}

int find_case(const CasesFile& file, const std::string& id) {
  for (size_t i = 0; i < file.cases.size(); ++i)
    if (file.cases[i].id == id) return static_cast<int>(i);
  return -1;
}

}  // namespace trinity::eval
