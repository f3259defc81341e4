// `trinity serve` as a process: startup line with the real port, SIGTERM drain and exit code,
// bearer auth from --api-key-env (the key never printed), flag errors, and the official
// `openai` npm client (skipped when the package is not installed in .cache/npm).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/serve_process.h"
#include "server/otlp_collector.h"

namespace {

using trinity_test::ServeProcess;
using trinity_test::slurp;

const char* kChat = R"({"model":"trinity","messages":[{"role":"user","content":"hello there"}]})";

TEST(ServeCli, MockTinyServesAndDrainsOnSigterm) {
  ServeProcess p({"--pool", "mock", "--profile", "mock_tiny", "--port", "0"});
  const int port = p.wait_port();
  ASSERT_GT(port, 0) << p.out() << p.err();
  EXPECT_NE(p.out().find("model \"trinity\""), std::string::npos) << p.out();
  httplib::Client c("127.0.0.1", port);
  auto h = c.Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  auto m = c.Get("/v1/models");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("\"mock-agent-6\""), std::string::npos);
  auto r =
      c.Post("/v1/route", R"({"messages":[{"role":"user","content":"x"}]})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->body.find("\"route_hash\""), std::string::npos);
  EXPECT_EQ(p.stop(SIGTERM), 0) << p.err();
  EXPECT_NE(p.err().find("SIGTERM received, draining"), std::string::npos) << p.err();
  EXPECT_NE(p.err().find("stopped"), std::string::npos);
}

// The threads of `pid` other than the main one whose signal mask lets `sig` through, read from
// /proc (SigBlk is a hex mask, bit sig - 1).
std::vector<pid_t> threads_taking(pid_t pid, int sig) {
  std::vector<pid_t> out;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const pid_t tid = static_cast<pid_t>(std::stol(e.path().filename().string()));
    if (tid == pid) continue;
    std::istringstream status(slurp(e.path().string() + "/status"));
    for (std::string line; std::getline(status, line);)
      if (line.rfind("SigBlk:", 0) == 0 &&
          ((std::stoull(line.substr(7), nullptr, 16) >> (sig - 1)) & 1) == 0)
        out.push_back(tid);
  }
  return out;
}

// A process-directed SIGTERM may be handed to any thread that does not block it, and libraries
// start threads before main (OpenBLAS's pool). Sent to such a thread directly, it must still
// drain the server (not kill it with the default action: exit 143, no drain).
TEST(ServeCli, SigtermTakenByALibraryThreadStillDrains) {
  ServeProcess p({"--pool", "mock", "--profile", "mock_tiny", "--port", "0", "--store", "none"});
  ASSERT_GT(p.wait_port(), 0) << p.out() << p.err();
  std::vector<pid_t> tids = threads_taking(p.pid(), SIGTERM);
  if (tids.empty()) tids.push_back(p.pid());  // no such thread here: the main thread then
  ASSERT_EQ(syscall(SYS_tgkill, p.pid(), tids[0], SIGTERM), 0);
  EXPECT_EQ(p.wait_exit(15000), 0) << p.err();
  EXPECT_NE(p.err().find("SIGTERM received, draining"), std::string::npos) << p.err();
}

TEST(ServeCli, ApiKeyFromEnvironmentIsRequiredAndNeverPrinted) {
  const std::string key = "sk-cli-secret-0123456789abcdef";
  ServeProcess p({"--pool", "mock", "--profile", "mock_tiny", "--port", "0", "--api-key-env",
                  "TRINITY_SERVE_CLI_KEY"},
                 {"TRINITY_SERVE_CLI_KEY=" + key});
  const int port = p.wait_port();
  ASSERT_GT(port, 0) << p.out() << p.err();
  httplib::Client c("127.0.0.1", port);
  auto denied = c.Post("/v1/chat/completions", kChat, "application/json");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 401);
  EXPECT_NE(denied->body.find("invalid_api_key"), std::string::npos);
  httplib::Headers auth = {{"Authorization", "Bearer " + key}};
  auto models = c.Get("/v1/models", auth);
  ASSERT_TRUE(models);
  EXPECT_EQ(models->status, 200);
  auto chat = c.Post("/v1/chat/completions", auth, kChat, "application/json");
  ASSERT_TRUE(chat);
  EXPECT_NE(chat->status, 401);
  EXPECT_EQ(chat->body.find(key), std::string::npos);
  EXPECT_EQ(p.stop(SIGINT), 0);
  EXPECT_EQ(p.out().find(key), std::string::npos);
  EXPECT_EQ(p.err().find(key), std::string::npos);
  EXPECT_NE(p.err().find("serve: POST chat_completions"), std::string::npos) << p.err();
}

TEST(ServeCli, BadInvocationsExitWithBadInput) {
  {
    ServeProcess p({"--profile", "mock_tiny", "--port", "0"});  // no --pool
    EXPECT_EQ(p.wait_exit(10000), 2);
  }
  {
    ServeProcess p({"--pool", "mock", "--profile", "mock_tiny", "--api-key-env",
                    "TRINITY_SERVE_SURELY_UNSET_VAR"});
    EXPECT_EQ(p.wait_exit(10000), 2);
    EXPECT_NE(p.err().find("TRINITY_SERVE_SURELY_UNSET_VAR"), std::string::npos);
  }
  {
    ServeProcess p({"--pool", "mock", "--profile", "reference", "--port", "0"});  // no --base
    EXPECT_EQ(p.wait_exit(10000), 2);
    EXPECT_NE(p.err().find("--base"), std::string::npos) << p.err();
  }
  {
    ServeProcess p({"--pool", "/nonexistent/pool.json", "--profile", "mock_tiny"});
    EXPECT_EQ(p.wait_exit(10000), 2);
  }
  {
    ServeProcess p({"--pool", "mock", "--profile", "mock_tiny", "--reflex-low-role-margin", "-1"});
    EXPECT_EQ(p.wait_exit(10000), 2);
    EXPECT_NE(p.err().find("reflex low role margin must be a finite number >= 0"),
              std::string::npos)
        << p.err();
  }
  {
    ServeProcess p(
        {"--pool", "mock", "--profile", "mock_tiny", "--otlp-endpoint", "localhost:4318"});
    EXPECT_EQ(p.wait_exit(10000), 2);
    EXPECT_NE(p.err().find("--otlp-endpoint must be an http:// or https:// URL"), std::string::npos)
        << p.err();
  }
}

// --otlp-endpoint: the spans of a run reach a collector (at the latest when SIGTERM drains the
// exporter), in the caller's trace.
TEST(ServeCli, OtlpSpansReachTheCollector) {
  trinity::testing::TestCollector collector;
  ServeProcess p({"--pool", "mock", "--profile", "mock_tiny", "--port", "0", "--otlp-endpoint",
                  collector.url(), "--otlp-service-name", "trinity-cli"});
  const int port = p.wait_port();
  ASSERT_GT(port, 0) << p.out() << p.err();
  httplib::Client c("127.0.0.1", port);
  const std::string trace_id = "0af7651916cd43dd8448eb211c80319c", caller = "b7ad6b7169203331";
  httplib::Headers h = {{"traceparent", "00-" + trace_id + "-" + caller + "-01"}};
  auto chat = c.Post("/v1/chat/completions", h, kChat, "application/json");
  ASSERT_TRUE(chat);
  EXPECT_EQ(chat->status, 200) << chat->body;
  EXPECT_EQ(p.stop(SIGTERM), 0) << p.err();
  EXPECT_TRUE(collector.errors().empty()) << collector.errors()[0];
  const auto spans = collector.spans();
  ASSERT_GE(spans.size(), 4u) << p.err();
  int runs = 0;
  for (const auto& s : spans) {
    EXPECT_EQ(s["traceId"], trace_id);
    if (s["name"] != "trinity.run") continue;
    ++runs;
    EXPECT_EQ(s["parentSpanId"], caller);
  }
  EXPECT_EQ(runs, 1);
  EXPECT_NE(collector.resources().at(0).dump().find("trinity-cli"), std::string::npos);
}

// The --reflex-* flags reach the server's runs: with absolute thresholds no route can meet,
// every route is low and the trace says so.
TEST(ServeCli, ReflexFlagsReachTheRuns) {
  const std::string dir = ::testing::TempDir() + "/serve_reflex_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  ServeProcess p({"--pool", "mock", "--profile", "mock_tiny", "--port", "0", "--trace-dir", dir,
                  "--reflex-margin-mode", "absolute", "--reflex-low-agent-margin", "999",
                  "--reflex-low-role-margin", "999"});
  const int port = p.wait_port();
  ASSERT_GT(port, 0) << p.out() << p.err();
  httplib::Client c("127.0.0.1", port);
  auto r = c.Post("/v1/chat/completions", kChat, "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(p.stop(SIGTERM), 0) << p.err();
  int reflex_events = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    const std::string text = slurp(f.path().string());
    size_t start = 0, end;
    while ((end = text.find('\n', start)) != std::string::npos) {
      nlohmann::json e = nlohmann::json::parse(text.substr(start, end - start));
      start = end + 1;
      if (e["event"] != "reflex_decision") continue;
      ++reflex_events;
      EXPECT_EQ(e["confidence_class"], "low");
      EXPECT_EQ(e["thresholds"]["low_agent"], 999.0);
      EXPECT_EQ(e["thresholds"]["high_agent"], 1.0);
      EXPECT_EQ(e["reflex_mode"], "absolute");
    }
  }
  EXPECT_GT(reflex_events, 0);
  std::filesystem::remove_all(dir);
}

// The official `openai` npm package (installed by scripts/setup.sh into .cache/npm): why its
// tests cannot run here, or "" when they can.
std::string node_client_missing(const std::string& src, const std::string& modules) {
  if (std::system("node --version > /dev/null 2>&1") != 0)
    return "node is not on PATH (scripts/setup.sh installs Debian's nodejs)";
  if (!std::filesystem::exists(modules + "/openai/package.json"))
    return "the openai npm package is not installed under " + modules +
           " (run scripts/setup.sh, or: npm install --prefix " + src + "/.cache/npm openai@4)";
  return "";
}

// Runs tests/node/<script> against a `trinity serve --pool mock --profile mock_tiny`; skips, saying
// why, when node or the package is missing, or when the script itself skips (exit 77: e.g. an
// installed version that predates the API under test).
void run_node_client_test(const std::string& script) {
  const std::string src = TRINITY_SOURCE_DIR;
  const std::string modules = src + "/.cache/npm/node_modules";
  const std::string missing = node_client_missing(src, modules);
  if (!missing.empty()) GTEST_SKIP() << missing;
  ServeProcess p({"--pool", "mock", "--profile", "mock_tiny", "--port", "0", "--quiet"});
  const int port = p.wait_port();
  ASSERT_GT(port, 0) << p.out() << p.err();
  const std::string cmd = "node " + src + "/tests/node/" + script +
                          " http://127.0.0.1:" + std::to_string(port) + "/v1 " + modules + " 2>&1";
  FILE* f = popen(cmd.c_str(), "r");
  ASSERT_NE(f, nullptr);
  std::string output;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) output.append(buf, n);
  const int status = pclose(f);
  ASSERT_TRUE(WIFEXITED(status)) << output;
  if (WEXITSTATUS(status) == 77) GTEST_SKIP() << output;
  EXPECT_EQ(WEXITSTATUS(status), 0) << output;
  EXPECT_NE(output.find("PASS"), std::string::npos) << output;
  EXPECT_EQ(p.stop(SIGTERM), 0);
}

TEST(ServeCli, OfficialOpenAiNodeClient) {
  run_node_client_test("openai_client_test.mjs");
}

TEST(ServeCli, OfficialOpenAiNodeClientResponses) {
  run_node_client_test("openai_responses_test.mjs");
}

TEST(ServeCli, OfficialOpenAiNodeClientReadsToolCalls) {
  run_node_client_test("openai_tools_test.mjs");
}

// A mixed body: one to four messages (system, user, assistant turns), short and long, ASCII and
// not, numbered so that no two requests route alike.
std::string mixed_body(int i, bool stream) {
  static const char* kTopics[] = {"Prove that sqrt(2) is irrational.",
                                  "Translate 'good morning' into Japanese: おはよう?",
                                  "Write a Python function that reverses a list.",
                                  "Who wrote Pride and Prejudice?",
                                  "Check this: 17 * 23 = 391.",
                                  "Summarise the causes of the French Revolution in depth, with "
                                  "dates, people and consequences, for a history exam."};
  nlohmann::json msgs = nlohmann::json::array();
  if (i % 3 == 0) msgs.push_back({{"role", "system"}, {"content", "Be brief."}});
  msgs.push_back(
      {{"role", "user"}, {"content", std::string(kTopics[i % 6]) + " #" + std::to_string(i)}});
  if (i % 4 == 1) {
    msgs.push_back(
        {{"role", "assistant"}, {"content", "A first draft, number " + std::to_string(i * 7)}});
    msgs.push_back({{"role", "user"}, {"content", "Improve it."}});
  }
  return nlohmann::json{{"model", "trinity"}, {"messages", msgs}, {"stream", stream}}.dump();
}

struct LoadCounts {
  std::map<int, int> status;
  std::map<std::string, int> codes;  // error codes of non-200 answers
  int unverified = 0, empty_answers = 0;
};

// `n` requests over `threads` keep-alive connections; every 5th one streams.
LoadCounts mixed_load(int port, int n, int threads) {
  LoadCounts total;
  std::mutex mu;
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      httplib::Client c("127.0.0.1", port);
      c.set_read_timeout(30, 0);
      LoadCounts mine;
      for (int i = next++; i < n; i = next++) {
        const bool stream = i % 5 == 0;
        auto r = c.Post("/v1/chat/completions", mixed_body(i, stream), "application/json");
        const int status = r ? r->status : -1;
        mine.status[status] += 1;
        if (!r) continue;
        if (stream) {
          if (r->body.find("\"error\"") != std::string::npos) mine.codes["stream_error"] += 1;
          continue;
        }
        auto j = nlohmann::json::parse(r->body, nullptr, false);
        if (status != 200) {
          mine.codes[j.is_object() ? j["error"].value("code", "?") : "unparsable"] += 1;
          continue;
        }
        if (j["trinity"]["status"] == "unverified") mine.unverified += 1;
        if (j["choices"][0]["message"]["content"].get<std::string>().empty())
          mine.empty_answers += 1;
      }
      std::lock_guard<std::mutex> lock(mu);
      for (auto& [k, v] : mine.status) total.status[k] += v;
      for (auto& [k, v] : mine.codes) total.codes[k] += v;
      total.unverified += mine.unverified;
      total.empty_answers += mine.empty_answers;
    });
  }
  for (auto& th : pool) th.join();
  return total;
}

TEST(ServeCli, MixedLoadOnTheMockPoolHasNoErrors) {
  ServeProcess p({"--pool", "mock", "--profile", "mock_tiny", "--port", "0", "--quiet"});
  const int port = p.wait_port();
  ASSERT_GT(port, 0) << p.err();
  const LoadCounts c = mixed_load(port, 1024, 64);
  EXPECT_EQ(c.status.size(), 1u);
  EXPECT_EQ(c.status.count(200) ? c.status.at(200) : 0, 1024);
  for (const auto& [code, n] : c.codes) ADD_FAILURE() << n << " x " << code;
  EXPECT_EQ(c.empty_answers, 0);
  EXPECT_EQ(p.stop(SIGTERM), 0);
}

TEST(ServeCli, ColdVerifierErrorReproducesTheReferenceUnderLoad) {
  ServeProcess p({"--pool", "mock", "--profile", "mock_tiny", "--port", "0", "--quiet",
                  "--cold-verifier", "error"});
  const int port = p.wait_port();
  ASSERT_GT(port, 0) << p.err();
  const LoadCounts c = mixed_load(port, 256, 16);
  // mock_tiny picks the Verifier first for about a third of transcripts: those fail as in the
  // reference, everything else answers.
  const int refused = c.status.count(422) ? c.status.at(422) : 0;
  EXPECT_GT(refused, 0);
  EXPECT_EQ(refused, c.codes.count("verifier_before_worker_response")
                         ? c.codes.at("verifier_before_worker_response")
                         : 0);
  EXPECT_EQ((c.status.count(200) ? c.status.at(200) : 0) + refused, 256);
  EXPECT_EQ(p.stop(SIGTERM), 0);
}

}  // namespace
