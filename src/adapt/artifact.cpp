#include "adapt/artifact.h"

#include <curl/curl.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>

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

struct Download {
  CURL* curl = nullptr;
  std::string part;
  FILE* fp = nullptr;
  long code = 0;
  bool started = false;
  std::string error_body;
  uint64_t bytes = 0;
  Status status;
};

size_t on_write(char* ptr, size_t size, size_t nmemb, void* user) {
  auto* d = static_cast<Download*>(user);
  const size_t n = size * nmemb;
  if (!d->started) {
    d->started = true;
    curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, &d->code);
    if (d->code == 206 || d->code == 200) {
      d->fp = std::fopen(d->part.c_str(), d->code == 206 ? "ab" : "wb");
      if (!d->fp) {
        d->status = io_error(d->part + ": cannot open for writing");
        return 0;
      }
    }
  }
  if (!d->fp) {
    if (d->error_body.size() < 512) d->error_body.append(ptr, std::min<size_t>(n, 512));
    return n;
  }
  if (std::fwrite(ptr, 1, n, d->fp) != n) {
    d->status = io_error(d->part + ": write failed");
    return 0;
  }
  d->bytes += n;
  return n;
}

void curl_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// GET url into `part`, resuming from its current size. Returns bytes received.
Result<uint64_t> download_to_part(const std::string& url, const std::string& part,
                                  const std::string& token, bool* resumed) {
  curl_init_once();
  Download d;
  d.part = part;
  d.curl = curl_easy_init();
  if (!d.curl) return internal_error("curl_easy_init failed");
  const uint64_t have = file_size_or_zero(part);
  *resumed = have > 0;
  struct curl_slist* headers = nullptr;
  std::string auth;
  if (!token.empty()) {
    auth = "Authorization: Bearer " + token;
    headers = curl_slist_append(headers, auth.c_str());
  }
  std::string range = std::to_string(have) + "-";
  curl_easy_setopt(d.curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(d.curl, CURLOPT_FOLLOWLOCATION, 1L);  // auth is not forwarded to other hosts
  curl_easy_setopt(d.curl, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(d.curl, CURLOPT_USERAGENT, "trinity.cpp/0.1.0");
  curl_easy_setopt(d.curl, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(d.curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(d.curl, CURLOPT_LOW_SPEED_TIME, 120L);
  curl_easy_setopt(d.curl, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(d.curl, CURLOPT_WRITEDATA, &d);
  if (headers) curl_easy_setopt(d.curl, CURLOPT_HTTPHEADER, headers);
  if (have > 0) curl_easy_setopt(d.curl, CURLOPT_RANGE, range.c_str());
  const CURLcode rc = curl_easy_perform(d.curl);
  if (!d.started) curl_easy_getinfo(d.curl, CURLINFO_RESPONSE_CODE, &d.code);
  if (d.fp) std::fclose(d.fp);
  curl_slist_free_all(headers);
  curl_easy_cleanup(d.curl);
  if (!d.status.ok()) return d.status;
  if (d.code == 416 && have > 0) {
    // The partial file is not a prefix the server can extend: start over.
    std::filesystem::remove(part);
    return download_to_part(url, part, token, resumed);
  }
  if (rc != CURLE_OK) return io_error(url + ": " + curl_easy_strerror(rc));
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
