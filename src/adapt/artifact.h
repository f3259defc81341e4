// Pinned bundles: the pin file ({version: 1, repo_id, revision, manifest_sha256,
// files: [{path, sha256}]}), verification of a directory against it, and downloading the pinned
// files from a Hugging Face-compatible endpoint (libcurl, through core/curl_http.h)
// ({endpoint}/datasets/{repo_id}/resolve/{revision}/{path}).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/status.h"

namespace trinity {

constexpr const char* kDefaultHfEndpoint = "https://huggingface.co";

struct PinFile {
  std::string path, sha256;
};

struct Pin {
  int64_t version = 1;
  std::string repo_id, revision, manifest_sha256;
  std::vector<PinFile> files;
};

// Validates the schema; file paths must be relative and stay inside the bundle; hashes must be 64
// lowercase hex digits; manifest.json must be pinned with manifest_sha256.
Result<Pin> parse_pin(const std::string& text, const std::string& what);
Result<Pin> load_pin(const std::string& path);

struct PinCheck {
  std::string path, expected, actual;
  std::string state;  // ok | missing | mismatch
};

// Hashes every pinned file under `dir`. Never fails for a missing or wrong file: see `state`.
Result<std::vector<PinCheck>> check_against_pin(const std::string& dir, const Pin& pin);

// --endpoint if given, else $HF_ENDPOINT, else https://huggingface.co (trailing '/' removed).
std::string resolve_hf_endpoint(const std::string& flag);
std::string pin_file_url(const std::string& endpoint, const Pin& pin, const std::string& path);

struct FetchOptions {
  std::string endpoint;                         // resolved
  std::string token;                            // sent as "Authorization: Bearer"; never printed
  bool offline = false;                         // only verify what is in dest
  std::function<void(const std::string&)> log;  // one line per file
};

struct FetchFileReport {
  std::string path, action;  // skipped (already correct) | downloaded | resumed | verified
  uint64_t bytes = 0;        // downloaded this run
};

// Downloads every pinned file into `dest` (resuming "<file>.part" with a Range request),
// verifies its sha256 and renames it into place. A wrong file is never left under its final
// name: a mismatching download is deleted and reported, an existing wrong file is removed first.
Result<std::vector<FetchFileReport>> fetch_pinned(const Pin& pin, const std::string& dest,
                                                  const FetchOptions& opt);

}  // namespace trinity
