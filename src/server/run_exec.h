// One coordinator run for a request of a run endpoint (/v1/chat/completions, /v1/responses).
//
// The endpoints parse their request and format their answer; what lies between is shared and
// lives in run_exec.cpp as members of Server::Impl:
//   prepare_run        run id, pool (with the request's provider overrides), run options with the
//                      request's limits tightened into the server's, the trace file, the run's
//                      `running` row in the run store (503 if the store cannot be written);
//   begin_run/end_run  every run's start and finish go through these (metrics; end_run writes
//                      the finished run to the store before the endpoint sends its answer);
//   execute_blocking   the run on the request's thread;
//   execute_streaming  the run on a worker thread while the request's thread writes its progress
//                      events and ": ping" heartbeats; a failed write (the client went away)
//                      cancels the run.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "coord/orchestrator.h"
#include "coord/trace.h"
#include "server/openai_api.h"
#include "store/run_capture.h"

namespace trinity::server {

// A run's row in the run store, from begin_run to end_run.
struct StoredRun {
  store::RunRecord record;
  store::RunCapture capture;  // one of the run's sinks
  explicit StoredRun(coord::ContentMode mode) : capture(mode) {}
};

// Everything a run needs besides the messages.
struct PreparedRun {
  std::string run_id;
  coord::RunOptions options;
  std::shared_ptr<const coord::AgentPool> pool;
  std::unique_ptr<coord::JsonlTraceWriter> trace;
  std::optional<std::string> trace_ref;           // the trace file (with --trace-dir)
  std::chrono::steady_clock::time_point started;  // set by begin_run
  std::unique_ptr<StoredRun> stored;              // null without a run store
  std::unique_ptr<coord::EventSink> otel;  // OpenTelemetry spans (null without --otlp-endpoint)
};

// A finished run and the tokens its provider calls used.
struct RunOutcome {
  coord::RunResult result;
  TokenUsage usage;
};

// Formats a progress object of a streaming run ({run_id, event: turn | verifier, ...}, the chat
// stream's extension object) as the SSE text to send. Called on the run's thread.
using ProgressFormatter = std::function<std::string(OrderedJson progress)>;

}  // namespace trinity::server
