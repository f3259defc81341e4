// From a coordinator run to a RunRecord: the events it emitted (content mode applied, exactly as
// the JSONL trace writer writes them), its request and its result.
#pragma once

#include <mutex>
#include <vector>

#include "coord/orchestrator.h"
#include "coord/trace.h"
#include "store/run_store.h"

namespace trinity::store {

// An EventSink that keeps a run's events for finish_run (memory: the run's trace).
class RunCapture final : public coord::EventSink {
 public:
  explicit RunCapture(coord::ContentMode mode) : mode_(mode) {}
  Status on_event(const OrderedJson& event) override;
  std::vector<OrderedJson> take();

 private:
  coord::ContentMode mode_;
  std::mutex mu_;
  std::vector<OrderedJson> events_;
};

// The stored request: {"messages": [...], "options": {...}}, message contents per `mode`
// (hash: "sha256:<hex>" refs) after redaction of secrets.
OrderedJson stored_request(const std::vector<Message>& messages, OrderedJson options,
                           coord::ContentMode mode, const coord::Redactor& redactor);

// Fills the finished fields of `rec` (status, answer per mode, usage, cost, timings, turns,
// events) from the run's result and its captured events. `error` is the client-facing message
// of a failed run ("" otherwise).
void finish_record(RunRecord& rec, const coord::RunResult& r, std::vector<OrderedJson> events,
                   const std::string& error, const coord::Redactor& redactor, int64_t finished_ms);

}  // namespace trinity::store
