// trinity bench switch: what training pays per candidate. The SVF overlay is built once; then
// each repeat switches to a new random router vector (the candidate switch) and routes a batch
// of transcripts, and, measured in the same run, the same batch is routed by the base engine
// with no overlay (the route benchmark's path). A mock-pool episode set per candidate gives the
// training loop's throughput (adaptation + routing + the orchestrator).
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "cli_train.h"
#include "core/random.h"
#include "train/tasks.h"

namespace trinity::cli {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

struct Options {
  RouterSource src;
  int repeat = 7, batch = 16;
  double sigma = 0.03;
  bool json = false;
};

// Counts routed tokens (the decisions' token_count) of everything routed through it.
class CountingRouter final : public Router {
 public:
  explicit CountingRouter(const Router& inner) : inner_(inner) {}
  Result<RouteDecision> route(const std::vector<Message>& m) const override {
    auto r = inner_.route(m);
    if (r.ok()) tokens_ += r->token_count;
    return r;
  }
  Result<std::vector<RouteDecision>> route_batch(
      const std::vector<std::vector<Message>>& batch) const override {
    auto r = inner_.route_batch(batch);
    if (r.ok())
      for (const auto& d : *r) tokens_ += d.token_count;
    return r;
  }
  std::string profile() const override { return inner_.profile(); }
  int64_t tokens() const { return tokens_; }

 private:
  const Router& inner_;
  mutable int64_t tokens_ = 0;  // batches are routed one at a time (lockstep)
};

std::vector<float> random_vector(int64_t n, uint64_t seed, double sigma) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    v[static_cast<size_t>(i)] = static_cast<float>(sigma * counter_normal(seed, 1, i));
  return v;
}

int run(Options& o) {
  const std::string cmd = "bench switch";
  if (o.repeat < 1 || o.batch < 1)
    return report_error(cmd, invalid_argument("--repeat and --batch must be >= 1"));
  train::SwitchableModelTimes load;
  auto router = train::SwitchableRouter::open(o.src, &load);
  if (!router.ok()) return report_error(cmd, router.status());
  train::SwitchableRouter& r = **router;
  const auto tasks = train::generate_skills_tasks(o.batch, 99);
  std::vector<std::vector<Message>> batch;
  for (const auto& t : tasks) batch.push_back(t.messages);
  std::vector<const train::Task*> ptrs;
  for (const auto& t : tasks) ptrs.push_back(&t);
  auto pool = coord::AgentPool::create(coord::builtin_mock_pool(), false, coord::process_env());
  if (!pool.ok()) return report_error(cmd, pool.status());
  train::EpisodeOptions eo;
  eo.seed = 1;
  std::vector<double> switch_ms, adapted_tps, base_tps, episode_tps;
  for (int i = 0; i < o.repeat + 1; ++i) {  // i == 0: warm-up
    const auto v = random_vector(r.vector_length(), 1000 + static_cast<uint64_t>(i), o.sigma);
    auto t0 = Clock::now();
    Status st = r.set_vector(v);
    const double sw = ms_since(t0);
    if (!st.ok()) return report_error(cmd, st);
    t0 = Clock::now();
    auto d = r.route_batch(batch);
    const double adapted = ms_since(t0);
    if (!d.ok()) return report_error(cmd, d.status());
    int64_t tokens = 0;
    for (const auto& x : *d) tokens += x.token_count;
    // The base engine (no overlay) on the same batch.
    st = r.engine().set_svf_overlay(nullptr);
    t0 = Clock::now();
    auto b = r.route_batch(batch);
    const double base = ms_since(t0);
    if (!st.ok() || !b.ok()) return report_error(cmd, st.ok() ? b.status() : st);
    // Back to the overlay (rebuilt from the router), then a mock-pool candidate.
    st = r.reinstall_overlay();
    if (!st.ok()) return report_error(cmd, st);
    CountingRouter counting(r);
    t0 = Clock::now();
    st = r.set_vector(v);
    auto e = st.ok() ? train::run_episodes(counting, *pool, ptrs, eo)
                     : Result<std::vector<train::EpisodeResult>>(st);
    const double ep = ms_since(t0);
    if (!e.ok()) return report_error(cmd, e.status());
    if (i == 0) continue;
    switch_ms.push_back(sw);
    adapted_tps.push_back(static_cast<double>(tokens) / adapted * 1e3);
    base_tps.push_back(static_cast<double>(tokens) / base * 1e3);
    episode_tps.push_back(static_cast<double>(counting.tokens()) / ep * 1e3);
  }
  const double sw = median(switch_ms), a = median(adapted_tps), b = median(base_tps),
               e = median(episode_tps);
  if (o.json) {
    OrderedJson j;
    j["profile"] = r.profile();
    j["vector_length"] = r.vector_length();
    j["load_ms"] = {{"weights", load.weights_ms},
                    {"tokenizer", load.tokenizer_ms},
                    {"overlay", load.overlay_ms},
                    {"engine", load.engine_ms}};
    j["repeat"] = o.repeat;
    j["batch"] = o.batch;
    j["switch_ms_median"] = sw;
    j["switch_ms"] = switch_ms;
    j["route_tokens_per_s"] = {{"base", b}, {"adapted", a}, {"ratio", a / b}};
    j["mock_pool_episodes_tokens_per_s"] = {{"value", e}, {"ratio_to_base_route", e / b}};
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("overlay built in %.0f ms; candidate switch median %.3f ms (%d repeats)\n",
                load.overlay_ms, sw, o.repeat);
    std::printf("routing %d transcripts: base %.0f tok/s, adapted %.0f tok/s (%.2fx)\n", o.batch, b,
                a, a / b);
    std::printf("mock-pool episodes incl. switch: %.0f routed tok/s (%.2fx the base route)\n", e,
                e / b);
  }
  return kExitOk;
}

}  // namespace

void register_bench_switch(CLI::App* bench, CommandRegistry& reg) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = bench->add_subcommand(
      "switch",
      "Training's candidate switch: SVF overlay build, switch time per router vector, routing "
      "throughput with the overlay vs the base engine, and mock-pool episodes (medians)");
  sub->add_option("--base", o->src.base, "Base Qwen3 checkpoint directory")->required();
  sub->add_option("--profile", o->src.profile, "Runtime profile (default cpu)");
  sub->add_option("--tokenizer", o->src.tokenizer, "Tokenizer directory (default: --base)");
  sub->add_option("--threads", o->src.threads, "Compute threads (default: all cores)");
  add_cache_options(sub, o->src.cache);
  sub->add_option("--repeat", o->repeat, "Measured repeats (default 7, after one warm-up)");
  sub->add_option("--batch", o->batch, "Transcripts per routed batch (default 16)");
  sub->add_option("--sigma", o->sigma, "Std of the random vectors (default 0.03)");
  sub->add_flag("--json", o->json, "Print the results as JSON");
  reg.add(sub, [o] { return run(*o); });
}

}  // namespace trinity::cli
