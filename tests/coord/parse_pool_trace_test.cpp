// Verifier/Thinker parsing, pool files, redaction and the JSONL trace writer.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "coord/parse.h"
#include "coord/pool.h"
#include "coord/trace.h"
#include "core/file_util.h"
#include "core/sha256.h"

namespace trinity::coord {
namespace {

TEST(VerifierParse, Rules) {
  struct Case {
    const char* reply;
    Verdict verdict;
    const char* diagnosis;
  };
  const Case cases[] = {
      {"ACCEPT", Verdict::kAccept, ""},
      {"  accept  ", Verdict::kAccept, ""},
      {"ACCEPT: looks right", Verdict::kAccept, "looks right"},
      {"Accept - fine", Verdict::kAccept, "fine"},
      {"ACCEPT - looks right", Verdict::kAccept, "looks right"},
      {"REVISE -: step 2", Verdict::kRevise, "step 2"},
      {"REVISE: - step 2 -", Verdict::kRevise, "step 2 -"},
      // Unicode White_Space is trimmed (no-break and ideographic spaces, line separator).
      {"\u00a0ACCEPT: ok\u3000", Verdict::kAccept, "ok"},
      {"\u2028REVISE\n\u2003fix it\u00a0", Verdict::kRevise, "fix it"},
      {"ACCEPT-fine", Verdict::kAccept, "fine"},
      {"ACCEPT\nok", Verdict::kAccept, "ok"},
      {"ACCEPT\r\nok", Verdict::kAccept, "ok"},
      {"ACCEPTED", Verdict::kUnknown, "ACCEPTED"},
      {"ACCEPT.", Verdict::kUnknown, "ACCEPT."},
      {"ACCEPT\rok", Verdict::kUnknown, "ACCEPT\rok"},
      {"REVISE: step 2 is wrong", Verdict::kRevise, "step 2 is wrong"},
      {"revise", Verdict::kRevise, ""},
      {"I ACCEPT", Verdict::kUnknown, "I ACCEPT"},
      {"", Verdict::kUnknown, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.reply);
    auto r = parse_verifier(c.reply);
    EXPECT_EQ(r.verdict, c.verdict);
    EXPECT_EQ(r.diagnosis, c.diagnosis);
  }
}

TEST(ThinkerParse, Rules) {
  auto s =
      parse_thinker("x <suggestion> do it </suggestion> <suggested_role>SOLVER</suggested_role>");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->suggestion, "do it");
  EXPECT_EQ(s->role_id, kRoleWorker);
  s = parse_thinker("<suggested_role>worker</suggested_role><suggestion>a</suggestion>");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->role_id, kRoleWorker);
  s = parse_thinker("<suggestion>a</suggestion><suggested_role>Verifier</suggested_role>");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->role_id, kRoleVerifier);
  // First occurrence wins.
  s = parse_thinker(
      "<suggestion>a</suggestion><suggested_role>verifier</suggested_role>"
      "<suggested_role>worker</suggested_role>");
  EXPECT_EQ(s->role_id, kRoleVerifier);
  EXPECT_FALSE(parse_thinker("<suggestion>a</suggestion>").has_value());
  EXPECT_FALSE(parse_thinker("<suggestion> </suggestion><suggested_role>worker</suggested_role>"));
  EXPECT_FALSE(parse_thinker("<suggestion>a</suggestion><suggested_role>thinker</suggested_role>"));
  EXPECT_FALSE(parse_thinker("<suggestion>a<suggested_role>worker</suggested_role>"));
}

Json good_slot() {
  return Json{{"provider", "openai"},
              {"model", "m"},
              {"base_url", "http://127.0.0.1:1/v1"},
              {"api_key_env", "TEST_KEY"},
              {"max_tokens", 64},
              {"temperature", 0.2},
              {"timeout_ms", 500},
              {"price_in_per_mtok", 1},
              {"price_out_per_mtok", 2},
              {"headers", {{"X-Org", "team"}}}};
}

TEST(Pool, ParsesSevenSlotsAndPrompts) {
  Json j = {{"name", "p"}, {"slots", Json::array()}, {"prompts", {{"Verifier", "Check it."}}}};
  for (int i = 0; i < 7; ++i) j["slots"].push_back(good_slot());
  j["slots"][6]["provider"] = "mock";
  auto p = parse_pool_json(j, "pool.json");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->slots[0].model, "m");
  EXPECT_EQ(p->slots[0].headers.at("X-Org"), "team");
  EXPECT_EQ(*p->slots[0].temperature, 0.2);
  EXPECT_EQ(p->prompts.system[kRoleVerifier], "Check it.");
  EXPECT_EQ(p->prompts.system[kRoleWorker], default_role_prompts().system[kRoleWorker]);
  // Object form with defaults.
  Json o = {{"defaults", {{"provider", "mock"}, {"model", "d"}}}, {"slots", Json::object()}};
  for (int i = 0; i < 7; ++i) o["slots"][std::to_string(i)] = Json::object();
  o["slots"]["3"] = {{"model", "special"}};
  auto q = parse_pool_json(o, "o.json");
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_EQ(q->slots[3].model, "special");
  EXPECT_EQ(q->slots[4].model, "d");
}

TEST(Pool, ErrorsNameTheFileAndField) {
  auto expect_error = [](Json j, const std::string& needle) {
    auto p = parse_pool_json(j, "pool.json");
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.status().message().find(needle), std::string::npos) << p.status().message();
    EXPECT_EQ(p.status().message().rfind("pool.json", 0), 0u) << p.status().message();
  };
  Json base = {{"slots", Json::array()}};
  for (int i = 0; i < 7; ++i) base["slots"].push_back(good_slot());
  Json j = base;
  j["slots"][2]["timeout_ms"] = -5;
  expect_error(j, "slots[2].timeout_ms");
  j = base;
  j["slots"][1]["api_key"] = "sk-123";
  expect_error(j, "slots[1].api_key: keys are never read from the pool file");
  j = base;
  j["slots"][0]["provider"] = "bard";
  expect_error(j, "slots[0].provider");
  j = base;
  j["slots"][5]["headers"] = {{"X", 3}};
  expect_error(j, "slots[5].headers.X");
  j = base;
  j["slots"].erase(6);
  expect_error(j, "exactly 7");
  j = base;
  j["slots"][4].erase("model");
  expect_error(j, "slots[4].model");
  j = base;
  j["slots"][3]["price_in_per_mtok"] = "cheap";
  expect_error(j, "slots[3].price_in_per_mtok");
  expect_error(Json{{"slotz", 1}}, "slotz");
  auto bad = parse_pool_text("{not json", "pool.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("pool.json: invalid JSON"), std::string::npos);
  auto missing = load_pool("/nonexistent/pool.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/pool.json"), std::string::npos);
}

TEST(Pool, LiveNeedsAllowLiveAndKeysComeFromTheEnvironment) {
  Json j = {{"slots", Json::array()}};
  for (int i = 0; i < 7; ++i) j["slots"].push_back(good_slot());
  auto p = parse_pool_json(j, "pool.json");
  ASSERT_TRUE(p.ok());
  auto env_none = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  auto env_key = [](const std::string& n) -> std::optional<std::string> {
    if (n == "TEST_KEY") return std::string("sk-secret-value");
    return std::nullopt;
  };
  auto refused = resolve_api_keys(*p, false, env_key);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("--allow-live"), std::string::npos);
  auto missing = resolve_api_keys(*p, true, env_none);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("TEST_KEY"), std::string::npos);
  auto keys = resolve_api_keys(*p, true, env_key);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ((*keys)[0], "sk-secret-value");
  // The built-in mock pool needs neither.
  EXPECT_TRUE(resolve_api_keys(builtin_mock_pool(), false, env_none).ok());
}

TEST(Redaction, KeysBearerAndSecretValues) {
  Redactor r({"hunter2-secret"});
  OrderedJson j = {{"api_key", "abc"},
                   {"Authorization", "Bearer xyz"},
                   {"X-Api-Key", "k"},
                   {"PASSWORD", 1},
                   {"client_secret", "s"},
                   {"access_token", "t"},
                   {"token_count", 12},
                   {"input_tokens", 3},
                   {"note", "call with bearer sk-live-123, then hunter2-secret again"},
                   {"nested", {{"list", {"hunter2-secret", {{"token", "x"}}}}}}};
  r.redact_json(j);
  EXPECT_EQ(j["api_key"], kRedacted);
  EXPECT_EQ(j["Authorization"], kRedacted);
  EXPECT_EQ(j["X-Api-Key"], kRedacted);
  EXPECT_EQ(j["PASSWORD"], kRedacted);
  EXPECT_EQ(j["client_secret"], kRedacted);
  EXPECT_EQ(j["access_token"], kRedacted);
  EXPECT_EQ(j["token_count"], 12);
  EXPECT_EQ(j["input_tokens"], 3);
  EXPECT_EQ(j["note"], "call with bearer <redacted>, then <redacted> again");
  EXPECT_EQ(j["nested"]["list"][0], kRedacted);
  EXPECT_EQ(j["nested"]["list"][1]["token"], kRedacted);
  EXPECT_EQ(r.redact_text("Authorization: Bearer abc.def"), "Authorization: Bearer <redacted>");
  // The whole credential goes, whatever joins it to the word.
  EXPECT_EQ(r.redact_text("Bearer:abc.def"), "Bearer <redacted>");
  EXPECT_EQ(r.redact_text("x bearer=abc rest"), "x bearer <redacted> rest");
  EXPECT_EQ(r.redact_text("BEARER: abc"), "BEARER <redacted>");
  EXPECT_EQ(r.redact_text("Bearers are fine"), "Bearers are fine");
}

TEST(Trace, HashAndFullContentModesFlushedPerEvent) {
  const std::string dir = ::testing::TempDir();
  for (ContentMode mode : {ContentMode::kHash, ContentMode::kFull}) {
    const std::string path = dir + "/trace_" + content_mode_name(mode) + ".jsonl";
    std::remove(path.c_str());
    auto w = JsonlTraceWriter::open(path, mode);
    ASSERT_TRUE(w.ok());
    OrderedJson ev = {{"schema_version", 1},
                      {"event", "provider_dispatch_finished"},
                      {"reply", "the answer"},
                      {"request_messages", {{{"role", "user"}, {"content", "q"}}}}};
    ASSERT_TRUE((*w)->on_event(ev).ok());
    // Flushed: readable before the writer is closed.
    auto text = read_file(path);
    ASSERT_TRUE(text.ok());
    ASSERT_EQ(text->back(), '\n');
    Json line = Json::parse(*text);
    if (mode == ContentMode::kHash) {
      EXPECT_EQ(line["reply"], "sha256:" + sha256_hex("the answer"));
      EXPECT_EQ(line["reply"].get<std::string>().rfind("sha256:", 0), 0u);
      EXPECT_EQ(line["reply"].get<std::string>().size(), 7u + 64u);
      EXPECT_EQ(line["request_messages"][0]["role"], "user");
      EXPECT_EQ(line["request_messages"][0]["content"].get<std::string>().rfind("sha256:", 0), 0u);
      EXPECT_EQ(text->find("the answer"), std::string::npos);
    } else {
      EXPECT_EQ(line["reply"], "the answer");
    }
  }
  EXPECT_FALSE(parse_content_mode("partial").ok());
}

TEST(Trace, FileIsAppendedToAndItsDirectoriesAreCreated) {
  const std::string dir = ::testing::TempDir() + "/trace_append_" + std::to_string(::getpid());
  const std::string path = dir + "/a/b/trace.jsonl";
  for (int i = 0; i < 2; ++i) {  // two runs (writers) into one file
    auto w = JsonlTraceWriter::open(path, ContentMode::kHash);
    ASSERT_TRUE(w.ok()) << w.status().message();
    ASSERT_TRUE((*w)->on_event(OrderedJson{{"event", "run_finished"}, {"n", i}}).ok());
  }
  auto text = read_file(path);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "{\"event\":\"run_finished\",\"n\":0}\n{\"event\":\"run_finished\",\"n\":1}\n");
  // A parent that is a regular file cannot become a directory: a clear error naming the path.
  auto bad = JsonlTraceWriter::open(path + "/x.jsonl", ContentMode::kHash);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(path), std::string::npos) << bad.status().message();
}

TEST(Trace, HashModeKeepsNoProviderErrorText) {
  OrderedJson ev = {{"event", "provider_dispatch_finished"},
                    {"error", "HTTP 500: {\"detail\": \"user secret prompt echoed\"}"},
                    {"error_code", "provider"}};
  OrderedJson hashed = apply_content_mode(ev, ContentMode::kHash);
  EXPECT_EQ(hashed.dump().find("echoed"), std::string::npos);
  EXPECT_EQ(hashed["error"].get<std::string>().rfind("sha256:", 0), 0u);
  EXPECT_EQ(hashed["error_code"], "provider");
  EXPECT_EQ(apply_content_mode(ev, ContentMode::kFull)["error"], ev["error"]);
}

}  // namespace
}  // namespace trinity::coord
