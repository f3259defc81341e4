// Byte-exact Erlang term hashes (transcript_hash, route_hash), Elixir rounding, margins and the
// mock_tiny router profile.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "core/file_util.h"
#include "core/json.h"
#include "core/sha256.h"
#include "router/etf_hash.h"
#include "router/mock_tiny.h"
#include "router/route.h"

namespace trinity {
namespace {

std::string hex(const std::string& bytes) {
  return to_hex(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

Json load_vectors() {
  auto j = load_json_file(std::string(TRINITY_TEST_DATA_DIR) + "/golden/hash_vectors.json");
  EXPECT_TRUE(j.ok()) << j.status().message();
  return j.ok() ? *j : Json::array();
}

TEST(EtfHash, GoldenVectorsByteExact) {
  Json vectors = load_vectors();
  ASSERT_EQ(vectors.size(), 3u);
  for (const Json& v : vectors) {
    SCOPED_TRACE(v["id"].get<std::string>());
    auto messages = messages_from_json(v["messages"], "vector");
    ASSERT_TRUE(messages.ok()) << messages.status().message();
    EXPECT_EQ(build_transcript(*messages), v["transcript"].get<std::string>());

    std::string plain = etf_encode_messages(*messages);
    EXPECT_EQ(hex(plain), v["transcript_etf_uncompressed_hex"].get<std::string>());
    auto packed = etf_compress(plain);
    ASSERT_TRUE(packed.ok());
    EXPECT_EQ(hex(*packed), v["transcript_etf_hex"].get<std::string>());
    EXPECT_EQ(*packed != plain, v["transcript_etf_compressed"].get<bool>());
    auto th = transcript_hash(*messages);
    ASSERT_TRUE(th.ok());
    EXPECT_EQ(*th, v["transcript_hash"].get<std::string>());

    std::vector<double> logits;
    for (const Json& x : v["agent_logits_rounded"]) logits.push_back(x.get<double>());
    for (const Json& x : v["role_logits_rounded"]) logits.push_back(x.get<double>());
    ASSERT_EQ(logits.size(), 10u);
    for (double& x : logits) x = elixir_round(x);  // idempotent on already-rounded values
    const int agent = v["agent_id"].get<int>(), role = v["role_id"].get<int>();
    std::string route_term = etf_encode_route(agent, role, logits.data(), logits.size());
    EXPECT_EQ(hex(route_term), v["route_etf_uncompressed_hex"].get<std::string>());
    auto rp = etf_compress(route_term);
    ASSERT_TRUE(rp.ok());
    EXPECT_EQ(hex(*rp), v["route_etf_hex"].get<std::string>());
    auto rh = route_hash(agent, role, logits.data(), logits.size());
    ASSERT_TRUE(rh.ok());
    EXPECT_EQ(*rh, v["route_hash"].get<std::string>());
  }
}

TEST(EtfHash, IssueVectors) {
  auto th = transcript_hash({{"user", "What is 17 + 25? Answer briefly."}});
  ASSERT_TRUE(th.ok());
  EXPECT_EQ(*th, "05485d3e42e7b2e0c63bad13d446915173499b5a9a980faff24195c33bdbf0b3");
  const double logits[10] = {15.854443,  9.122092,  4.819489,  0.056395,   30.22077,
                             -23.630211, 10.418853, -7.696819, -15.208102, 4.941882};
  auto rh = route_hash(4, 2, logits, 10);
  ASSERT_TRUE(rh.ok());
  EXPECT_EQ(*rh, "a6f10d75a70ca4bca93f1c3a689365f28bcc9b293e25ac9643166dc980efcefe");
}

// The reference orchestrator's trace hashes. Form-B vectors: the reference's own tests
// (core_test.exs "hello"; trace_parity_test.exs for the three prompt-eval cases). Map-form
// vectors: an independent Python ETF encoder that reproduces the reference's nested-map vector.
TEST(EtfHash, TraceFormsMatchTheReferenceOrchestrator) {
  EXPECT_EQ(hex(etf_encode_messages_form_b({{"user", "hello"}})),
            "836c0000000174000000026d00000007636f6e74656e746d0000000568656c6c6f6d00000004726f6c"
            "656d00000004757365726a");
  auto hello = trace_transcript_hash({{"user", "hello"}});
  ASSERT_TRUE(hello.ok());
  EXPECT_EQ(*hello, "f08a41138f0ae20bd9529ec45f6bccf323fd400841a625fae74682481abe83f3");
  auto empty = trace_transcript_hash({});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "4309bcba566dde47811c47fa17eda8251761909a39934d3ae48cb5fb2f90cb14");

  const std::map<std::string, std::pair<std::string, std::string>> expected = {
      {"math_direct",
       {"5a4b9df623852c10e59e1d55495a5bb8da25dfd3940949aeaeeaf4e9560c47a0",
        "812fded339e5980413ac943d9ccf8b77098c804eb49fd540ba5d6084dfe30d60"}},
      {"verification_after_worker",
       {"2c2b43cae6155370016a93a863e720938c978ebe9a271233909bb38da6271061",
        "663ef53ed03ad1d666ced2df1007056bdd639ffa20cf45ae5bc44624c631dbf3"}},
      {"unicode_emoji",
       {"f4790e10ddc11476c2bc73cec9a52daeab3a6ed48a1f3d4f2af27eef88cf522e",
        "ad39f80c14934cde68f9e8f8c3b7db7df3b3c9cdea4a4812558f972b01aed235"}}};
  int checked = 0;
  for (const Json& v : load_vectors()) {
    const std::string id = v["id"].get<std::string>();
    SCOPED_TRACE(id);
    auto it = expected.find(id);
    ASSERT_NE(it, expected.end());
    auto messages = messages_from_json(v["messages"], "vector");
    ASSERT_TRUE(messages.ok()) << messages.status().message();
    auto th = trace_transcript_hash(*messages);
    ASSERT_TRUE(th.ok());
    EXPECT_EQ(*th, it->second.first);
    std::vector<double> logits;
    for (const Json& x : v["agent_logits_rounded"]) logits.push_back(x.get<double>());
    for (const Json& x : v["role_logits_rounded"]) logits.push_back(x.get<double>());
    auto rh = trace_route_hash(v["agent_id"].get<int>(), v["role_id"].get<int>(), logits.data(),
                               logits.size());
    ASSERT_TRUE(rh.ok());
    EXPECT_EQ(*rh, it->second.second);
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

TEST(EtfHash, EmptyListAndIntegers) {
  EXPECT_EQ(hex(etf_encode_messages({})), "836a");
  auto packed = etf_compress(etf_encode_messages({}));
  ASSERT_TRUE(packed.ok());
  EXPECT_EQ(hex(*packed), "836a");
  const double one = 1.0;
  // 300 does not fit SMALL_INTEGER_EXT: INTEGER_EXT 98 i32be.
  EXPECT_EQ(hex(etf_encode_route(300, 2, &one, 1)),
            "836c00000003620000012c61026c00000001463ff00000000000006a6a");
}

TEST(EtfHash, LongTranscriptCompresses) {
  std::vector<Message> msgs;
  for (int i = 0; i < 20; ++i) msgs.push_back({"user", "the same words again and again"});
  std::string plain = etf_encode_messages(msgs);
  auto packed = etf_compress(plain);
  ASSERT_TRUE(packed.ok());
  ASSERT_GT(packed->size(), 6u);
  EXPECT_EQ(static_cast<uint8_t>((*packed)[0]), 131);
  EXPECT_EQ(static_cast<uint8_t>((*packed)[1]), 80);
  EXPECT_LT(packed->size(), plain.size());
}

TEST(ElixirRound, TiesAwayFromZeroOnExactValue) {
  // 1/128 = 0.0078125 exactly: a true tie at 6 decimals, rounds away from zero.
  EXPECT_EQ(elixir_round(0.0078125), 0.007813);
  EXPECT_EQ(elixir_round(-0.0078125), -0.007813);
  // 2.675 is stored as 2.67499999999999982236431605997495353221893310546875.
  EXPECT_EQ(elixir_round(2.675, 2), 2.67);
  EXPECT_EQ(elixir_round(9.9999999), 10.0);
  EXPECT_EQ(elixir_round(15.8544431234), 15.854443);
  EXPECT_EQ(elixir_round(-23.6302109), -23.630211);
  EXPECT_EQ(elixir_round(0.0), 0.0);
  // f32 logits widened to f64, as the router hashes them.
  EXPECT_EQ(elixir_round(static_cast<double>(30.22077f)), 30.22077);
}

TEST(Margins, ArgmaxFirstOnTiesAndF64Margin) {
  const float a[4] = {1.0f, 3.0f, 3.0f, 2.0f};
  EXPECT_EQ(argmax_first(a, 4), 1);
  EXPECT_EQ(top_margin(a, 4), 0.0);
  const float b[3] = {0.1f, 0.3f, -1.0f};
  EXPECT_EQ(top_margin(b, 3), static_cast<double>(0.3f) - static_cast<double>(0.1f));
}

TEST(Transcript, RoleColonContentJoinedByNewline) {
  EXPECT_EQ(build_transcript({{"system", "S"}, {"user", "a\nb"}, {"assistant", ""}}),
            "system: S\nuser: a\nb\nassistant: ");
}

TEST(Messages, ParseErrorsAreClear) {
  auto bad_role = messages_from_json(Json::parse(R"([{"role":"tool","content":"x"}])"), "m.json");
  ASSERT_FALSE(bad_role.ok());
  EXPECT_NE(bad_role.status().message().find("m.json: messages[0]: role must be"),
            std::string::npos);
  auto bad_content = messages_from_json(Json::parse(R"([{"role":"user","content":3}])"), "m");
  ASSERT_FALSE(bad_content.ok());
  EXPECT_NE(bad_content.status().message().find("'content' must be a string"), std::string::npos);
  EXPECT_FALSE(messages_from_json(Json::parse(R"({"role":"user"})"), "m").ok());
  EXPECT_FALSE(messages_from_json(Json::parse(R"([])"), "m").ok());
  EXPECT_FALSE(
      messages_from_json(Json::parse(R"([{"role":"user","content":"x","n":1}])"), "m").ok());
  EXPECT_TRUE(messages_from_json(Json::parse(R"([{"content":"x","role":"user"}])"), "m").ok());
}

TEST(MockTiny, FollowsTheDigestRule) {
  MockTinyRouter router;
  std::vector<Message> msgs = {{"user", "What is 17 + 25? Answer briefly."}};
  auto d = router.route(msgs);
  ASSERT_TRUE(d.ok()) << d.status().message();
  // transcript_hash 05485d3e...: h0 = 0x05, h1 = 0x48, h2 = 0x5d.
  EXPECT_EQ(d->transcript_hash, "05485d3e42e7b2e0c63bad13d446915173499b5a9a980faff24195c33bdbf0b3");
  EXPECT_EQ(d->agent_id, 0x05 % 7);
  EXPECT_EQ(d->role_id, 0x48 % 3);
  const double hot = 1.0 + 0x5d / 255.0;  // double, as the reference computes it
  for (int i = 0; i < kNumAgents; ++i)
    EXPECT_EQ(d->agent_logits[static_cast<size_t>(i)],
              i == d->agent_id ? static_cast<float>(hot) : 0.0f);
  for (int i = 0; i < kNumRoles; ++i)
    EXPECT_EQ(d->role_logits[static_cast<size_t>(i)],
              i == d->role_id ? static_cast<float>(hot) : 0.0f);
  ASSERT_TRUE(d->logits_f64.has_value());
  EXPECT_EQ((*d->logits_f64)[static_cast<size_t>(d->agent_id)], hot);
  EXPECT_EQ(*d->agent_margin, hot);
  EXPECT_EQ(*d->role_margin, hot);
  EXPECT_EQ(d->token_count, 7);  // "What" "is" "17" "+" "25?" "Answer" "briefly." (no role)
  auto rounded = d->rounded_logits();
  auto rh = route_hash(d->agent_id, d->role_id, rounded.data(), rounded.size());
  ASSERT_TRUE(rh.ok());
  EXPECT_EQ(d->route_hash, *rh);
  EXPECT_FALSE(router.route({}).ok());
}

TEST(MockTiny, TokenCountIsTheReferencesWordCountOfTheContents) {
  MockTinyRouter router;
  // The reference's round-trip test pins this prompt at 4 tokens.
  auto d = router.route({{"user", "Route this deterministic prompt."}});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->token_count, 4);
  // Contents joined by one space; roles are not words.
  EXPECT_EQ(mock_token_count({{"system", "Be brief."}, {"user", "two words"}}), 4);
  EXPECT_EQ(mock_token_count({{"user", "glued"}, {"assistant", "together"}}), 2);
  EXPECT_EQ(mock_token_count({{"user", ""}, {"assistant", "  "}}), 0);
  // Unicode whitespace splits (U+3000, U+0085, U+2028, U+1680); no-break spaces do not.
  EXPECT_EQ(whitespace_word_count("a\u3000b\u0085c\u2028d\u1680e"), 5);
  EXPECT_EQ(whitespace_word_count("a\u00a0b\u2007c\u202fd"), 1);
  EXPECT_EQ(whitespace_word_count("\t\n a \r\v\f b "), 2);
  EXPECT_EQ(whitespace_word_count(std::string("x\xff\xfe y")), 2);  // invalid UTF-8: not space
  EXPECT_EQ(whitespace_word_count(std::string("\xe3\x80")), 1);     // truncated U+3000
  // Every White_Space character splits but the no-break ones; nothing else does.
  EXPECT_EQ(whitespace_word_count("a\u200ab\u205fc\u2029d"), 4);
  EXPECT_EQ(whitespace_word_count("a\u200bb\u180ec\u2060d"), 1);  // ZWSP, MVS, WJ: not White_Space
  // Ill-formed sequences never decode to whitespace: overlong forms of U+0020 / U+00A0 /
  // U+0085, an encoded surrogate, a value above U+10FFFF, a stray continuation byte.
  for (const char* bad : {"a\xc0\xa0"
                          "b",
                          "a\xe0\x80\xa0"
                          "b",
                          "a\xe0\x82\x85"
                          "b",
                          "a\xf0\x80\x80\xa0"
                          "b",
                          "a\xed\xa0\x80"
                          "b",
                          "a\xf4\x90\x80\x80"
                          "b",
                          "a\x85"
                          "b"})
    EXPECT_EQ(whitespace_word_count(bad), 1) << bad;
}

TEST(MockTiny, OneHotLogitIsRoundedFromItsDoubleValue) {
  // 1 + h/255 rounded to 6 decimals differs between f32 arithmetic (trinity's old mock) and
  // f64 (the reference) for 9 of the 256 digest bytes.
  std::set<int> differs;
  for (int h = 0; h < 256; ++h) {
    const double exact = 1.0 + h / 255.0;
    const float f32 = 1.0f + static_cast<float>(h) / 255.0f;
    if (elixir_round(exact) != elixir_round(static_cast<double>(f32))) differs.insert(h);
  }
  ASSERT_EQ(differs.size(), 9u);
  // A transcript whose h[2] is one of them routes with the double's rounding.
  MockTinyRouter router;
  int checked = 0;
  for (int i = 0; i < 20000 && checked < 3; ++i) {
    std::vector<Message> msgs = {{"user", "probe " + std::to_string(i)}};
    auto d = router.route(msgs);
    ASSERT_TRUE(d.ok());
    const int h2 = std::stoi(d->transcript_hash.substr(4, 2), nullptr, 16);
    if (!differs.count(h2)) continue;
    const double want = elixir_round(1.0 + h2 / 255.0);
    EXPECT_EQ(d->rounded_logits()[static_cast<size_t>(d->agent_id)], want);
    const std::array<double, 10> ref_rounded = [&] {
      std::array<double, 10> r{};
      r[static_cast<size_t>(d->agent_id)] = want;
      r[static_cast<size_t>(kNumAgents + d->role_id)] = want;
      return r;
    }();
    EXPECT_EQ(d->route_hash, *route_hash(d->agent_id, d->role_id, ref_rounded.data(), 10));
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

TEST(MockTiny, ConcurrentRoutesAgree) {
  MockTinyRouter router;
  std::vector<Message> msgs = {{"user", "hello"}, {"assistant", "Worker answer: hi"}};
  auto expected = router.route(msgs);
  ASSERT_TRUE(expected.ok());
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto d = router.route(msgs);
        if (!d.ok() || d->route_hash != expected->route_hash) ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace trinity
