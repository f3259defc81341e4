// Crafted traces for the fitness tests: two orchestrator runs in our trace format
// (docs/trace-schema.md), with margins chosen so that the scores are exact by hand.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "core/file_util.h"
#include "core/json.h"

namespace trinity::train::testing {

// run-a: turn 1 Worker (margins 0.96 / 4.24 = 4x the floors 0.24 / 1.06), reflex
// direct_dispatch, dispatch 100 ms / $0.002; turn 2 Verifier (0.48 / 2.12 = 2x the floors),
// dispatch 300 ms / $0.006, verifier accepted; run_finished accepted (420 ms, $0.008).
inline const char* kTraceA =
    R"({"schema_version":1,"event":"route_decision","run_id":"run-a","timestamp_ms":1,"turn":1,"selected_agent_id":2,"selected_role_id":0,"role_name":"worker","agent_margin":0.96,"role_margin":4.24,"min_margin":0.96,"confidence_band":"medium","token_count":12,"transcript_hash":"tx-a","input_hash":"tx-a","route_hash":"r-a1","runtime_profile":"mock_tiny","provider_pool":"mock","route_path":"orchestrator","artifact_ref":"artifact:mock-tiny-route-runtime","artifact_revision":null,"artifact_hash_ref":null,"input_content":[{"role":"user","content":"What is 2+2?"}]}
{"schema_version":1,"event":"reflex_decision","run_id":"run-a","timestamp_ms":2,"turn":1,"route_hash":"r-a1","confidence_class":"high","action":"direct_dispatch","reason":"high_confidence","forced_sequence":["bogus"],"reflex_enabled":true}
{"schema_version":1,"event":"provider_dispatch_finished","run_id":"run-a","timestamp_ms":3,"turn":1,"dispatch_ref":"dispatch:run-a:1","response_ref":"response:sha256:a1","provider":"mock","model":"mock-2","model_profile":null,"latency_ms":100,"estimated_cost_usd":0.002,"ok":true,"error_ref":null,"reply":"sha256:secret-reply"}
{"schema_version":1,"event":"budget_snapshot","run_id":"run-a","timestamp_ms":4,"turn":1,"checkpoint":"after_dispatch_latency","provider_calls":1,"verifier_revisions":0,"estimated_cost_usd":0.002,"wall_time_ms":110,"budget_exceeded":false,"budget_exceeded_key":null}

{"schema_version":1,"event":"route_decision","run_id":"run-a","timestamp_ms":5,"turn":2,"selected_agent_id":4,"selected_role_id":2,"role_name":"verifier","agent_margin":0.48,"role_margin":2.12,"min_margin":0.48,"confidence_band":"medium","token_count":30,"transcript_hash":"tx-a2","input_hash":"tx-a2","route_hash":"r-a2","runtime_profile":"mock_tiny","provider_pool":"mock","route_path":"orchestrator","artifact_ref":"artifact:mock-tiny-route-runtime","artifact_revision":null,"artifact_hash_ref":null}
{"schema_version":1,"event":"provider_dispatch_finished","run_id":"run-a","timestamp_ms":6,"turn":2,"dispatch_ref":"dispatch:run-a:2","response_ref":"response:sha256:a2","provider":"mock","model":"mock-4","model_profile":null,"latency_ms":300,"estimated_cost_usd":0.006,"ok":true,"error_ref":null}
{"schema_version":1,"event":"verifier_result","run_id":"run-a","timestamp_ms":7,"turn":2,"route_hash":"r-a2","status":"accepted","safe_status":"accepted","revision_count":0,"verifier_response_ref":"verifier-response:sha256:a2"}
{"schema_version":1,"event":"budget_snapshot","run_id":"run-a","timestamp_ms":8,"turn":2,"checkpoint":"after_turn","provider_calls":2,"verifier_revisions":0,"estimated_cost_usd":0.008,"wall_time_ms":420,"budget_exceeded":false,"budget_exceeded_key":null}
{"schema_version":1,"event":"run_finished","run_id":"run-a","timestamp_ms":9,"turn":2,"status":"finished","run_status":"accepted","total_turns":2,"final_response_ref":"response:sha256:a1","provider_calls":2,"verifier_revisions":0,"estimated_cost_usd":0.008,"wall_time_ms":420}
)";

// run-b: turn 1 Worker at the floors (0.24 / 1.06); turn 2 Verifier below them (0.12 / 0.53)
// says revise (revision 1); turn 3 Worker, whose budget snapshot exceeds provider_calls;
// run_failed with budget_exceeded.
inline const char* kTraceB =
    R"({"schema_version":1,"event":"route_decision","run_id":"run-b","timestamp_ms":1,"turn":1,"selected_agent_id":1,"selected_role_id":0,"role_name":"worker","agent_margin":0.24,"role_margin":1.06,"min_margin":0.24,"confidence_band":"medium","token_count":9,"transcript_hash":"tx-b","input_hash":"tx-b","route_hash":"r-b1","runtime_profile":"mock_tiny","provider_pool":"mock","route_path":"orchestrator","artifact_ref":"artifact:mock-tiny-route-runtime","artifact_revision":null,"artifact_hash_ref":null}
{"schema_version":1,"event":"budget_snapshot","run_id":"run-b","timestamp_ms":2,"turn":1,"provider_calls":1,"verifier_revisions":0,"estimated_cost_usd":0.001,"wall_time_ms":50,"budget_exceeded":false,"budget_exceeded_key":null}
{"schema_version":1,"event":"route_decision","run_id":"run-b","timestamp_ms":3,"turn":2,"selected_agent_id":3,"selected_role_id":2,"role_name":"verifier","agent_margin":0.12,"role_margin":0.53,"min_margin":0.12,"confidence_band":"medium","token_count":20,"transcript_hash":"tx-b2","input_hash":"tx-b2","route_hash":"r-b2","runtime_profile":"mock_tiny","provider_pool":"mock","route_path":"orchestrator","artifact_ref":"artifact:mock-tiny-route-runtime","artifact_revision":null,"artifact_hash_ref":null}
{"schema_version":1,"event":"verifier_result","run_id":"run-b","timestamp_ms":4,"turn":2,"route_hash":"r-b2","status":"revise","safe_status":"revised","revision_count":1,"verifier_response_ref":"verifier-response:sha256:b2"}
{"schema_version":1,"event":"route_decision","run_id":"run-b","timestamp_ms":5,"turn":3,"selected_agent_id":1,"selected_role_id":0,"role_name":"worker","agent_margin":0.5,"role_margin":2.0,"min_margin":0.5,"confidence_band":"medium","token_count":40,"transcript_hash":"tx-b3","input_hash":"tx-b3","route_hash":"r-b3","runtime_profile":"mock_tiny","provider_pool":"mock","route_path":"orchestrator","artifact_ref":"artifact:mock-tiny-route-runtime","artifact_revision":null,"artifact_hash_ref":null}
{"schema_version":1,"event":"budget_snapshot","run_id":"run-b","timestamp_ms":6,"turn":3,"provider_calls":3,"verifier_revisions":1,"estimated_cost_usd":0.003,"wall_time_ms":200,"budget_exceeded":true,"budget_exceeded_key":"provider_calls"}
{"schema_version":1,"event":"run_failed","run_id":"run-b","timestamp_ms":7,"turn":3,"status":"failed","reason_ref":"reason:sha256:b","provider_calls":3,"verifier_revisions":1,"estimated_cost_usd":0.003,"wall_time_ms":200,"budget_exceeded":true,"budget_exceeded_key":"provider_calls"}
)";

// A per-process temp directory (ctest runs test cases as parallel processes).
inline std::string temp_dir(const std::string& name) {
  const std::string dir =
      ::testing::TempDir() + "/fitness_" + std::to_string(::getpid()) + "_" + name;
  EXPECT_TRUE(make_dirs(dir).ok());
  return dir;
}

inline std::string write_temp(const std::string& dir, const std::string& name,
                              const std::string& text) {
  const std::string path = dir + "/" + name;
  EXPECT_TRUE(write_file_atomic(path, text).ok());
  return path;
}

inline std::vector<Json> parse_lines(const std::string& text) {
  std::vector<Json> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(Json::parse(text.substr(start, end - start)));
    start = end + 1;
  }
  return out;
}

}  // namespace trinity::train::testing
