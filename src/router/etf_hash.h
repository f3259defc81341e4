// Erlang external term format (ETF) encoding of the two terms the reference hashes, byte-exact
// with `:erlang.term_to_binary(term, [:compressed])` (see tests/data/golden/README.md):
//   transcript_hash = sha256 hex of the ETF of [%{role: r, content: c}, ...]
//   route_hash      = sha256 hex of the ETF of [agent_id, role_id, [10 rounded logits]]
// and the two forms the reference orchestrator writes into its traces (AITrace.Hash normalizes
// the term first: map keys become binaries, sorted bytewise):
//   trace_transcript_hash ("Form B") = [%{"content" => c, "role" => r}, ...]
//   trace_route_hash ("map form")    = %{"agent_id" => a, "logits_rounded" => [10 floats],
//                                        "role_id" => r, "schema" => kRouteHashSchema}
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "router/route.h"

namespace trinity {

// The uncompressed term: 131 followed by the body.
std::string etf_encode_messages(const std::vector<Message>& messages);
std::string etf_encode_route(int agent_id, int role_id, const double* logits, size_t n);

std::string etf_encode_messages_form_b(const std::vector<Message>& messages);
std::string etf_encode_route_map(int agent_id, int role_id, const double* logits, size_t n);
inline constexpr const char* kRouteHashSchema =
    "self_hosted_inference_bumblebee.route_hash_inputs.v1";

// Applies the [:compressed] rule: body = bytes after 131; z = zlib compress(body, level 6);
// returns 131, 80, u32be(len(body)), z when len(z) <= len(body) - 5, else the input unchanged.
Result<std::string> etf_compress(const std::string& uncompressed);

Result<std::string> transcript_hash(const std::vector<Message>& messages);
// `logits` are used as given (callers round them with elixir_round first).
Result<std::string> route_hash(int agent_id, int role_id, const double* logits, size_t n);

Result<std::string> trace_transcript_hash(const std::vector<Message>& messages);
// `logits` rounded as for route_hash.
Result<std::string> trace_route_hash(int agent_id, int role_id, const double* logits, size_t n);

}  // namespace trinity
