// The run store as users meet it: `trinity serve` with its default SQLite store keeps runs across
// a restart, marks the runs its previous process left running as interrupted (and not another
// live replica's), pages GET /v1/runs, and `trinity runs list|show|export` read the same file;
// export feeds `trinity fitness export`.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "cli/serve_process.h"
#include "store/run_store.h"

namespace {

using nlohmann::json;
using trinity_test::ServeProcess;
using trinity_test::slurp;

std::string temp_dir() {
  char tmpl[] = "/tmp/trinity_store_cliXXXXXX";
  return mkdtemp(tmpl);
}

// Runs the trinity binary with `args` (a shell word list); returns the exit code.
int trinity(const std::string& args, std::string* out = nullptr) {
  const std::string cmd = std::string(TRINITY_BINARY) + " " + args + " 2>&1";
  FILE* f = popen(cmd.c_str(), "r");
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
  const int st = pclose(f);
  if (out) *out = text;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

const char* kChat = R"({"model":"trinity","messages":[{"role":"user","content":"store me"}]})";

std::string chat(httplib::Client& c) {
  auto r = c.Post("/v1/chat/completions", kChat, "application/json");
  EXPECT_TRUE(r);
  if (!r) return "";
  EXPECT_EQ(r->status, 200) << r->body;
  return r->get_header_value("X-Trinity-Run-Id");
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(ServeStore, DefaultSqliteStoreKeepsRunsAcrossARestart) {
  const std::string data = temp_dir();
  const std::vector<std::string> env = {"XDG_DATA_HOME=" + data};
  std::string id;
  json before;
  {
    ServeProcess p({"--pool", "mock", "--profile", "mock_tiny", "--port", "0", "--quiet"}, env);
    const int port = p.wait_port();
    ASSERT_GT(port, 0) << p.out() << p.err();
    EXPECT_NE(p.out().find("run store sqlite:" + data + "/trinity/runs.db"), std::string::npos)
        << p.out();
    httplib::Client c("127.0.0.1", port);
    id = chat(c);
    ASSERT_EQ(id.size(), 16u);
    auto g = c.Get("/v1/runs/" + id);
    ASSERT_TRUE(g);
    ASSERT_EQ(g->status, 200) << g->body;
    before = json::parse(g->body);
    EXPECT_EQ(before["id"], id);
    EXPECT_TRUE(before["status"] == "accepted" || before["status"] == "unverified") << g->body;
    EXPECT_EQ(before["endpoint"], "chat.completions");
    EXPECT_EQ(before["pool"], "mock");
    EXPECT_EQ(before["profile"], "mock_tiny");
    EXPECT_EQ(before["content_mode"], "hash");
    // Content per the trace content mode (hash by default): no prompt text is stored.
    EXPECT_EQ(g->body.find("store me"), std::string::npos);
    EXPECT_GE(before["turns"].size(), 1u);
    EXPECT_EQ(before["turns"].size(), before["turn_count"].get<size_t>());
    EXPECT_GT(before["usage"]["total_tokens"].get<int64_t>(), 0);
    EXPECT_FALSE(before["events"].empty());
    EXPECT_EQ(before["events"].back()["event"], "run_finished");
    EXPECT_EQ(p.stop(SIGTERM), 0) << p.err();
  }
  ASSERT_TRUE(std::filesystem::exists(data + "/trinity/runs.db"));
  {
    ServeProcess p({"--pool", "mock", "--profile", "mock_tiny", "--port", "0", "--quiet"}, env);
    const int port = p.wait_port();
    ASSERT_GT(port, 0) << p.out() << p.err();
    httplib::Client c("127.0.0.1", port);
    auto g = c.Get("/v1/runs/" + id);
    ASSERT_TRUE(g);
    ASSERT_EQ(g->status, 200) << g->body;
    EXPECT_EQ(json::parse(g->body), before);
    auto missing = c.Get("/v1/runs/ffffffffffffffff");
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->status, 404);
    EXPECT_NE(missing->body.find("run_not_found"), std::string::npos);
    EXPECT_EQ(p.stop(SIGTERM), 0) << p.err();
  }
  // The CLI reads the same store.
  const std::string spec = "sqlite:" + data + "/trinity/runs.db";
  std::string out;
  ASSERT_EQ(trinity("runs list --store " + spec, &out), 0) << out;
  EXPECT_NE(out.find(id), std::string::npos) << out;
  ASSERT_EQ(trinity("runs show " + id + " --store " + spec, &out), 0) << out;
  EXPECT_EQ(json::parse(out), before);
  ASSERT_EQ(trinity("runs export --store " + spec + " --out " + data + "/runs.jsonl", &out), 0)
      << out;
  const std::string jsonl = slurp(data + "/runs.jsonl");
  size_t lines = 0;
  for (size_t at = 0; (at = jsonl.find('\n', at)) != std::string::npos; ++at) ++lines;
  EXPECT_EQ(lines, before["events"].size());
  // fitness export reads it as a trace file.
  ASSERT_EQ(trinity("fitness export --trace " + data + "/runs.jsonl --out " + data + "/fit", &out),
            0)
      << out;
  EXPECT_TRUE(std::filesystem::exists(data + "/fit"));
  EXPECT_NE(trinity("runs show nope --store " + spec, &out), 0);
  EXPECT_NE(out.find("no run with id 'nope'"), std::string::npos) << out;
  EXPECT_NE(trinity("runs list --store sqlite:" + data + "/missing.db", &out), 0);
  EXPECT_NE(out.find("no such file"), std::string::npos) << out;
  std::filesystem::remove_all(data);
}

TEST(ServeStore, RestartInterruptsItsOwnLeftoversOnly) {
  const std::string data = temp_dir();
  const std::string spec = "sqlite:" + data + "/runs.db";
  // What a SIGKILLed replica leaves behind, and a run of another replica that is still alive.
  {
    trinity::store::StoreOptions mine;
    mine.owner = "replica-a";
    auto a = trinity::store::open_run_store(spec, mine);
    ASSERT_TRUE(a.ok()) << a.status().message();
    trinity::store::RunRecord r;
    r.id = "aaaaaaaaaaaaaaaa";
    r.endpoint = "chat.completions";
    r.created_ms = now_ms();
    r.request = json::object();
    ASSERT_TRUE((*a)->begin_run(r).ok());
    trinity::store::StoreOptions other;
    other.owner = "replica-b";
    other.lease_ms = 600000;
    auto b = trinity::store::open_run_store(spec, other);
    ASSERT_TRUE(b.ok());
    r.id = "bbbbbbbbbbbbbbbb";
    ASSERT_TRUE((*b)->begin_run(r).ok());
  }
  ServeProcess p({"--pool", "mock", "--profile", "mock_tiny", "--port", "0", "--store", spec,
                  "--replica-id", "replica-a"});
  const int port = p.wait_port();
  ASSERT_GT(port, 0) << p.out() << p.err();
  httplib::Client c("127.0.0.1", port);
  auto a = c.Get("/v1/runs/aaaaaaaaaaaaaaaa");
  ASSERT_TRUE(a);
  EXPECT_EQ(json::parse(a->body)["status"], "interrupted") << a->body;
  auto b = c.Get("/v1/runs/bbbbbbbbbbbbbbbb");
  ASSERT_TRUE(b);
  EXPECT_EQ(json::parse(b->body)["status"], "running") << b->body;
  auto ready = c.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  EXPECT_EQ(p.stop(SIGTERM), 0);
  EXPECT_NE(p.err().find("1 unfinished run(s) marked interrupted"), std::string::npos) << p.err();
  std::filesystem::remove_all(data);
}

TEST(ServeStore, ListPagesWithCursorsAndFilters) {
  const std::string data = temp_dir();
  ServeProcess p({"--pool", "mock", "--profile", "mock_tiny", "--port", "0", "--quiet", "--store",
                  "sqlite:" + data + "/runs.db"});
  const int port = p.wait_port();
  ASSERT_GT(port, 0) << p.out() << p.err();
  httplib::Client c("127.0.0.1", port);
  std::set<std::string> made;
  for (int i = 0; i < 5; ++i) made.insert(chat(c));
  std::set<std::string> seen;
  std::string path = "/v1/runs?limit=2";
  for (int page = 0; page < 5; ++page) {
    auto r = c.Get(path);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const json j = json::parse(r->body);
    EXPECT_EQ(j["object"], "list");
    EXPECT_LE(j["data"].size(), 2u);
    for (const auto& run : j["data"]) {
      EXPECT_FALSE(run.contains("events"));
      seen.insert(run["id"].get<std::string>());
    }
    if (!j["has_more"].get<bool>()) break;
    path = "/v1/runs?limit=2&cursor=" + j["next_cursor"].get<std::string>();
  }
  EXPECT_EQ(seen, made);
  auto none = c.Get("/v1/runs?status=failed&since=2020-01-01T00:00:00Z");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 200);
  EXPECT_TRUE(json::parse(none->body)["data"].empty());
  for (const char* bad :
       {"/v1/runs?status=done", "/v1/runs?limit=0", "/v1/runs?limit=abc", "/v1/runs?cursor=zzz",
        "/v1/runs?since=yesterday", "/v1/runs?color=red"}) {
    auto r = c.Get(bad);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << bad << " " << r->body;
  }
  // A Responses API run is stored too, under its endpoint.
  auto resp =
      c.Post("/v1/responses", R"({"model":"trinity","input":"store me too"})", "application/json");
  ASSERT_TRUE(resp);
  ASSERT_EQ(resp->status, 200) << resp->body;
  auto stored = c.Get("/v1/runs/" + resp->get_header_value("X-Trinity-Run-Id"));
  ASSERT_TRUE(stored);
  ASSERT_EQ(stored->status, 200) << stored->body;
  EXPECT_EQ(json::parse(stored->body)["endpoint"], "responses");
  auto post = c.Post("/v1/runs", "{}", "application/json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(p.stop(SIGTERM), 0);
  std::filesystem::remove_all(data);
}

TEST(ServeStore, UnreachableStoreFailsAtStartAndNoneDisablesIt) {
  ServeProcess bad({"--pool", "mock", "--profile", "mock_tiny", "--port", "0", "--store",
                    "postgres://u:hunter2@127.0.0.1:1/db?connect_timeout=2"});
  EXPECT_EQ(bad.wait_port(), -1);
  EXPECT_NE(bad.wait_exit(10000), 0);
  EXPECT_NE(bad.err().find("cannot connect"), std::string::npos) << bad.err();
  EXPECT_EQ(bad.err().find("hunter2"), std::string::npos) << bad.err();

  ServeProcess none(
      {"--pool", "mock", "--profile", "mock_tiny", "--port", "0", "--quiet", "--store", "none"});
  const int port = none.wait_port();
  ASSERT_GT(port, 0) << none.err();
  EXPECT_NE(none.out().find("run store none"), std::string::npos) << none.out();
  httplib::Client c("127.0.0.1", port);
  const std::string id = chat(c);
  auto g = c.Get("/v1/runs/" + id);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->status, 404);
  EXPECT_NE(g->body.find("run_store_disabled"), std::string::npos);
  EXPECT_EQ(none.stop(SIGTERM), 0);
}

}  // namespace
