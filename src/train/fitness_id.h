// Identity and canonical bytes of fitness data.
//
// canonical_json: compact JSON with every object's keys sorted bytewise, recursively (what the
// fitness JSONL, manifests and reports are written as, so equal data gives equal bytes).
//
// reference_digest: the digest the reference's TraceFitnessAssembler uses for example ids:
// sha256 (lowercase hex) of :erlang.term_to_binary(normalize_for_hash(value), [:compressed]),
// where normalize_for_hash turns a map into the list of its {binary key, value} tuples sorted
// by key, keeps lists, binaries and numbers, and turns atoms (true, false, nil) into binaries.
// A JSON value maps onto the term Jason decodes it to (object -> map, array -> list, string ->
// binary, integer -> integer, float -> float, true/false/null -> atoms).
#pragma once

#include <string>

#include "core/json.h"
#include "core/status.h"

namespace trinity::train {

std::string canonical_json(const Json& value);

// The uncompressed term (131 followed by the body).
std::string etf_encode_normalized(const Json& value);
Result<std::string> reference_digest(const Json& value);

// "fitness:sha256:" + reference_digest(%{run_id, turn, case_id, route_hash}).
Result<std::string> fitness_example_id(const Json& run_id, const Json& turn, const Json& case_id,
                                       const Json& route_hash);

}  // namespace trinity::train
