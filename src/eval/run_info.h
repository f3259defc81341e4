// Metadata of one eval run, shared by the text, JSON, trace and HTML renderers.
#pragma once

#include <optional>
#include <string>

#include "coord/route_fields.h"
#include "eval/resolve.h"
#include "router/route.h"

namespace trinity::eval {

struct RunInfo {
  std::string run_id;                  // unique per run (trace events, report)
  std::string started_at;              // ISO-8601 UTC
  std::string base, artifact, vector;  // router inputs as given (empty when unused)
  std::string profile, backend;
  std::string cases_path;
  size_t cases_in_file = 0;
  ReflexFloors floors;
  std::string floors_source;  // "flags", "profile defaults", or a mix
  SnapshotChoice snapshot;
  bool assert_results = true;
  double load_ms = 0;                                           // opening the router
  std::string snapshot_out, write_expected, trace_out, report;  // outputs requested
  coord::ArtifactIdentity artifact_identity;                    // trace route_decision events
};

// printf-formats one number (e.g. "%.6f"), for the renderers and failure messages.
std::string format_double(const char* format, double v);

// A fresh run id: "eval-<utc compact>-<pid>-<random hex>".
std::string new_run_id();

}  // namespace trinity::eval
