// The eval's determinism passes recompute: on a real ModelRouter (tiny synthetic checkpoint, the
// real tokenizer, the cpu engine with its prefix cache) no pass after the first reuses a cached
// position, so every pass computes as many tokens as the first.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "core/thread_pool.h"
#include "eval/runner.h"
#include "model/profiles.h"
#include "model/synthetic.h"
#include "router/model_router.h"
#include "tokenizer/tokenizer.h"

namespace trinity::eval {
namespace {

std::shared_ptr<Qwen3Weights> tiny_model() {
  auto c = synthetic_preset("tiny");
  EXPECT_TRUE(c.ok());
  if (!c.ok()) return nullptr;
  const std::string dir =
      ::testing::TempDir() + "/trinity_eval_prefix_cache_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  SyntheticOptions opt;
  opt.seed = 3;
  ThreadPool pool(2);
  Status st = write_synthetic_checkpoint(dir, *c, opt, pool);
  EXPECT_TRUE(st.ok()) << st.message();
  auto w = load_qwen3_weights(dir);
  EXPECT_TRUE(w.ok()) << w.status().message();
  std::filesystem::remove_all(dir);
  return w.ok() ? *w : nullptr;
}

EvalCase conversation(const std::string& id, std::vector<Message> messages) {
  EvalCase c;
  c.id = id;
  c.messages = std::move(messages);
  return c;
}

TEST(EvalPrefixCache, DeterminismPassesRecomputeEveryToken) {
  auto w = tiny_model();
  ASSERT_TRUE(w);
  EngineOptions eo;
  eo.threads = 2;
  eo.prefix_cache_mb = 64;
  auto engine = make_engine("cpu", w, eo);
  if (!engine.ok()) GTEST_SKIP() << engine.status().message();
  auto tok = tok::Tokenizer::load(TRINITY_TOKENIZER_DIR);
  ASSERT_TRUE(tok.ok()) << tok.status().message();
  const int64_t hidden = w->config.hidden_size;
  std::vector<float> head(static_cast<size_t>(kRouterHeadRows * hidden));
  uint64_t x = 12345;
  for (auto& v : head) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    v = static_cast<float>(static_cast<int64_t>(x >> 40) - (1 << 23)) / float(1 << 23);
  }
  ModelRouter router(*tok, std::shared_ptr<ForwardEngine>(std::move(*engine)), head, {0, 0});

  // A conversation and its next turn share a prefix: a warm cache would serve most of both.
  const Message sys{"system", "You route questions to the right agent."};
  const Message q{"user", "What is the derivative of x^3 + 2x with respect to x?"};
  const Message a{"assistant", "3x^2 + 2."};
  const Message q2{"user", "And the second derivative, evaluated at x = 1?"};
  const std::vector<EvalCase> cases = {
      conversation("turn1", {sys, q}), conversation("turn2", {sys, q, a, q2}),
      conversation("other", {Message{"user", "Write a haiku about the sea."}})};

  EvalOptions opt;
  opt.floors = {0, 0};
  opt.determinism_runs = 3;
  opt.assert_results = false;
  auto run = run_eval(router, cases, opt);
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_TRUE(run->determinism.empty());

  // forward_rows stops after the routed row (n - 2, or 0): that many tokens plus one per pass.
  int64_t per_pass = 0;
  for (const auto& r : run->results)
    per_pass += ModelRouter::route_position(r.decision.token_count) + 1;
  const PrefixCacheStats s = router.engine().prefix_cache_stats();
  EXPECT_EQ(s.hits, 0) << "a determinism pass was served from the prefix cache";
  EXPECT_EQ(s.reused_tokens, 0);
  EXPECT_EQ(s.misses, 3 * static_cast<int64_t>(cases.size()));
  EXPECT_EQ(s.computed_tokens, 3 * per_pass);

  // The cache is live in this setup: routing again without clearing reuses every case's prefix
  // (and only the last token of each is computed), which is what the passes used to do.
  auto again = router.route_batch({cases[0].messages, cases[1].messages, cases[2].messages});
  ASSERT_TRUE(again.ok());
  const PrefixCacheStats warm = router.engine().prefix_cache_stats();
  EXPECT_EQ(warm.hits - s.hits, static_cast<int64_t>(cases.size()));
  EXPECT_EQ(warm.computed_tokens - s.computed_tokens, static_cast<int64_t>(cases.size()));
  for (size_t i = 0; i < cases.size(); ++i)
    EXPECT_EQ((*again)[i].route_hash, run->results[i].decision.route_hash) << cases[i].id;
}

}  // namespace
}  // namespace trinity::eval
