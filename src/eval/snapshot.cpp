#include "eval/snapshot.h"

#include <set>

#include "core/file_util.h"

namespace trinity::eval {

namespace {

// An optional list of exactly n numbers: absent or null -> empty.
Result<std::vector<double>> number_list(const Json& obj, const char* key, size_t n,
                                        const std::string& ctx) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::vector<double>{};
  const Json* v = &*it;
  if (!v->is_array() || v->size() != n) {
    return parse_error(ctx + ": field '" + key + "' must be an array of " + std::to_string(n) +
                       " numbers");
  }
  std::vector<double> out;
  for (size_t i = 0; i < n; ++i) {
    if (!(*v)[i].is_number()) {
      return parse_error(ctx + ": field '" + key + "'[" + std::to_string(i) + "] must be a number");
    }
    out.push_back((*v)[i].get<double>());
  }
  return out;
}

Result<std::optional<double>> optional_number(const Json& obj, const char* key,
                                              const std::string& ctx) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<double>{};
  const Json* v = &*it;
  if (!v->is_number()) return parse_error(ctx + ": field '" + key + "' must be a number or null");
  return std::optional<double>(v->get<double>());
}

Result<int> bounded_int(const Json& obj, const char* key, int64_t lo, int64_t hi,
                        const std::string& ctx) {
  TRINITY_ASSIGN_OR_RETURN(int64_t v, json_int(obj, key, ctx));
  if (v < lo || v > hi) {
    return parse_error(ctx + ": field '" + key + "' must be in " + std::to_string(lo) + ".." +
                       std::to_string(hi) + ", got " + std::to_string(v));
  }
  return static_cast<int>(v);
}

Result<SnapshotEntry> parse_entry(const Json& c, const std::string& ctx_in) {
  std::string ctx = ctx_in;
  if (!c.is_object()) return parse_error(ctx + " must be an object");
  SnapshotEntry e;
  TRINITY_ASSIGN_OR_RETURN(e.id, json_string(c, "id", ctx));
  ctx += " (id '" + e.id + "')";
  TRINITY_ASSIGN_OR_RETURN(e.agent_id, bounded_int(c, "agent_id", 0, kNumAgents - 1, ctx));
  TRINITY_ASSIGN_OR_RETURN(e.role_id, bounded_int(c, "role_id", 0, kNumRoles - 1, ctx));
  TRINITY_ASSIGN_OR_RETURN(e.token_count, json_int(c, "token_count", ctx));
  if (e.token_count < 0) return parse_error(ctx + ": field 'token_count' must be >= 0");
  TRINITY_ASSIGN_OR_RETURN(e.agent_margin, optional_number(c, "agent_margin", ctx));
  TRINITY_ASSIGN_OR_RETURN(e.role_margin, optional_number(c, "role_margin", ctx));
  TRINITY_ASSIGN_OR_RETURN(e.agent_logits_rounded,
                           number_list(c, "agent_logits_rounded", kNumAgents, ctx));
  TRINITY_ASSIGN_OR_RETURN(e.role_logits_rounded,
                           number_list(c, "role_logits_rounded", kNumRoles, ctx));
  TRINITY_ASSIGN_OR_RETURN(e.transcript_hash, json_string(c, "transcript_hash", ctx));
  if (auto rh = c.find("route_hash"); rh != c.end() && !rh->is_null()) {
    if (!rh->is_string()) return parse_error(ctx + ": field 'route_hash' must be a string");
    e.route_hash = rh->get<std::string>();
  }
  return e;
}

}  // namespace

const SnapshotEntry* Snapshot::find(const std::string& id) const {
  for (const auto& e : cases)
    if (e.id == id) return &e;
  return nullptr;
}

SnapshotEntry snapshot_entry(const std::string& id, const RouteDecision& d) {
  SnapshotEntry e;
  e.id = id;
  e.agent_id = d.agent_id;
  e.role_id = d.role_id;
  e.token_count = d.token_count;
  e.agent_margin = d.agent_margin;
  e.role_margin = d.role_margin;
  const auto rounded = d.rounded_logits();
  e.agent_logits_rounded.assign(rounded.begin(), rounded.begin() + kNumAgents);
  e.role_logits_rounded.assign(rounded.begin() + kNumAgents, rounded.end());
  e.transcript_hash = d.transcript_hash;
  e.route_hash = d.route_hash;
  return e;
}

Result<Snapshot> parse_snapshot(const std::string& text, const std::string& what) {
  TRINITY_ASSIGN_OR_RETURN(Json doc, parse_json(text, what));
  if (!doc.is_object()) return parse_error(what + ": expected a JSON object");
  Snapshot s;
  TRINITY_ASSIGN_OR_RETURN(int64_t version, json_int(doc, "schema_version", what));
  if (version != kSnapshotSchemaVersion) {
    return unsupported(what + ": field 'schema_version' must be " +
                       std::to_string(kSnapshotSchemaVersion) + ", got " + std::to_string(version));
  }
  s.schema_version = static_cast<int>(version);
  auto gen = doc.find("generated_at");
  if (gen != doc.end() && !gen->is_null()) {
    if (!gen->is_string()) return parse_error(what + ": field 'generated_at' must be a string");
    s.generated_at = gen->get<std::string>();
  }
  TRINITY_ASSIGN_OR_RETURN(const Json* cases, json_field(doc, "cases", what));
  if (!cases->is_array()) return parse_error(what + ": field 'cases' must be an array");
  std::set<std::string> seen;
  for (size_t i = 0; i < cases->size(); ++i) {
    const std::string ctx = what + ": cases[" + std::to_string(i) + "]";
    TRINITY_ASSIGN_OR_RETURN(SnapshotEntry e, parse_entry((*cases)[i], ctx));
    if (!seen.insert(e.id).second) return parse_error(ctx + ": duplicate id '" + e.id + "'");
    s.cases.push_back(std::move(e));
  }
  return s;
}

Result<Snapshot> load_snapshot_file(const std::string& path) {
  auto text = read_file(path);
  if (!text.ok()) return text.status().with_context("snapshot file");
  return parse_snapshot(*text, path);
}

Json snapshot_to_json(const Snapshot& s) {
  // Json is a std::map: keys come out sorted, as the reference writes them.
  Json doc;
  doc["schema_version"] = s.schema_version;
  doc["generated_at"] = s.generated_at;
  Json arr = Json::array();
  for (const auto& e : s.cases) {
    Json c;
    c["id"] = e.id;
    c["agent_id"] = e.agent_id;
    c["role_id"] = e.role_id;
    c["token_count"] = e.token_count;
    c["agent_margin"] = e.agent_margin ? Json(*e.agent_margin) : Json(nullptr);
    c["role_margin"] = e.role_margin ? Json(*e.role_margin) : Json(nullptr);
    if (!e.agent_logits_rounded.empty()) c["agent_logits_rounded"] = e.agent_logits_rounded;
    if (!e.role_logits_rounded.empty()) c["role_logits_rounded"] = e.role_logits_rounded;
    c["transcript_hash"] = e.transcript_hash;
    if (!e.route_hash.empty()) c["route_hash"] = e.route_hash;
    arr.push_back(std::move(c));
  }
  doc["cases"] = std::move(arr);
  return doc;
}

std::string snapshot_to_text(const Snapshot& s) {
  return snapshot_to_json(s).dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

Status write_snapshot_file(const std::string& path, const Snapshot& s) {
  return write_file_atomic(path, snapshot_to_text(s)).with_context("writing snapshot " + path);
}

}  // namespace trinity::eval
