// The eval cases file (the reference's schema, read unchanged):
//   {"schema_version": 1, "cases": [{"id", "messages": [{"role", "content"}],
//     "expected": {"agent_id", "role_id"}, "tags": [..], "notes": ".."}]}
// Extra top-level keys and extra per-case keys are allowed and kept (a round trip writes them
// back in their original order). Errors name the file, the case index/id and the field.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "router/route.h"

namespace trinity::eval {

struct ExpectedRoute {
  int agent_id = 0;
  int role_id = 0;
  bool operator==(const ExpectedRoute&) const = default;
};

struct EvalCase {
  std::string id;
  std::vector<Message> messages;
  std::optional<ExpectedRoute> expected;  // absent or null: the route is not asserted
  std::vector<std::string> tags;
  std::string notes;
  OrderedJson raw;  // the case object as read (key order and unknown keys), for round trips
};

struct CasesFile {
  int schema_version = 1;
  std::vector<EvalCase> cases;
  OrderedJson raw;  // the top-level object as read
};

inline constexpr int kCasesSchemaVersion = 1;

// `what` names the source (usually the path) in errors.
Result<CasesFile> parse_cases(const std::string& text, const std::string& what);
Result<CasesFile> load_cases_file(const std::string& path);

// The file as JSON: the original objects with `expected` (and the other known fields) taken
// from the structs, so parse -> serialize reproduces a reference file byte for byte.
OrderedJson cases_to_json(const CasesFile& file);
// Pretty-printed (2-space indent, UTF-8 kept as is, trailing newline).
std::string cases_to_text(const CasesFile& file);

// Index of the case with this id, or -1.
int find_case(const CasesFile& file, const std::string& id);

}  // namespace trinity::eval
