#include "adapt/artifact.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "core/curl_http.h"
#include "core/file_util.h"
#include "core/json.h"
#include "core/sha256.h"

namespace trinity {

namespace {

bool is_hex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char ch : s)
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return false;
  return true;
}

bool safe_relative_path(const std::string& p) {
  if (p.empty() || p[0] == '/' || p.find('\\') != std::string::npos) return false;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    const std::string part = p.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

uint64_t file_size_or_zero(const std::string& p) {
  std::error_code ec;
  auto n = std::filesystem::file_size(p, ec);
  return ec ? 0 : static_cast<uint64_t>(n);
}

// Where one download's body goes: `part`, opened at the first body byte of a 200 (truncated) or
// 206 (appended) response; any other response's body is dropped.
struct PartSink {
  std::string part;
  FILE* fp = nullptr;
  long code = 0;  // the response status at the first body byte
  bool started = false;
  uint64_t bytes = 0;
  Status status;

  bool write(long response_status, const char* data, size_t n) {
    if (!started) {
      started = true;
      code = response_status;
      if (code == 206 || code == 200) {
        fp = std::fopen(part.c_str(), code == 206 ? "ab" : "wb");
        if (!fp) {
          status = io_error(part + ": cannot open for writing");
          return false;
        }
      }
    }
    if (!fp) return true;
    if (std::fwrite(data, 1, n, fp) != n) {
      status = io_error(part + ": write failed");
      return false;
    }
    bytes += n;
    return true;
  }
  void close() {
    if (fp) std::fclose(fp);
    fp = nullptr;
  }
};

CurlRequest download_request(const std::string& url, const std::string& token, uint64_t have) {
  CurlRequest r;
  r.url = url;
  if (!token.empty()) r.headers.push_back("Authorization: Bearer " + token);
  if (have > 0) r.range = std::to_string(have) + "-";
  r.follow_redirects = true;  // auth is not forwarded to other hosts
  r.user_agent = "trinity.cpp/0.1.0";
  r.connect_timeout_ms = 30000;
  r.low_speed_bytes_per_s = 1;
  r.low_speed_time_s = 120;
  return r;
}

// GET url into `part`, resuming from its current size. Returns bytes received.
Result<uint64_t> download_to_part(const std::string& url, const std::string& part,
                                  const std::string& token, bool* resumed) {
  const uint64_t have = file_size_or_zero(part);
  *resumed = have > 0;
  PartSink d;
  d.part = part;
  CurlRequest r = download_request(url, token, have);
  r.on_body = [&d](long status, const char* data, size_t n) { return d.write(status, data, n); };
  const CurlResponse resp = curl_perform(r);
  d.close();
  if (resp.failure == CurlFailure::kInit) return internal_error(resp.error);
  if (!d.started) d.code = resp.status;
  if (!d.status.ok()) return d.status;
  if (d.code == 416 && have > 0) {
    // The partial file is not a prefix the server can extend: start over.
    std::filesystem::remove(part);
    return download_to_part(url, part, token, resumed);
  }
  if (!resp.ok()) return io_error(url + ": " + resp.error);
  if (d.code != 200 && d.code != 206)
    return io_error(
        url + ": HTTP " + std::to_string(d.code) +
        (d.code == 401 || d.code == 403 ? " (set HF_TOKEN for gated or private repos)" : ""));
  if (d.code == 200 && !d.started) {  // empty body
    FILE* fp = std::fopen(part.c_str(), "wb");
    if (fp) std::fclose(fp);
  }
  if (d.code == 200) *resumed = false;
  return d.bytes;
}

}  // namespace

Result<Pin> parse_pin(const std::string& text, const std::string& what) {
  TRINITY_ASSIGN_OR_RETURN(Json j, parse_json(text, what));
  Pin p;
  TRINITY_ASSIGN_OR_RETURN(p.version, json_int(j, "version", what));
  if (p.version != 1)
    return unsupported(what + ": pin version " + std::to_string(p.version) + " (expected 1)");
  TRINITY_ASSIGN_OR_RETURN(p.repo_id, json_string(j, "repo_id", what));
  TRINITY_ASSIGN_OR_RETURN(p.revision, json_string(j, "revision", what));
  TRINITY_ASSIGN_OR_RETURN(p.manifest_sha256, json_string(j, "manifest_sha256", what));
  if (!is_hex64(p.manifest_sha256))
    return parse_error(what + ": manifest_sha256 must be 64 lowercase hex digits");
  if (p.repo_id.empty() || p.revision.empty())
    return parse_error(what + ": repo_id and revision must be non-empty");
  TRINITY_ASSIGN_OR_RETURN(const Json* files, json_field(j, "files", what));
  if (!files->is_array() || files->empty())
    return parse_error(what + ": 'files' must be a non-empty array");
  bool manifest_pinned = false;
  for (size_t i = 0; i < files->size(); ++i) {
    const std::string ctx = what + ": files[" + std::to_string(i) + "]";
    PinFile f;
    TRINITY_ASSIGN_OR_RETURN(f.path, json_string((*files)[i], "path", ctx));
    TRINITY_ASSIGN_OR_RETURN(f.sha256, json_string((*files)[i], "sha256", ctx));
    if (!safe_relative_path(f.path))
      return parse_error(ctx + ": path '" + f.path +
                         "' must be relative and stay inside the bundle");
    if (!is_hex64(f.sha256)) return parse_error(ctx + ": sha256 must be 64 lowercase hex digits");
    if (f.path == "manifest.json") {
      manifest_pinned = true;
      if (f.sha256 != p.manifest_sha256)
        return mismatch(ctx + ": manifest.json sha256 differs from manifest_sha256");
    }
    p.files.push_back(std::move(f));
  }
  if (!manifest_pinned) return parse_error(what + ": files must include manifest.json");
  return p;
}

Result<Pin> load_pin(const std::string& path) {
  TRINITY_ASSIGN_OR_RETURN(std::string text, read_file(path));
  return parse_pin(text, path);
}

Result<std::vector<PinCheck>> check_against_pin(const std::string& dir, const Pin& pin) {
  std::vector<PinCheck> out;
  for (const PinFile& f : pin.files) {
    PinCheck c{f.path, f.sha256, "", "ok"};
    const std::string p = join_path(dir, f.path);
    if (!file_exists(p)) {
      c.state = "missing";
    } else {
      TRINITY_ASSIGN_OR_RETURN(c.actual, sha256_file_hex(p));
      if (c.actual != f.sha256) c.state = "mismatch";
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::string resolve_hf_endpoint(const std::string& flag) {
  std::string e = flag;
  if (e.empty()) {
    const char* env = std::getenv("HF_ENDPOINT");
    e = (env && *env) ? env : kDefaultHfEndpoint;
  }
  while (!e.empty() && e.back() == '/') e.pop_back();
  return e;
}

std::string pin_file_url(const std::string& endpoint, const Pin& pin, const std::string& path) {
  return endpoint + "/datasets/" + pin.repo_id + "/resolve/" + pin.revision + "/" + path;
}

Result<std::vector<FetchFileReport>> fetch_pinned(const Pin& pin, const std::string& dest,
                                                  const FetchOptions& opt) {
  std::vector<FetchFileReport> out;
  std::vector<std::string> problems;
  for (const PinFile& f : pin.files) {
    const std::string final_path = join_path(dest, f.path);
    const std::string part = final_path + ".part";
    FetchFileReport r{f.path, "", 0};
    if (file_exists(final_path)) {
      TRINITY_ASSIGN_OR_RETURN(std::string sha, sha256_file_hex(final_path));
      if (sha == f.sha256) {
        r.action = opt.offline ? "verified" : "skipped";
        if (opt.log) opt.log(f.path + ": ok (sha256 verified)");
        out.push_back(r);
        continue;
      }
      if (opt.offline) {
        problems.push_back(final_path + ": sha256 mismatch: pin says " + f.sha256 + ", file has " +
                           sha);
        continue;
      }
      std::filesystem::remove(final_path);  // never keep a wrong file under its final name
    } else if (opt.offline) {
      problems.push_back(final_path + ": missing");
      continue;
    }
    TRINITY_RETURN_IF_ERROR(make_dirs(std::filesystem::path(final_path).parent_path().string()));
    bool resumed = false;
    const std::string url = pin_file_url(opt.endpoint, pin, f.path);
    auto got = download_to_part(url, part, opt.token, &resumed);
    if (!got.ok()) return got.status().with_context(f.path);
    TRINITY_ASSIGN_OR_RETURN(std::string sha, sha256_file_hex(part));
    if (sha != f.sha256) {
      std::filesystem::remove(part);
      return mismatch(f.path + ": downloaded file has sha256 " + sha + ", the pin says " +
                      f.sha256 + " (deleted; nothing was installed)");
    }
    std::error_code ec;
    std::filesystem::rename(part, final_path, ec);
    if (ec) return io_error(final_path + ": rename failed: " + ec.message());
    r.action = resumed ? "resumed" : "downloaded";
    r.bytes = *got;
    if (opt.log)
      opt.log(f.path + ": " + r.action + " " + std::to_string(r.bytes) + " bytes, sha256 verified");
    out.push_back(r);
  }
  if (!problems.empty()) {
    std::string msg = dest + ": " + std::to_string(problems.size()) +
                      " pinned file(s) failed "
                      "offline verification:";
    for (const auto& p : problems) msg += "\n  " + p;
    return mismatch(msg);
  }
  return out;
}

}  // namespace trinity
