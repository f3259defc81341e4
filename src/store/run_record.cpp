// RunRecord as JSON, run statuses and keyset cursors.
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "coord/budget.h"
#include "store/run_store.h"

namespace trinity::store {

bool is_run_status(const std::string& s) {
  return s == "running" || is_finished_status(s);
}

bool is_finished_status(const std::string& s) {
  return s == "accepted" || s == "unverified" || s == "failed" || s == "interrupted";
}

namespace {

OrderedJson turn_json(const TurnRow& t) {
  OrderedJson j;
  j["turn"] = t.turn;
  j["agent_id"] = t.agent_id;
  j["role"] = t.role;
  j["routed_role"] = t.routed_role;
  j["agent_margin"] = opt_json(t.agent_margin);
  j["role_margin"] = opt_json(t.role_margin);
  j["provider"] = t.provider;
  j["model"] = t.model;
  j["status"] = t.status;
  j["latency_ms"] = t.latency_ms;
  j["usage"] = OrderedJson{{"input_tokens", t.input_tokens},
                           {"output_tokens", t.output_tokens},
                           {"total_tokens", t.input_tokens + t.output_tokens}};
  j["cost_usd"] = coord::micro_to_usd(t.cost_micro_usd);
  if (!t.verdict.empty()) j["verdict"] = t.verdict;
  return j;
}

bool is_id_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
         c == '_';
}

}  // namespace

OrderedJson RunRecord::to_json(bool with_detail) const {
  OrderedJson j;
  j["id"] = id;
  j["object"] = "trinity.run";
  j["status"] = status;
  j["created_at"] = created_ms / 1000;
  j["created_ms"] = created_ms;
  j["finished_ms"] = opt_json(finished_ms);
  j["owner"] = owner;
  j["endpoint"] = endpoint;
  j["pool"] = pool;
  j["profile"] = profile;
  j["content_mode"] = content_mode;
  j["request"] = request;
  j["answer"] = opt_json(answer);
  if (!answer_tool_calls.is_null()) j["tool_calls"] = answer_tool_calls;
  if (!failure_reason.empty()) j["failure_reason"] = failure_reason;
  if (!error.empty()) j["error"] = error;
  j["usage"] = OrderedJson{{"input_tokens", input_tokens},
                           {"output_tokens", output_tokens},
                           {"total_tokens", input_tokens + output_tokens}};
  j["cost_usd"] = coord::micro_to_usd(cost_micro_usd);
  j["elapsed_ms"] = elapsed_ms;
  j["turn_count"] = turns_count;
  if (with_detail) {
    OrderedJson ts = OrderedJson::array();
    for (const TurnRow& t : turns) ts.push_back(turn_json(t));
    j["turns"] = std::move(ts);
    OrderedJson evs = OrderedJson::array();
    for (const OrderedJson& e : events) evs.push_back(e);
    j["events"] = std::move(evs);
  }
  return j;
}

std::string encode_cursor(int64_t created_ms, const std::string& id) {
  return std::to_string(created_ms) + "." + id;
}

Status decode_cursor(const std::string& cursor, int64_t* created_ms, std::string* id) {
  const size_t dot = cursor.find('.');
  const auto bad = [&] {
    return invalid_argument("cursor '" + cursor.substr(0, 80) +
                            "' is not one this server issued (use next_cursor as given)");
  };
  if (dot == std::string::npos || dot == 0 || dot > 19 || dot + 1 >= cursor.size() ||
      cursor.size() - dot - 1 > 128)
    return bad();
  for (size_t i = 0; i < dot; ++i)
    if (cursor[i] < '0' || cursor[i] > '9') return bad();
  for (size_t i = dot + 1; i < cursor.size(); ++i)
    if (!is_id_char(cursor[i])) return bad();
  *created_ms = std::strtoll(cursor.substr(0, dot).c_str(), nullptr, 10);
  *id = cursor.substr(dot + 1);
  return ok_status();
}

static bool all_digits(const std::string& s) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

Result<int64_t> parse_since_ms(const std::string& v) {
  if (all_digits(v)) return std::stoll(v) * 1000;
  std::tm tm{};
  int frac_end = 0;
  if (v.size() >= 20 &&
      std::sscanf(v.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &frac_end) == 6) {
    size_t i = static_cast<size_t>(frac_end);
    if (i < v.size() && v[i] == '.') {
      ++i;
      while (i < v.size() && v[i] >= '0' && v[i] <= '9') ++i;
    }
    if (i + 1 == v.size() && (v[i] == 'Z' || v[i] == 'z') && tm.tm_mon >= 1 && tm.tm_mon <= 12 &&
        tm.tm_mday >= 1 && tm.tm_mday <= 31 && tm.tm_hour < 24 && tm.tm_min < 60 &&
        tm.tm_sec <= 60) {
      tm.tm_year -= 1900;
      tm.tm_mon -= 1;
      return static_cast<int64_t>(timegm(&tm)) * 1000;
    }
  }
  return invalid_argument(
      "since: expected Unix seconds or an RFC 3339 UTC time such as "
      "2026-12-04T10:00:00Z, got '" +
      v.substr(0, 64) + "'");
}

}  // namespace trinity::store
