// GCC 12 reports a false -Wrestrict in inlined std::string concatenation (GCC bug 105329).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif
// `trinity run` end to end: the mock pool, a local fake OpenAI-compatible server, exit codes
// and trace files.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "coord/fake_llm_server.h"
#include "core/file_util.h"
#include "core/json.h"
#include "router/mock_tiny.h"

namespace trinity {
namespace {

struct CmdResult {
  int rc = -1;
  std::string out, err;
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q.append("'\\''");
    } else {
      q.push_back(c);
    }
  }
  return q + "'";
}

CmdResult run_trinity(const std::vector<std::string>& args, const std::string& env = "") {
  // Per-process names: ctest runs the cases of this file as parallel processes.
  const std::string dir = ::testing::TempDir() + "/" + std::to_string(::getpid());
  const std::string out = dir + "_run_cli_out.txt", err = dir + "_run_cli_err.txt";
  std::string cmd = env;  // appended piecewise: GCC 12 -Wrestrict false positive on a + " " + b
  cmd.append(" ").append(quote(TRINITY_BINARY)).append(" run");
  for (const auto& a : args) cmd += " " + quote(a);
  cmd += " >" + quote(out) + " 2>" + quote(err);
  int status = std::system(cmd.c_str());
  CmdResult r;
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out).ok() ? *read_file(out) : "";
  r.err = read_file(err).ok() ? *read_file(err) : "";
  return r;
}

// A query whose first mock_tiny route is a Worker: such runs always end with an answer.
std::string worker_first_query() {
  MockTinyRouter router;
  for (int i = 0; i < 200; ++i) {
    std::string q = "What is " + std::to_string(i) + " + 1?";
    auto d = router.route({{"user", q}});
    if (d.ok() && d->role_id == kRoleWorker) return q;
  }
  return "";
}

std::vector<Json> read_trace(const std::string& path) {
  std::vector<Json> events;
  auto text = read_file(path);
  EXPECT_TRUE(text.ok());
  if (!text.ok()) return events;
  std::stringstream ss(*text);
  std::string line;
  while (std::getline(ss, line)) events.push_back(Json::parse(line));
  return events;
}

void expect_valid_trace(const std::vector<Json>& events, const std::string& last) {
  ASSERT_FALSE(events.empty());
  const std::string run_id = events[0]["run_id"];
  for (const auto& e : events) {
    EXPECT_EQ(e["schema_version"], 1);
    EXPECT_EQ(e["run_id"], run_id);
    EXPECT_TRUE(e["timestamp_ms"].is_number_integer());
  }
  EXPECT_EQ(events[0]["event"], "route_decision");
  EXPECT_EQ(events.back()["event"], last);
}

std::string write_pool(const std::string& base_url, int retries = 0) {
  Json slot = {{"provider", "openai"},     {"model", "local-model"},
               {"base_url", base_url},     {"api_key_env", "TRINITY_CLI_TEST_KEY"},
               {"timeout_ms", 3000},       {"max_retries", retries},
               {"price_in_per_mtok", 0.5}, {"price_out_per_mtok", 1.5}};
  Json pool = {{"name", "local"}, {"defaults", slot}, {"slots", Json::array()}};
  for (int i = 0; i < 7; ++i) pool["slots"].push_back(Json::object());
  const std::string path =
      ::testing::TempDir() + "/" + std::to_string(::getpid()) + "_run_cli_pool.json";
  EXPECT_TRUE(write_file_atomic(path, pool.dump(2)).ok());
  return path;
}

const char* kEnv = "TRINITY_CLI_TEST_KEY=sk-cli-secret-42424242";

// A query whose first mock_tiny route is the Verifier (a cold Verifier).
std::string verifier_first_query() {
  MockTinyRouter router;
  for (int i = 0; i < 200; ++i) {
    std::string q = "Check " + std::to_string(i) + " twice.";
    auto d = router.route({{"user", q}});
    if (d.ok() && d->role_id == kRoleVerifier) return q;
  }
  return "";
}

TEST(RunCli, MockPoolRunCompletesWithATrace) {
  const std::string q = worker_first_query();
  ASSERT_FALSE(q.empty());
  const std::string trace =
      ::testing::TempDir() + "/" + std::to_string(::getpid()) + "_run_cli_mock.jsonl";
  auto r = run_trinity(
      {"--profile", "mock_tiny", "--pool", "mock", "--query", q, "--trace-out", trace, "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  Json j = Json::parse(r.out);
  EXPECT_TRUE(j["status"] == "accepted" || j["status"] == "unverified") << j["status"];
  EXPECT_NE(j["answer"].get<std::string>().find("Worker answer"), std::string::npos);
  EXPECT_GE(j["turns"].size(), 1u);
  auto events = read_trace(trace);
  expect_valid_trace(events, "run_finished");
  // Hash content mode: the query text is not in the trace.
  EXPECT_EQ(read_file(trace)->find(q), std::string::npos);

  auto human = run_trinity({"--profile", "mock_tiny", "--query", q});
  ASSERT_EQ(human.rc, 0) << human.err;
  EXPECT_NE(human.out.find("turn 1  agent"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("Worker answer"), std::string::npos);
}

TEST(RunCli, LocalOpenAiCompatibleServerRun) {
  trinity::testing::FakeLlmServer server;
  const std::string pool = write_pool(server.base_url());
  const std::string trace =
      ::testing::TempDir() + "/" + std::to_string(::getpid()) + "_run_cli_live.jsonl";
  auto r = run_trinity({"--profile", "mock_tiny", "--pool", pool, "--query", worker_first_query(),
                        "--allow-live", "--trace-out", trace, "--trace-content", "full"},
                       kEnv);
  ASSERT_EQ(r.rc, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("Worker answer: 42"), std::string::npos) << r.out;
  EXPECT_GE(server.requests().size(), 1u);
  EXPECT_EQ(server.violations(), 0);
  auto events = read_trace(trace);
  expect_valid_trace(events, "run_finished");
  const std::string text = *read_file(trace);
  EXPECT_NE(text.find("Worker answer: 42"), std::string::npos);  // full mode
  EXPECT_EQ(text.find("sk-cli-secret-42424242"), std::string::npos);
  EXPECT_EQ(r.out.find("sk-cli-secret-42424242"), std::string::npos);
  EXPECT_EQ(r.err.find("sk-cli-secret-42424242"), std::string::npos);
}

TEST(RunCli, LiveProvidersNeedAllowLiveAndKeys) {
  trinity::testing::FakeLlmServer server;
  const std::string pool = write_pool(server.base_url());
  auto no_live = run_trinity({"--profile", "mock_tiny", "--pool", pool, "--query", "q"}, kEnv);
  EXPECT_EQ(no_live.rc, 2);
  EXPECT_NE(no_live.err.find("--allow-live"), std::string::npos) << no_live.err;
  auto no_key =
      run_trinity({"--profile", "mock_tiny", "--pool", pool, "--query", "q", "--allow-live"},
                  "env -u TRINITY_CLI_TEST_KEY");
  EXPECT_EQ(no_key.rc, 2);
  EXPECT_NE(no_key.err.find("TRINITY_CLI_TEST_KEY"), std::string::npos) << no_key.err;
  EXPECT_TRUE(server.requests().empty());
}

TEST(RunCli, ExitCodesForBudgetProviderAndBadInput) {
  const std::string q = worker_first_query();
  auto budget = run_trinity({"--profile", "mock_tiny", "--query", q, "--max-provider-calls", "0"});
  EXPECT_EQ(budget.rc, 3) << budget.err;
  EXPECT_NE(budget.err.find("max_provider_calls"), std::string::npos) << budget.err;

  trinity::testing::FakeLlmServer server;
  server.push({500, R"({"error":"down"})", {}, 0, ""});
  const std::string trace =
      ::testing::TempDir() + "/" + std::to_string(::getpid()) + "_run_cli_fail.jsonl";
  auto provider = run_trinity({"--profile", "mock_tiny", "--pool", write_pool(server.base_url()),
                               "--query", q, "--allow-live", "--trace-out", trace},
                              kEnv);
  EXPECT_EQ(provider.rc, 4) << provider.err;
  expect_valid_trace(read_trace(trace), "run_failed");

  const std::string bad =
      ::testing::TempDir() + "/" + std::to_string(::getpid()) + "_run_cli_bad_messages.json";
  ASSERT_TRUE(write_file_atomic(bad, R"([{"role":"robot","content":"hi"}])").ok());
  auto bad_msgs = run_trinity({"--profile", "mock_tiny", "--messages", bad});
  EXPECT_EQ(bad_msgs.rc, 2);
  EXPECT_NE(bad_msgs.err.find("role must be system, user or assistant"), std::string::npos)
      << bad_msgs.err;
  EXPECT_EQ(run_trinity({"--profile", "mock_tiny"}).rc, 2);  // no query
  EXPECT_EQ(run_trinity({"--profile", "mock_tiny", "--query", "q", "--trace-content", "x"}).rc, 2);
  auto no_base = run_trinity({"--query", "q"});
  EXPECT_EQ(no_base.rc, 2) << no_base.err;
}

TEST(RunCli, AnswersComeBackVerbatim) {
  trinity::testing::FakeLlmServer server;
  trinity::testing::FakeResponse said;
  said.text = "The bearer of a token is trusted. Our key: sk-cli-secret-42424242.";
  server.push(said);
  const std::string want = "The bearer of a token is trusted. Our key: <redacted>.";
  const std::string pool = write_pool(server.base_url());
  const std::string q = worker_first_query();
  auto j = run_trinity(
      {"--profile", "mock_tiny", "--pool", pool, "--query", q, "--allow-live", "--json"}, kEnv);
  ASSERT_EQ(j.rc, 0) << j.err << j.out;
  EXPECT_EQ(Json::parse(j.out)["answer"], want);
  server.push(said);
  auto text =
      run_trinity({"--profile", "mock_tiny", "--pool", pool, "--query", q, "--allow-live"}, kEnv);
  ASSERT_EQ(text.rc, 0) << text.err;
  EXPECT_NE(text.out.find(want), std::string::npos) << text.out;
}

TEST(RunCli, ColdVerifierPolicyFromFlagAndPool) {
  const std::string q = verifier_first_query();
  ASSERT_FALSE(q.empty());
  auto dflt = run_trinity({"--profile", "mock_tiny", "--query", q, "--json"});
  ASSERT_EQ(dflt.rc, 0) << dflt.err;
  Json j = Json::parse(dflt.out);
  EXPECT_EQ(j["turns"][0]["role"], "Worker");
  EXPECT_EQ(j["turns"][0]["reroute"], "cold_verifier");
  // error reproduces the reference: no answer at all, exit 1.
  auto strict = run_trinity({"--profile", "mock_tiny", "--query", q, "--cold-verifier", "error"});
  EXPECT_EQ(strict.rc, 1) << strict.err;
  EXPECT_NE(strict.err.find("verifier_before_worker_response"), std::string::npos) << strict.err;
  // The pool's "cold_verifier", and the flag over it.
  Json pool = {{"name", "strict-mock"}, {"cold_verifier", "error"}, {"slots", Json::array()}};
  for (int i = 0; i < 7; ++i) pool["slots"].push_back({{"provider", "mock"}, {"model", "m"}});
  const std::string path =
      ::testing::TempDir() + "/" + std::to_string(::getpid()) + "_run_cli_strict_pool.json";
  ASSERT_TRUE(write_file_atomic(path, pool.dump()).ok());
  EXPECT_EQ(run_trinity({"--profile", "mock_tiny", "--pool", path, "--query", q}).rc, 1);
  EXPECT_EQ(run_trinity({"--profile", "mock_tiny", "--pool", path, "--query", q, "--cold-verifier",
                         "worker"})
                .rc,
            0);
  auto bad = run_trinity({"--profile", "mock_tiny", "--query", q, "--cold-verifier", "maybe"});
  EXPECT_EQ(bad.rc, 2);
  EXPECT_NE(bad.err.find("--cold-verifier"), std::string::npos) << bad.err;
  pool["cold_verifier"] = "sometimes";
  ASSERT_TRUE(write_file_atomic(path, pool.dump()).ok());
  auto bad_pool = run_trinity({"--profile", "mock_tiny", "--pool", path, "--query", q});
  EXPECT_EQ(bad_pool.rc, 2);
  EXPECT_NE(bad_pool.err.find("cold_verifier"), std::string::npos) << bad_pool.err;
}

// Acceptance of the reference's trace fields: mock runs that end every way a run can end write
// one trace file (appended to), and every event validates against docs/trace-schema.json.
TEST(RunCli, EveryEventValidatesAgainstTheShippedSchema) {
  const std::string dir = ::testing::TempDir() + "/" + std::to_string(::getpid()) + "_schema";
  const std::string trace = dir + "/nested/trace.jsonl";  // parent directories are created
  std::remove(trace.c_str());
  int runs = 0;
  auto run_one = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--profile", "mock_tiny", "--pool", "mock", "--trace-out", trace});
    auto r = run_trinity(args);
    EXPECT_TRUE(r.rc == 0 || r.rc == 1 || r.rc == 3) << r.rc << r.err;
    ++runs;
    return r;
  };
  for (int i = 0; i < 12; ++i) {
    const std::string q = "Schema query " + std::to_string(i);
    run_one({"--query", q});
    run_one({"--query", q, "--cold-verifier", "error"});
  }
  run_one({"--query", worker_first_query(), "--max-provider-calls", "0"});
  auto warned = run_one({"--query", worker_first_query(), "--max-estimated-cost-usd", "1"});
  EXPECT_NE(warned.err.find("warning: max_estimated_cost_usd is set"), std::string::npos)
      << warned.err;
  run_one({"--query", worker_first_query(), "--reflex-margin-mode", "absolute",
           "--reflex-low-agent-margin", "999", "--trace-content", "full"});
  run_one({"--query", verifier_first_query(), "--max-turns", "1"});

  const std::string out = dir + "_validate.json";
  const std::string cmd =
      "/usr/bin/python3 " +
      quote(std::string(TRINITY_SOURCE_DIR) + "/tests/scripts/validate_trace.py") + " " +
      quote(std::string(TRINITY_SOURCE_DIR) + "/docs/trace-schema.json") + " " + quote(trace) +
      " >" + quote(out) + " 2>&1";
  const int status = std::system(cmd.c_str());
  auto report = read_file(out);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0) << *report;
  Json summary = Json::parse(*report);
  for (const char* type : {"route_decision", "reflex_decision", "budget_snapshot",
                           "provider_dispatch_started", "provider_dispatch_finished",
                           "verifier_result", "run_warning", "run_finished", "run_failed"})
    EXPECT_GT(summary["by_type"].value(type, 0), 0) << type << " never written: " << *report;
  // Appended: one run_finished or run_failed per run.
  EXPECT_EQ(summary["by_type"].value("run_finished", 0) + summary["by_type"].value("run_failed", 0),
            runs);

  // Spot checks of the reference's values.
  for (const Json& e : read_trace(trace)) {
    const std::string type = e["event"];
    if (type == "route_decision") {
      EXPECT_EQ(e["input_hash"], e["transcript_hash"]);
      EXPECT_EQ(e["route_path"], "orchestrator");
      EXPECT_EQ(e["provider_pool"], "mock");
      EXPECT_EQ(e["runtime_profile"], "mock_tiny");
      EXPECT_EQ(e["artifact_ref"], "artifact:mock-tiny-route-runtime");
    } else if (type == "provider_dispatch_started") {
      EXPECT_EQ(e["dispatch_ref"], "dispatch:" + e["run_id"].get<std::string>() + ":" +
                                       std::to_string(e["turn"].get<int>()));
    } else if (type == "run_failed" && e["budget_exceeded"] == true) {
      EXPECT_EQ(e["budget_exceeded_key"], "provider_calls");
    }
  }
}

// A pool whose endpoint always answers 500, with a mock fallback and a circuit that opens on the
// first failure: the run is answered, and its provider_fallback and circuit_state_changed
// events validate against the shipped schema.
TEST(RunCli, FallbackAndCircuitEventsValidateAgainstTheShippedSchema) {
  trinity::testing::FakeLlmServer server;
  for (int i = 0; i < 10; ++i) server.push({500, R"({"error":{"message":"down"}})", {}, 0, ""});
  Json defaults = {{"name", "down"},
                   {"provider", "openai"},
                   {"model", "local-model"},
                   {"base_url", server.base_url()},
                   {"api_key_env", "TRINITY_CLI_TEST_KEY"},
                   {"max_retries", 0},
                   {"fallbacks", Json::array({Json{{"provider", "mock"}, {"model", "spare"}}})}};
  Json pool = {{"name", "fallback"},
               {"circuit_breaker", {{"failures", 1}}},
               {"defaults", defaults},
               {"slots", Json::array()}};
  for (int i = 0; i < 7; ++i) pool["slots"].push_back(Json::object());
  const std::string dir = ::testing::TempDir() + "/" + std::to_string(::getpid());
  const std::string pool_path = dir + "_fallback_pool.json", trace = dir + "_fallback.jsonl";
  ASSERT_TRUE(write_file_atomic(pool_path, pool.dump(2)).ok());
  std::remove(trace.c_str());
  auto r = run_trinity({"--profile", "mock_tiny", "--pool", pool_path, "--query",
                        worker_first_query(), "--allow-live", "--trace-out", trace, "--json"},
                       kEnv);
  ASSERT_EQ(r.rc, 0) << r.err << r.out;
  Json j = Json::parse(r.out);
  ASSERT_GE(j["turns"].size(), 2u);
  EXPECT_EQ(j["turns"][0]["model"], "spare");
  EXPECT_EQ(j["turns"][0]["fallback_index"], 1);
  EXPECT_EQ(j["provider_calls"], j["turns"].size() + 1);  // the failed call counts
  EXPECT_EQ(server.requests().size(), 1u);                // then the circuit is open

  const std::string out = dir + "_fallback_validate.json";
  const std::string cmd =
      "/usr/bin/python3 " +
      quote(std::string(TRINITY_SOURCE_DIR) + "/tests/scripts/validate_trace.py") + " " +
      quote(std::string(TRINITY_SOURCE_DIR) + "/docs/trace-schema.json") + " " + quote(trace) +
      " >" + quote(out) + " 2>&1";
  const int status = std::system(cmd.c_str());
  auto report = read_file(out);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0) << *report;
  Json summary = Json::parse(*report);
  EXPECT_EQ(summary["by_type"].value("circuit_state_changed", 0), 1) << *report;
  EXPECT_EQ(summary["by_type"].value("provider_fallback", 0), j["turns"].size()) << *report;
  for (const Json& e : read_trace(trace)) {
    if (e["event"] == "circuit_state_changed") {
      EXPECT_EQ(e["endpoint"], "down");
      EXPECT_EQ(e["to"], "open");
    } else if (e["event"] == "provider_fallback") {
      EXPECT_EQ(e["to_endpoint"], "mock/spare");
      EXPECT_TRUE(e["error"].is_null() || e["error"].get<std::string>().rfind("sha256:", 0) == 0);
    }
  }
}

}  // namespace
}  // namespace trinity
