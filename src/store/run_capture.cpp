#include "store/run_capture.h"

#include <map>

namespace trinity::store {

Status RunCapture::on_event(const OrderedJson& event) {
  OrderedJson stored = coord::apply_content_mode(event, mode_);
  std::lock_guard<std::mutex> lock(mu_);
  events_.push_back(std::move(stored));
  return ok_status();
}

std::vector<OrderedJson> RunCapture::take() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::move(events_);
}

namespace {

coord::ContentMode mode_of(const RunRecord& rec) {
  return rec.content_mode == "full" ? coord::ContentMode::kFull : coord::ContentMode::kHash;
}

// Tokens, status and cost of each turn's call, from its provider_dispatch_finished event.
struct CallFacts {
  std::string status;
  int64_t input_tokens = 0, output_tokens = 0;
};

std::map<int, CallFacts> call_facts(const std::vector<OrderedJson>& events) {
  std::map<int, CallFacts> facts;
  for (const OrderedJson& ev : events) {
    if (ev.value("event", "") != "provider_dispatch_finished") continue;
    CallFacts f;
    f.status = ev.value("status", "");
    if (f.status != "ok" && ev.value("reason", "") == "cancelled") f.status = "cancelled";
    f.input_tokens = ev.value("input_tokens", int64_t{0});
    f.output_tokens = ev.value("output_tokens", int64_t{0});
    facts[ev.value("turn", 0)] = f;
  }
  return facts;
}

}  // namespace

OrderedJson stored_request(const std::vector<Message>& messages, OrderedJson options,
                           coord::ContentMode mode, const coord::Redactor& redactor) {
  OrderedJson msgs = OrderedJson::array();
  for (const Message& m : messages) {
    OrderedJson j{{"role", m.role}, {"content", redactor.redact_text(m.content)}};
    if (!m.tool_calls.empty()) {
      std::vector<ToolCall> calls = m.tool_calls;
      for (ToolCall& c : calls) c.arguments = redactor.redact_text(c.arguments);
      j["tool_calls"] = coord::tool_calls_json(calls);
    }
    if (!m.tool_call_id.empty()) j["tool_call_id"] = m.tool_call_id;
    msgs.push_back(std::move(j));
  }
  OrderedJson wrapped{{"request_messages", std::move(msgs)}};
  wrapped = coord::apply_content_mode(wrapped, mode);
  OrderedJson j;
  j["messages"] = std::move(wrapped["request_messages"]);
  j["options"] = std::move(options);
  return j;
}

void finish_record(RunRecord& rec, const coord::RunResult& r, std::vector<OrderedJson> events,
                   const std::string& error, const coord::Redactor& redactor, int64_t finished_ms) {
  rec.status = r.run_status();
  rec.finished_ms = finished_ms;
  rec.answer.reset();
  rec.answer_tool_calls = nullptr;
  if (r.answer) {
    OrderedJson wrapped{{"answer", redactor.remove_secrets(*r.answer)}};
    if (!r.answer_tool_calls.empty()) {
      std::vector<ToolCall> calls = r.answer_tool_calls;
      for (ToolCall& c : calls) c.arguments = redactor.remove_secrets(c.arguments);
      wrapped["tool_calls"] = coord::tool_calls_json(calls);
    }
    wrapped = coord::apply_content_mode(wrapped, mode_of(rec));
    rec.answer = wrapped["answer"].get<std::string>();
    if (wrapped.contains("tool_calls")) rec.answer_tool_calls = std::move(wrapped["tool_calls"]);
  }
  rec.failure_reason = r.ok() ? "" : r.failure_reason;
  rec.error = r.ok() ? "" : error;
  rec.cost_micro_usd = r.usage.cost_micro_usd;
  rec.elapsed_ms = r.usage.elapsed_ms;
  rec.turns_count = static_cast<int>(r.turns.size());
  const std::map<int, CallFacts> facts = call_facts(events);
  rec.input_tokens = rec.output_tokens = 0;
  rec.turns.clear();
  for (const coord::TurnRecord& t : r.turns) {
    TurnRow row;
    row.turn = t.turn;
    row.agent_id = t.agent_id;
    row.role = role_name(t.role_id);
    row.routed_role = role_name(t.routed_role_id);
    row.agent_margin = t.agent_margin;
    row.role_margin = t.role_margin;
    row.provider = t.provider;
    row.model = t.model;
    row.latency_ms = t.latency_ms;
    row.cost_micro_usd = t.cost_micro_usd;
    row.verdict = t.verdict;
    if (auto it = facts.find(t.turn); it != facts.end()) {
      row.status = it->second.status;
      row.input_tokens = it->second.input_tokens;
      row.output_tokens = it->second.output_tokens;
    }
    rec.input_tokens += row.input_tokens;
    rec.output_tokens += row.output_tokens;
    rec.turns.push_back(std::move(row));
  }
  rec.events = std::move(events);
}

}  // namespace trinity::store
