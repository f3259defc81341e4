// Pins, verification against a pin and fetching from a local Hugging Face-compatible server
// (cpp-httplib on 127.0.0.1; no internet): fresh download, skip, resume with Range, a corrupted
// file, bearer token, offline verification.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "adapt/artifact.h"
#include "core/file_util.h"
#include "core/sha256.h"

namespace trinity {
namespace {

namespace fs = std::filesystem;

struct HfServer {
  httplib::Server srv;
  std::thread th;
  int port = 0;
  std::mutex mu;
  std::map<std::string, std::string> files;  // "repo/resolve/rev/path" suffix -> bytes
  std::vector<std::string> ranges, auths;
  int requests = 0;

  HfServer() {
    srv.Get(R"(/datasets/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu);
      ++requests;
      ranges.push_back(req.get_header_value("Range"));
      auths.push_back(req.get_header_value("Authorization"));
      auto it = files.find(req.matches[1]);
      if (it == files.end()) {
        res.status = 404;
        res.set_content("not found", "text/plain");
        return;
      }
      res.set_content(it->second, "application/octet-stream");  // httplib serves Range requests
    });
    port = srv.bind_to_any_port("127.0.0.1");
    th = std::thread([this] { srv.listen_after_bind(); });
    while (!srv.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~HfServer() {
    srv.stop();
    th.join();
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port); }
};

const std::string kManifest = "{\"artifact_version\": 1}\n";
std::string big_payload() {
  std::string s;
  for (int i = 0; i < 200000; ++i) s += static_cast<char>('a' + (i * 7) % 26);
  return s;
}

Pin make_pin() {
  Pin p;
  p.repo_id = "org/bundle";
  p.revision = "v1";
  p.manifest_sha256 = sha256_hex(kManifest);
  p.files = {{"manifest.json", p.manifest_sha256},
             {"checkpoints/0001_x.safetensors", sha256_hex(big_payload())}};
  return p;
}

void serve_pin(HfServer& s, const std::string& ckpt_bytes) {
  s.files["org/bundle/resolve/v1/manifest.json"] = kManifest;
  s.files["org/bundle/resolve/v1/checkpoints/0001_x.safetensors"] = ckpt_bytes;
}

std::string fresh(const std::string& n) {
  const std::string d =
      ::testing::TempDir() + "/trinity_fetch_" + std::to_string(::getpid()) + "_" + n;
  fs::remove_all(d);
  return d;
}

TEST(Pin, ParsesTheShippedCanonicalPin) {
  auto p = load_pin(std::string(TRINITY_SOURCE_DIR) +
                    "/fixtures/pins/trinity-coordinator-adapted-qwen3-0.6b-v1.0.0.json");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->repo_id, "nshkrdotcom/trinity-coordinator-adapted-qwen3-0.6b");
  EXPECT_EQ(p->revision, "v1.0.0");
  EXPECT_EQ(p->files.size(), 11u);
  EXPECT_EQ(pin_file_url("https://huggingface.co", *p, "manifest.json"),
            "https://huggingface.co/datasets/nshkrdotcom/trinity-coordinator-adapted-qwen3-0.6b/"
            "resolve/v1.0.0/manifest.json");
}

TEST(Pin, RejectsUnsafeOrMalformedPins) {
  const std::string sha(64, 'a');
  auto bad = [&](const std::string& text, const std::string& needle) {
    auto p = parse_pin(text, "pin.json");
    ASSERT_FALSE(p.ok()) << text;
    EXPECT_NE(p.status().message().find(needle), std::string::npos) << p.status().message();
  };
  const std::string head =
      "{\"version\": 1, \"repo_id\": \"a/b\", \"revision\": \"r\", "
      "\"manifest_sha256\": \"" +
      sha + "\", \"files\": ";
  bad(head + "[{\"path\": \"../etc/passwd\", \"sha256\": \"" + sha + "\"}]}", "inside");
  bad(head + "[{\"path\": \"/abs\", \"sha256\": \"" + sha + "\"}]}", "inside");
  bad(head + "[{\"path\": \"x\", \"sha256\": \"ABC\"}]}", "hex");
  bad(head + "[{\"path\": \"x\", \"sha256\": \"" + sha + "\"}]}", "manifest.json");
  bad("{\"version\": 2}", "version");
}

TEST(Fetch, DownloadsVerifiesAndSkipsWhatIsCorrect) {
  HfServer s;
  serve_pin(s, big_payload());
  const std::string d = fresh("basic");
  FetchOptions o;
  o.endpoint = s.endpoint();
  o.token = "hf_secret_token";
  auto r = fetch_pinned(make_pin(), d, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[1].action, "downloaded");
  EXPECT_EQ(*read_file(d + "/checkpoints/0001_x.safetensors"), big_payload());
  EXPECT_EQ(s.auths.back(), "Bearer hf_secret_token");
  const int before = s.requests;
  auto again = fetch_pinned(make_pin(), d, o);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(s.requests, before);  // both files already correct: nothing fetched
  EXPECT_EQ((*again)[0].action, "skipped");
}

TEST(Fetch, ResumesAPartialDownloadWithARangeRequest) {
  HfServer s;
  const std::string payload = big_payload();
  serve_pin(s, payload);
  const std::string d = fresh("resume");
  ASSERT_TRUE(make_dirs(d + "/checkpoints").ok());
  ASSERT_TRUE(
      write_file_atomic(d + "/checkpoints/0001_x.safetensors.part", payload.substr(0, 123456))
          .ok());
  FetchOptions o;
  o.endpoint = s.endpoint();
  auto r = fetch_pinned(make_pin(), d, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)[1].action, "resumed");
  EXPECT_EQ((*r)[1].bytes, payload.size() - 123456);
  EXPECT_EQ(s.ranges.back(), "bytes=123456-");
  EXPECT_EQ(*read_file(d + "/checkpoints/0001_x.safetensors"), payload);
  EXPECT_FALSE(fs::exists(d + "/checkpoints/0001_x.safetensors.part"));
}

TEST(Fetch, CorruptedDownloadNeverLandsUnderItsFinalName) {
  HfServer s;
  std::string bad = big_payload();
  bad[777] ^= 1;
  serve_pin(s, bad);
  const std::string d = fresh("corrupt");
  ASSERT_TRUE(make_dirs(d + "/checkpoints").ok());
  // A wrong file already sitting under the final name is removed too.
  ASSERT_TRUE(write_file_atomic(d + "/checkpoints/0001_x.safetensors", "stale").ok());
  FetchOptions o;
  o.endpoint = s.endpoint();
  auto r = fetch_pinned(make_pin(), d, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("checkpoints/0001_x.safetensors"), std::string::npos);
  EXPECT_NE(r.status().message().find("sha256"), std::string::npos);
  EXPECT_FALSE(fs::exists(d + "/checkpoints/0001_x.safetensors"));
  EXPECT_FALSE(fs::exists(d + "/checkpoints/0001_x.safetensors.part"));
  EXPECT_TRUE(fs::exists(d + "/manifest.json"));  // the good file stays
}

TEST(Fetch, HttpErrorsAndOfflineVerification) {
  HfServer s;  // serves nothing
  const std::string d = fresh("offline");
  FetchOptions o;
  o.endpoint = s.endpoint();
  auto r = fetch_pinned(make_pin(), d, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("HTTP 404"), std::string::npos);
  EXPECT_FALSE(fs::exists(d + "/manifest.json"));
  o.offline = true;
  auto off = fetch_pinned(make_pin(), d, o);
  ASSERT_FALSE(off.ok());
  EXPECT_NE(off.status().message().find("missing"), std::string::npos);
  EXPECT_EQ(s.requests, 1);  // offline made no request
  serve_pin(s, big_payload());
  o.offline = false;
  ASSERT_TRUE(fetch_pinned(make_pin(), d, o).ok());
  o.offline = true;
  auto ok = fetch_pinned(make_pin(), d, o);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ((*ok)[1].action, "verified");
  auto checks = check_against_pin(d, make_pin());
  ASSERT_TRUE(checks.ok());
  for (const auto& c : *checks) EXPECT_EQ(c.state, "ok");
}

TEST(Fetch, EndpointResolution) {
  ::unsetenv("HF_ENDPOINT");
  EXPECT_EQ(resolve_hf_endpoint(""), "https://huggingface.co");
  ::setenv("HF_ENDPOINT", "http://mirror.local/", 1);
  EXPECT_EQ(resolve_hf_endpoint(""), "http://mirror.local");
  EXPECT_EQ(resolve_hf_endpoint("http://flag:1"), "http://flag:1");
  ::unsetenv("HF_ENDPOINT");
}

}  // namespace
}  // namespace trinity
