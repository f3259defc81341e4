// The pool file's `fallbacks` and `circuit_breaker`: merging, validation (errors name the file and
// the field path), keys, and which slots get a FallbackProvider.
#include "coord/fallback.h"
#include "coord_test_util.h"

namespace trinity::coord::testing {
namespace {

Json seven(const Json& slot) {
  Json j = {{"slots", Json::array()}};
  for (int i = 0; i < kNumAgents; ++i) j["slots"].push_back(slot);
  return j;
}

Json mock_slot() {
  return {{"provider", "mock"}, {"model", "m"}};
}

void expect_error(const Json& j, const std::string& needle) {
  auto p = parse_pool_json(j, "pool.json");
  ASSERT_FALSE(p.ok()) << needle;
  EXPECT_NE(p.status().message().find(needle), std::string::npos) << p.status().message();
  EXPECT_EQ(p.status().message().rfind("pool.json: ", 0), 0u) << p.status().message();
}

TEST(FallbackPool, FallbacksAreMergedOverTheDefaultsNotOverTheSlot) {
  Json j = seven(Json::object());
  j["defaults"] = {{"provider", "openai"},
                   {"base_url", "http://local:8080/v1/"},
                   {"model", "d"},
                   {"name", "local"},
                   {"api_key_env", "K"}};
  j["slots"][0] = {{"model", "a"},
                   {"max_tokens", 50},
                   {"fallbacks", Json::array({Json{{"model", "b"}},
                                              Json{{"provider", "mock"}, {"model", "m"}}})}};
  auto p = parse_pool_json(j, "pool.json");
  ASSERT_TRUE(p.ok()) << p.status().message();
  const ProviderSpec& s = p->slots[0];
  EXPECT_EQ(s.model, "a");
  ASSERT_EQ(s.fallbacks.size(), 2u);
  EXPECT_EQ(s.fallbacks[0].provider, "openai");
  EXPECT_EQ(s.fallbacks[0].model, "b");
  EXPECT_EQ(s.fallbacks[0].base_url, "http://local:8080/v1");
  EXPECT_EQ(s.fallbacks[0].api_key_env, "K");
  EXPECT_EQ(s.fallbacks[0].max_tokens, 1024);  // the slot's own max_tokens is not inherited
  EXPECT_TRUE(s.fallbacks[0].fallbacks.empty());
  EXPECT_EQ(s.fallbacks[1].provider, "mock");
  EXPECT_TRUE(p->slots[1].fallbacks.empty());
  EXPECT_EQ(endpoint_key(s.fallbacks[0]), "openai:b@http://local:8080/v1 key:K");
  EXPECT_EQ(endpoint_name(s), "local");
  EXPECT_EQ(endpoint_name(s.fallbacks[0]), "openai/b");  // a default name is not inherited
  EXPECT_EQ(endpoint_key(s.fallbacks[1]), "mock:m");
}

TEST(FallbackPool, DefaultFallbacksApplyToEverySlotUnlessItOptsOut) {
  Json j = seven(mock_slot());
  j["defaults"] = {{"fallbacks", Json::array({Json{{"provider", "mock"}, {"model", "spare"}}})}};
  j["slots"][1]["fallbacks"] = Json::array();
  j["slots"][2]["fallbacks"] = nullptr;
  auto p = parse_pool_json(j, "pool.json");
  ASSERT_TRUE(p.ok()) << p.status().message();
  ASSERT_EQ(p->slots[0].fallbacks.size(), 1u);
  EXPECT_EQ(p->slots[0].fallbacks[0].model, "spare");
  EXPECT_TRUE(p->slots[1].fallbacks.empty());
  EXPECT_TRUE(p->slots[2].fallbacks.empty());
  EXPECT_EQ(p->slots[6].fallbacks.size(), 1u);
}

TEST(FallbackPool, CircuitBreakerSettingsPoolWideAndPerSpec) {
  Json live = {{"provider", "openai"}, {"model", "x"}, {"base_url", "http://h/v1"}};
  Json j = seven(live);
  EXPECT_EQ(parse_pool_json(j, "p")->slots[0].circuit_breaker, (CircuitBreakerConfig{5, 30000}));
  j["circuit_breaker"] = {{"failures", 2}, {"open_seconds", 1.5}};
  j["slots"][3]["model"] = "y";
  j["slots"][3]["circuit_breaker"] = {{"failures", 0}};
  auto p = parse_pool_json(j, "pool.json");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->circuit_breaker, (CircuitBreakerConfig{2, 1500}));
  EXPECT_EQ(p->slots[0].circuit_breaker, (CircuitBreakerConfig{2, 1500}));
  EXPECT_EQ(p->slots[3].circuit_breaker, (CircuitBreakerConfig{0, 1500}));
}

TEST(FallbackPool, ErrorsNameTheFileAndTheFieldPath) {
  Json fb = {{"provider", "mock"}, {"model", "f"}};
  Json j = seven(mock_slot());
  j["slots"][1]["fallbacks"] =
      Json::array({Json{{"provider", "mock"}, {"model", "f"}, {"fallbacks", Json::array({fb})}}});
  expect_error(j, "slots[1].fallbacks[0].fallbacks: fallbacks cannot be nested");
  j = seven(mock_slot());
  j["defaults"] = {
      {"fallbacks",
       Json::array({Json{{"provider", "mock"}, {"model", "f"}, {"fallbacks", Json::array()}}})}};
  expect_error(j, "pool.json: defaults.fallbacks[0].fallbacks: fallbacks cannot be nested");
  j = seven(mock_slot());
  j["slots"][2]["fallbacks"] = fb;
  expect_error(j, "slots[2].fallbacks: must be an array of provider specs");
  j["slots"][2]["fallbacks"] = Json::array({"mock"});
  expect_error(j, "slots[2].fallbacks[0]: must be an object");
  j["slots"][2]["fallbacks"] = Json::array({Json{{"provider", "mock"}, {"modle", "f"}}});
  expect_error(j, "slots[2].fallbacks[0].modle: unknown field");
  j["slots"][2]["fallbacks"] = Json::array({Json{{"provider", "openai"}, {"model", "f"}}});
  j["slots"][2]["fallbacks"][0]["api_key"] = "sk-1";
  expect_error(j, "slots[2].fallbacks[0].api_key: keys are never read from the pool file");
  j["slots"][2]["fallbacks"] = Json::array({fb, fb});
  expect_error(j, "slots[2].fallbacks[1]: endpoint mock:f is already in this slot's list");
  j["slots"][2]["fallbacks"] = Json::array({mock_slot()});
  expect_error(j, "slots[2].fallbacks[0]: endpoint mock:m is already");
  j["slots"][2]["fallbacks"] = Json::array();
  for (int i = 0; i < 9; ++i)
    j["slots"][2]["fallbacks"].push_back(Json{{"provider", "mock"}, {"model", std::to_string(i)}});
  expect_error(j, "slots[2].fallbacks: at most 8 fallbacks");

  j = seven(mock_slot());
  j["circuit_breaker"] = {{"failures", -1}};
  expect_error(j, "pool.json: circuit_breaker.failures: must be an integer in [0, 1000]");
  j["circuit_breaker"] = {{"open_seconds", 0}};
  expect_error(j, "circuit_breaker.open_seconds: must be a number of seconds");
  j["circuit_breaker"] = {{"open_secs", 3}};
  expect_error(j, "circuit_breaker.open_secs: unknown field (expected failures, open_seconds)");
  j["circuit_breaker"] = 5;
  expect_error(j, "circuit_breaker: must be an object");
  j.erase("circuit_breaker");
  j["slots"][3]["circuit_breaker"] = {{"open_seconds", "soon"}};
  expect_error(j, "slots[3].circuit_breaker.open_seconds");
  j["slots"][3]["fallbacks"] = Json::array(
      {Json{{"provider", "mock"}, {"model", "f"}, {"circuit_breaker", {{"failures", 1.5}}}}});
  j["slots"][3].erase("circuit_breaker");
  expect_error(j, "slots[3].fallbacks[0].circuit_breaker.failures");
}

TEST(FallbackPool, OneEndpointHasOneCircuitSetting) {
  Json live = {{"provider", "openai"}, {"model", "x"}, {"base_url", "http://h/v1"}};
  Json j = seven(live);
  j["slots"][4]["circuit_breaker"] = {{"failures", 9}};
  expect_error(j,
               "slots[4].circuit_breaker: endpoint openai:x@http://h/v1 has one circuit, "
               "configured differently at slots[0]");
  j["slots"][4]["api_key_env"] = "OTHER_KEY";  // another key: another endpoint
  EXPECT_TRUE(parse_pool_json(j, "pool.json").ok());
  j = seven(mock_slot());  // simulated providers have no circuit: nothing to agree on
  j["slots"][4]["circuit_breaker"] = {{"failures", 9}};
  EXPECT_TRUE(parse_pool_json(j, "pool.json").ok());
}

TEST(FallbackPool, LiveFallbacksNeedAllowLiveAndTheirKeys) {
  Json j = seven(mock_slot());
  j["slots"][0]["fallbacks"] = Json::array({Json{{"provider", "openai"},
                                                 {"model", "f"},
                                                 {"base_url", "http://h/v1"},
                                                 {"api_key_env", "FB_KEY"},
                                                 {"headers", {{"X-Team", "team-secret-1"}}}}});
  auto p = parse_pool_json(j, "pool.json");
  ASSERT_TRUE(p.ok()) << p.status().message();
  auto none = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  auto with_key = [](const std::string& n) -> std::optional<std::string> {
    return n == "FB_KEY" ? std::optional<std::string>("sk-fallback-secret") : std::nullopt;
  };
  auto refused = resolve_pool_keys(*p, false, with_key);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("slots 0 (a fallback)"), std::string::npos)
      << refused.status().message();
  auto missing = resolve_api_keys(*p, true, none);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("slot 0 fallback 0 (openai f) needs an API key in "
                                            "the environment variable FB_KEY"),
            std::string::npos)
      << missing.status().message();
  auto keys = resolve_pool_keys(*p, true, with_key);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->at("FB_KEY"), "sk-fallback-secret");
  auto pool = AgentPool::create(*p, true, with_key);
  ASSERT_TRUE(pool.ok()) << pool.status().message();
  const auto& secrets = (*pool)->secrets;
  EXPECT_NE(std::find(secrets.begin(), secrets.end(), "sk-fallback-secret"), secrets.end());
  EXPECT_NE(std::find(secrets.begin(), secrets.end(), "team-secret-1"), secrets.end());
}

TEST(FallbackPool, WhichSlotsGetAFallbackProvider) {
  Json j = seven(mock_slot());
  j["slots"][1] = {{"provider", "openai"}, {"model", "x"}, {"base_url", "http://h/v1"}};
  j["slots"][2] = j["slots"][1];
  j["slots"][2]["circuit_breaker"] = {{"failures", 0}};
  j["slots"][2]["model"] = "y";
  j["slots"][3]["fallbacks"] = Json::array({Json{{"provider", "mock"}, {"model", "f"}}});
  auto cfg = parse_pool_json(j, "pool.json");
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  auto pool = AgentPool::create(*cfg, true, [](const std::string&) { return std::nullopt; });
  ASSERT_TRUE(pool.ok()) << pool.status().message();
  auto fallback = [&](int slot) {
    return dynamic_cast<const FallbackProvider*>(
        (*pool)->providers[static_cast<size_t>(slot)].get());
  };
  EXPECT_FALSE(fallback(0));  // simulated, no fallbacks: the plain provider
  ASSERT_TRUE(fallback(1));   // live: its circuit
  EXPECT_TRUE(fallback(1)->candidates()[0].breaker);
  EXPECT_FALSE(fallback(2));  // live, circuit disabled, no fallbacks
  ASSERT_TRUE(fallback(3));
  EXPECT_EQ(fallback(3)->candidates().size(), 2u);
  EXPECT_FALSE(fallback(3)->candidates()[1].breaker);
  EXPECT_EQ(fallback(3)->spec().fallbacks.size(), 1u);  // the slot's spec, fallbacks included
  ASSERT_EQ((*pool)->circuits->snapshot().size(), 1u);
  EXPECT_EQ((*pool)->circuits->snapshot()[0].name, "openai/x");
}

TEST(FallbackPool, CircuitNamesAreUniqueWithinAPool) {
  CircuitRegistry reg;
  ProviderSpec a;
  a.provider = "openai";
  a.model = "m";
  a.base_url = "http://a/v1";
  ProviderSpec b = a;
  b.base_url = "http://b/v1";
  EXPECT_EQ(reg.get(a)->name(), "openai/m");
  EXPECT_EQ(reg.get(b)->name(), "openai/m#2");
  EXPECT_EQ(reg.get(a), reg.get(a));
}

}  // namespace
}  // namespace trinity::coord::testing
