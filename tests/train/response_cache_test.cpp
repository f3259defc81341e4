#include "train/response_cache.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "coord/coord_test_util.h"
#include "coord/fallback.h"
#include "core/file_util.h"

namespace trinity::train {
namespace {

using coord::CallContext;
using coord::ChatReply;
using coord::ChatRequest;
using coord::ProviderSpec;

// A live-looking provider (no network) that counts its calls; reply i is "<last message> #i".
class CountingProvider final : public coord::Provider {
 public:
  explicit CountingProvider(ProviderSpec spec) : Provider(std::move(spec)) {}
  Result<ChatReply> chat(const ChatRequest& request, const CallContext&) override {
    const int n = calls.fetch_add(1) + 1;
    if (fail.load()) return Status(ErrorCode::kProvider, "counting provider: scripted failure");
    ChatReply r;
    r.text = request.messages.back().content + " #" + std::to_string(n);
    r.input_tokens = 100;
    r.output_tokens = 40;
    r.attempts = 2;
    r.http_status = 200;
    return r;
  }
  std::atomic<int> calls{0};
  std::atomic<bool> fail{false};
};

ProviderSpec live_spec(std::optional<double> temperature = 0.0) {
  ProviderSpec s;
  s.name = "slot";
  s.provider = "openai";
  s.model = "gpt-test";
  s.base_url = "http://127.0.0.1:9/v1";
  s.api_key_env = "TEST_KEY";
  s.max_tokens = 256;
  s.temperature = temperature;
  s.headers = {{"X-Api-Secret", "s3cret"}};
  s.price_in_per_mtok = 1.0;
  s.price_out_per_mtok = 2.0;
  return s;
}

ChatRequest request(const std::string& question) {
  ChatRequest r;
  r.messages = {{"system", "You are a Worker."}, {"user", question}};
  return r;
}

// A fresh file under a per-process temp directory (ctest runs cases as parallel processes).
std::string fresh_path(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/rcache_" + std::to_string(::getpid());
  EXPECT_TRUE(make_dirs(dir).ok());
  const std::string path = dir + "/" + name + ".sqlite";
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  return path;
}

std::shared_ptr<ResponseCache> open_cache(const std::string& path,
                                          ResponseCacheOptions options = {}) {
  auto cache = ResponseCache::open(path, options);
  EXPECT_TRUE(cache.ok()) << cache.status().to_string();
  return cache.ok() ? *cache : nullptr;
}

ChatReply call(coord::Provider& p, const ChatRequest& req) {
  coord::testing::FakeClock clock;
  CallContext ctx;
  ctx.clock = &clock;
  auto r = p.chat(req, ctx);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? *r : ChatReply{};
}

TEST(ResponseCache, SecondIdenticalRequestIsAHit) {
  auto cache = open_cache(fresh_path("hit"));
  auto inner = std::make_shared<CountingProvider>(live_spec());
  CachingProvider p(inner, cache);
  const ChatReply first = call(p, request("What is 2+2?"));
  EXPECT_FALSE(first.cached);
  EXPECT_EQ(first.attempts, 2);
  const ChatReply second = call(p, request("What is 2+2?"));
  EXPECT_EQ(inner->calls.load(), 1);
  EXPECT_TRUE(second.cached);
  EXPECT_EQ(second.attempts, 0);
  EXPECT_EQ(second.text, "What is 2+2? #1");
  EXPECT_EQ(second.input_tokens, 100);
  EXPECT_EQ(second.output_tokens, 40);
  const ResponseCacheStats s = cache->stats();
  EXPECT_EQ(s.hits, 1);
  EXPECT_EQ(s.misses, 1);
  EXPECT_EQ(s.stores, 1);
  EXPECT_EQ(s.bypassed, 0);
  EXPECT_DOUBLE_EQ(s.hit_rate(), 0.5);
  EXPECT_EQ(s.to_json()["hit_rate"].get<double>(), 0.5);
  EXPECT_EQ(p.spec().model, "gpt-test");
}

TEST(ResponseCache, EveryReplyChangingFieldChangesTheKey) {
  const ProviderSpec base = live_spec();
  const ChatRequest req = request("q");
  const std::string key = response_cache_key(base, req);
  EXPECT_EQ(key.size(), 64u);
  std::vector<std::string> keys = {key};
  auto with = [&](auto change) {
    ProviderSpec s = base;
    ChatRequest r = req;
    change(s, r);
    keys.push_back(response_cache_key(s, r));
  };
  with([](ProviderSpec& s, ChatRequest&) { s.model = "gpt-other"; });
  with([](ProviderSpec& s, ChatRequest&) { s.provider = "anthropic"; });
  with([](ProviderSpec& s, ChatRequest&) { s.base_url = "http://127.0.0.1:10/v1"; });
  with([](ProviderSpec& s, ChatRequest&) { s.max_tokens = 512; });
  with([](ProviderSpec& s, ChatRequest&) { s.temperature = 0.5; });
  with([](ProviderSpec& s, ChatRequest&) { s.temperature.reset(); });
  with([](ProviderSpec& s, ChatRequest&) { s.headers["X-Other"] = "v"; });
  with([](ProviderSpec&, ChatRequest& r) { r.messages[1].content = "q2"; });
  with([](ProviderSpec&, ChatRequest& r) { r.messages[1].role = "assistant"; });
  with([](ProviderSpec&, ChatRequest& r) { std::swap(r.messages[0], r.messages[1]); });
  with([](ProviderSpec&, ChatRequest& r) { r.messages.push_back({"user", ""}); });
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(std::unique(keys.begin(), keys.end()), keys.end()) << "two requests share a key";
}

TEST(ResponseCache, SecretsAndTransportSettingsDoNotChangeTheKey) {
  const ProviderSpec base = live_spec();
  ChatRequest req = request("q");
  ProviderSpec s = base;
  s.name = "other-slot";
  s.api_key_env = "OTHER_KEY";
  s.headers["X-Api-Secret"] = "different";
  s.timeout_ms = 1;
  s.max_retries = 7;
  s.price_in_per_mtok = 9;
  ChatRequest r = req;
  r.agent_id = 5;  // a live model sees only the messages
  r.role_id = 1;
  r.turn = 3;
  EXPECT_EQ(response_cache_key(s, r), response_cache_key(base, req));
  const std::string canonical = response_cache_request_json(s, r);
  EXPECT_EQ(canonical.find("s3cret"), std::string::npos);
  EXPECT_EQ(canonical.find("different"), std::string::npos);
  EXPECT_EQ(canonical.find("OTHER_KEY"), std::string::npos);
}

TEST(ResponseCache, SimulatedProvidersKeyOnSlotRoleAndTurn) {
  ProviderSpec mock;
  mock.provider = "mock";
  mock.model = "mock-agent-0";
  ChatRequest a = request("q");
  ChatRequest b = a;
  b.agent_id = 3;
  ChatRequest c = a;
  c.turn = 2;
  ChatRequest d = a;
  d.role_id = 2;
  const std::string ka = response_cache_key(mock, a);
  EXPECT_NE(ka, response_cache_key(mock, b));
  EXPECT_NE(ka, response_cache_key(mock, c));
  EXPECT_NE(ka, response_cache_key(mock, d));
}

TEST(ResponseCache, DifferentRequestsMissThroughTheProvider) {
  auto cache = open_cache(fresh_path("miss"));
  auto a = std::make_shared<CountingProvider>(live_spec());
  ProviderSpec other_model = live_spec();
  other_model.model = "gpt-other";
  auto b = std::make_shared<CountingProvider>(other_model);
  ProviderSpec other_tokens = live_spec();
  other_tokens.max_tokens = 64;
  auto c = std::make_shared<CountingProvider>(other_tokens);
  CachingProvider pa(a, cache), pb(b, cache), pc(c, cache);
  call(pa, request("q1"));
  call(pa, request("q2"));
  call(pb, request("q1"));
  call(pc, request("q1"));
  EXPECT_EQ(a->calls.load() + b->calls.load() + c->calls.load(), 4);
  EXPECT_EQ(cache->stats().misses, 4);
  EXPECT_EQ(cache->stats().hits, 0);
  EXPECT_EQ(cache->stats().stores, 4);
  EXPECT_EQ(*cache->entry_count(), 4);
  call(pb, request("q1"));
  EXPECT_EQ(b->calls.load(), 1);
  EXPECT_EQ(cache->stats().hits, 1);
}

TEST(ResponseCache, ErrorsAreNotCached) {
  auto cache = open_cache(fresh_path("errors"));
  auto inner = std::make_shared<CountingProvider>(live_spec());
  CachingProvider p(inner, cache);
  coord::testing::FakeClock clock;
  CallContext ctx;
  ctx.clock = &clock;
  inner->fail = true;
  auto r1 = p.chat(request("q"), ctx);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.status().code(), ErrorCode::kProvider);
  EXPECT_EQ(*cache->entry_count(), 0);
  EXPECT_EQ(cache->stats().stores, 0);
  inner->fail = false;
  auto r2 = p.chat(request("q"), ctx);
  ASSERT_TRUE(r2.ok());
  EXPECT_FALSE(r2->cached);
  EXPECT_EQ(r2->text, "q #2");
  EXPECT_EQ(inner->calls.load(), 2);
  EXPECT_EQ(cache->stats().stores, 1);
}

// A reply from one of the slot's fallbacks is not the slot's model's: it is never stored.
TEST(ResponseCache, FallbackRepliesAreNotStored) {
  auto cache = open_cache(fresh_path("fallback"));
  auto primary = std::make_shared<CountingProvider>(live_spec());
  ProviderSpec spare_spec = live_spec();
  spare_spec.model = "spare";
  auto spare = std::make_shared<CountingProvider>(spare_spec);
  ProviderSpec slot = live_spec();
  slot.fallbacks = {spare_spec};
  auto slot_provider = std::make_shared<coord::FallbackProvider>(
      slot, std::vector<coord::FallbackProvider::Candidate>{{primary, nullptr, "slot"},
                                                            {spare, nullptr, "spare"}});
  CachingProvider p(slot_provider, cache);
  primary->fail = true;
  EXPECT_EQ(call(p, request("q")).fallback_index, 1);
  EXPECT_EQ(cache->stats().stores, 0);
  primary->fail = false;
  EXPECT_EQ(call(p, request("q")).fallback_index, 0);
  EXPECT_EQ(cache->stats().stores, 1);
  EXPECT_TRUE(call(p, request("q")).cached);
  EXPECT_EQ(spare->calls.load(), 1);
}

TEST(ResponseCache, PersistsAcrossReopen) {
  const std::string path = fresh_path("persist");
  {
    auto cache = open_cache(path);
    CachingProvider p(std::make_shared<CountingProvider>(live_spec()), cache);
    call(p, request("kept"));
  }
  auto cache = open_cache(path);
  ASSERT_NE(cache, nullptr);
  EXPECT_EQ(*cache->entry_count(), 1);
  auto inner = std::make_shared<CountingProvider>(live_spec());
  CachingProvider p(inner, cache);
  const ChatReply r = call(p, request("kept"));
  EXPECT_TRUE(r.cached);
  EXPECT_EQ(r.text, "kept #1");
  EXPECT_EQ(inner->calls.load(), 0);
  EXPECT_EQ(cache->stats().hits, 1);
  EXPECT_EQ(cache->stats().misses, 0);
}

TEST(ResponseCache, EightThreadsKeepTheCountersConsistent) {
  auto cache = open_cache(fresh_path("threads"));
  auto inner = std::make_shared<CountingProvider>(live_spec());
  auto p = std::make_shared<CachingProvider>(inner, cache);
  constexpr int kThreads = 8, kCalls = 60, kDistinct = 12;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      coord::testing::FakeClock clock;
      CallContext ctx;
      ctx.clock = &clock;
      for (int i = 0; i < kCalls; ++i) {
        std::string q = "q";  // (not "q" + to_string: GCC 12's -Wrestrict false positive)
        q += std::to_string((i * 7 + t) % kDistinct);
        auto r = p->chat(request(q), ctx);
        if (!r.ok() || r->text.rfind(q + " #", 0) != 0) wrong.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  const ResponseCacheStats s = cache->stats();
  EXPECT_EQ(s.hits + s.misses, kThreads * kCalls);
  EXPECT_EQ(s.misses, inner->calls.load());  // every miss asked the provider once
  EXPECT_EQ(s.stores, kDistinct);            // concurrent duplicates are written once
  EXPECT_EQ(*cache->entry_count(), kDistinct);
  EXPECT_GE(s.hits, kThreads * kCalls - kThreads * kDistinct);
}

TEST(ResponseCache, CorruptFileIsAnErrorNamingTheFile) {
  const std::string path = fresh_path("corrupt");
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage.push_back(static_cast<char>((i * 131 + 7) % 251));
  ASSERT_TRUE(write_file_atomic(path, garbage).ok());
  auto cache = ResponseCache::open(path);
  ASSERT_FALSE(cache.ok());
  EXPECT_EQ(cache.status().code(), ErrorCode::kParse);
  EXPECT_NE(cache.status().message().find(path), std::string::npos) << cache.status().message();
  EXPECT_NE(cache.status().message().find("not a SQLite database"), std::string::npos);
}

TEST(ResponseCache, UnwritableLocationIsAnIoErrorNamingTheFile) {
  const std::string path = fresh_path("x") + ".missing-dir/cache.sqlite";
  auto cache = ResponseCache::open(path);
  ASSERT_FALSE(cache.ok());
  EXPECT_EQ(cache.status().code(), ErrorCode::kIo);
  EXPECT_NE(cache.status().message().find(path), std::string::npos) << cache.status().message();
}

TEST(ResponseCache, NewerSchemaIsRefused) {
  const std::string path = fresh_path("newer");
  ASSERT_NE(open_cache(path), nullptr);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, "PRAGMA user_version = 2", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto cache = ResponseCache::open(path);
  ASSERT_FALSE(cache.ok());
  EXPECT_EQ(cache.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(cache.status().message().find(path), std::string::npos) << cache.status().message();
}

TEST(ResponseCache, SampledLiveProvidersAreNotCachedByDefault) {
  auto cache = open_cache(fresh_path("sampled"));
  for (std::optional<double> t : {std::optional<double>(0.7), std::optional<double>()}) {
    auto inner = std::make_shared<CountingProvider>(live_spec(t));
    CachingProvider p(inner, cache);
    EXPECT_FALSE(call(p, request("q")).cached);
    EXPECT_FALSE(call(p, request("q")).cached);
    EXPECT_EQ(inner->calls.load(), 2);
  }
  const ResponseCacheStats s = cache->stats();
  EXPECT_EQ(s.bypassed, 4);
  EXPECT_EQ(s.hits + s.misses + s.stores, 0);
  EXPECT_EQ(*cache->entry_count(), 0);
}

TEST(ResponseCache, SampledProvidersAreCachedWhenAskedAndSimulatedOnesAlways) {
  ResponseCacheOptions opts;
  opts.cache_nonzero_temperature = true;
  auto cache = open_cache(fresh_path("sampled_opt"), opts);
  auto sampled = std::make_shared<CountingProvider>(live_spec(0.7));
  CachingProvider p(sampled, cache);
  call(p, request("q"));
  EXPECT_TRUE(call(p, request("q")).cached);
  EXPECT_EQ(sampled->calls.load(), 1);

  auto plain = open_cache(fresh_path("mock"));
  ProviderSpec mock;
  mock.provider = "mock";
  mock.model = "mock-agent-0";
  EXPECT_TRUE(plain->cacheable(mock));
  EXPECT_FALSE(plain->cacheable(live_spec(0.7)));
  EXPECT_FALSE(plain->cacheable(live_spec(std::nullopt)));
  EXPECT_TRUE(plain->cacheable(live_spec(0.0)));
}

TEST(ResponseCache, WrappedPoolRunsARepeatedEpisodeForFree) {
  auto cache = open_cache(fresh_path("pool"));
  auto inner = std::make_shared<CountingProvider>(live_spec());
  const auto pool = coord::testing::single_provider_pool(inner);
  const auto cached_pool = with_response_cache(pool, cache);
  ASSERT_NE(cached_pool.get(), pool.get());
  EXPECT_EQ(cached_pool->config.name, pool->config.name);
  for (size_t i = 0; i < static_cast<size_t>(kNumAgents); ++i) {
    EXPECT_NE(cached_pool->providers[i].get(), pool->providers[i].get());
    EXPECT_EQ(cached_pool->providers[i]->spec().model, "gpt-test");
  }
  auto router = std::make_shared<coord::testing::ScriptedRouter>(
      std::vector<coord::testing::ScriptStep>{{2, kRoleWorker}});
  const coord::Orchestrator orch(router, cached_pool);
  coord::testing::FakeClock clock;
  coord::testing::MemorySink sink;
  coord::RunOptions opts;
  opts.max_turns = 1;
  opts.seed = 1;
  opts.clock = &clock;
  opts.sinks = {&sink};
  const std::vector<Message> input = {{"user", "What is 2+2?"}};
  const coord::RunResult first = orch.run(input, opts);
  const coord::RunResult second = orch.run(input, opts);
  ASSERT_TRUE(first.ok()) << first.status.to_string();
  ASSERT_TRUE(second.ok()) << second.status.to_string();
  EXPECT_EQ(inner->calls.load(), 1);
  EXPECT_EQ(first.usage.cost_micro_usd, 100 * 1 + 40 * 2);  // tokens x price per token
  EXPECT_EQ(second.usage.cost_micro_usd, 0);                // a cached reply was not paid for
  ASSERT_EQ(second.turns.size(), 1u);
  EXPECT_EQ(second.turns[0].cost_micro_usd, 0);
  EXPECT_EQ(second.latest_worker_answer, first.latest_worker_answer);
  const auto finished = sink.of("provider_dispatch_finished");
  ASSERT_EQ(finished.size(), 2u);
  EXPECT_FALSE(finished[0].contains("cached"));
  EXPECT_EQ(finished[1]["cached"], true);
  EXPECT_EQ(finished[1]["attempts"], 0);
  EXPECT_EQ(finished[1]["input_tokens"], 100);
}

}  // namespace
}  // namespace trinity::train
