#include "model/engine_cpu_bench.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>

namespace trinity {

namespace {

std::vector<int32_t> bench_ids(int64_t n, int64_t vocab, uint64_t seed) {
  std::vector<int32_t> ids(static_cast<size_t>(n));
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 12345;
  for (auto& id : ids) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    id = static_cast<int32_t>(x % static_cast<uint64_t>(std::min<int64_t>(vocab, 150000)));
  }
  return ids;
}

double now_ms() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The GEMM stages' achieved GFLOP/s (what the roofline is compared against), when measured.
void set_gemm_rate(OrderedJson& j, double gemm_flops) {
  if (!j.contains("stages_ms")) return;
  double ms = 0.0;
  for (const auto& [stage, v] : j["stages_ms"].items())
    if (stage.rfind("gemm", 0) == 0) ms += v.get<double>();
  if (ms > 0.0) j["gemm_gflops_per_s"] = gemm_flops / (ms / 1000.0) / 1e9;
}

// ms[0] is the first (cold) call: it pays one-time costs such as oneDNN compiling kernels for a
// new row count; the median is over the rest.
OrderedJson summarize(const std::string& name, int64_t tokens, double flops, double gemm_flops,
                      std::vector<double> ms, const ForwardEngine& e) {
  const double first = ms.front();
  ms.erase(ms.begin());
  std::sort(ms.begin(), ms.end());
  const double med =
      ms.size() % 2 ? ms[ms.size() / 2] : 0.5 * (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]);
  OrderedJson j;
  j["name"] = name;
  j["tokens"] = tokens;
  j["repeats"] = ms.size();
  j["median_ms"] = med;
  j["min_ms"] = ms.front();
  j["max_ms"] = ms.back();
  j["tokens_per_s"] = static_cast<double>(tokens) / (med / 1000.0);
  j["gflops_per_s"] = flops / (med / 1000.0) / 1e9;
  j["first_ms"] = first;
  j["peak_rss_mb"] = peak_rss_mb();
  // Mean time per stage over the timed repeats (the cold call excluded).
  OrderedJson stages = OrderedJson::object();
  for (const auto& [stage, total] : e.stage_ms())
    stages[stage] = total / static_cast<double>(ms.size());
  if (!stages.empty()) j["stages_ms"] = stages;
  set_gemm_rate(j, gemm_flops);
  return j;
}

// acc[i] += after[i] - before[i]: the stage time of one call when other calls run in between.
void incremental_stages(const std::vector<std::pair<std::string, double>>& before,
                        const std::vector<std::pair<std::string, double>>& after,
                        std::vector<std::pair<std::string, double>>* acc) {
  if (acc->empty())
    for (const auto& [name, v] : after) acc->emplace_back(name, 0.0);
  for (size_t i = 0; i < after.size() && i < before.size() && i < acc->size(); ++i)
    (*acc)[i].second += after[i].second - before[i].second;
}

}  // namespace

double peak_rss_mb() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

double prefill_flops(const Qwen3Config& c, int64_t n) {
  const double D = static_cast<double>(c.hidden_size), I = static_cast<double>(c.intermediate_size);
  const double qd = static_cast<double>(c.q_dim()), kvd = static_cast<double>(c.kv_dim());
  const double N = static_cast<double>(n);
  const double gemm = 2.0 * N * (D * (qd + 2 * kvd) + qd * D + 3.0 * D * I);
  const double attn = 4.0 * (N * (N + 1) / 2.0) * qd;  // QK^T and PV over the causal triangle
  return static_cast<double>(c.num_hidden_layers) * (gemm + attn);
}

double route_gemm_flops(const Qwen3Config& c, int64_t n) {
  const double D = static_cast<double>(c.hidden_size), I = static_cast<double>(c.intermediate_size);
  const double qd = static_cast<double>(c.q_dim()), kvd = static_cast<double>(c.kv_dim());
  const double L = static_cast<double>(c.num_hidden_layers), N = static_cast<double>(n);
  // q/k/v for every row of every layer; o_proj and the MLP skip all but one row in the last.
  return 2.0 * N * L * D * (qd + 2 * kvd) + 2.0 * (N * (L - 1) + 1) * (qd * D + 3.0 * D * I);
}

Result<OrderedJson> run_route_bench(ForwardEngine& e, const RouteBenchOptions& opt) {
  const Qwen3Config& c = e.weights().config;
  const int64_t D = c.hidden_size;
  const int reps = std::max(1, opt.repeat);
  OrderedJson out;
  out["profile"] = e.profile();
  out["backend_label"] = e.backend_label();
  out["model"] = {{"hidden", c.hidden_size},
                  {"layers", c.num_hidden_layers},
                  {"heads", c.num_attention_heads},
                  {"kv_heads", c.num_key_value_heads},
                  {"head_dim", c.head_dim},
                  {"intermediate", c.intermediate_size},
                  {"dtype", dtype_name(e.weights().storage_dtype)}};
  OrderedJson cases = OrderedJson::array();
  std::vector<float> row(static_cast<size_t>(D));
  // One route = the hidden state of the last of n tokens (all n tokens are computed).
  auto route = [&](const std::vector<int32_t>& ids) -> Status {
    std::vector<std::span<const int32_t>> seqs = {ids};
    return e.forward_rows(seqs, {static_cast<int64_t>(ids.size()) - 1}, row.data());
  };
  for (int64_t n : opt.tokens) {
    if (n <= 0) return invalid_argument("bench: token counts must be positive");
    const auto ids = bench_ids(n, c.vocab_size, opt.seed + static_cast<uint64_t>(n));
    std::vector<double> ms;
    for (int r = -1; r < reps; ++r) {
      e.clear_prefix_cache();
      const double t0 = now_ms();
      TRINITY_RETURN_IF_ERROR(route(ids));
      ms.push_back(now_ms() - t0);
      if (r < 0) e.reset_stage_ms();
    }
    cases.push_back(summarize("prefill", n, prefill_flops(c, n), route_gemm_flops(c, n), ms, e));
  }
  if (opt.incremental_extra > 0 && opt.incremental_prefix > 0) {
    const int64_t n = opt.incremental_prefix + opt.incremental_extra;
    const auto ids = bench_ids(n, c.vocab_size, opt.seed + 777);
    const std::vector<int32_t> prefix(ids.begin(), ids.begin() + opt.incremental_prefix);
    std::vector<double> ms;
    std::vector<std::pair<std::string, double>> inc;
    for (int r = -1; r < reps; ++r) {
      e.clear_prefix_cache();
      TRINITY_RETURN_IF_ERROR(route(prefix));
      std::vector<std::pair<std::string, double>> before = e.stage_ms();
      const double t0 = now_ms();
      TRINITY_RETURN_IF_ERROR(route(ids));
      ms.push_back(now_ms() - t0);
      if (r < 0)
        e.reset_stage_ms();
      else
        incremental_stages(before, e.stage_ms(), &inc);
    }
    const double flops = prefill_flops(c, n) - prefill_flops(c, opt.incremental_prefix);
    // The difference of the two routes, plus the last layer's o_proj + MLP row of the new one.
    const double hid = static_cast<double>(c.hidden_size);
    const double gemm = route_gemm_flops(c, n) - route_gemm_flops(c, opt.incremental_prefix) +
                        2.0 * (static_cast<double>(c.q_dim()) * hid +
                               3.0 * hid * static_cast<double>(c.intermediate_size));
    OrderedJson j = summarize("incremental", opt.incremental_extra, flops, gemm, ms, e);
    if (!inc.empty()) {
      OrderedJson stages = OrderedJson::object();
      for (const auto& [stage, total] : inc) stages[stage] = total / static_cast<double>(reps);
      j["stages_ms"] = stages;  // the extension only, not the prefix's own route
      set_gemm_rate(j, gemm);
    }
    j["prefix_tokens"] = opt.incremental_prefix;
    cases.push_back(j);
  }
  if (opt.batch > 0 && opt.batch_tokens > 0) {
    std::vector<std::vector<int32_t>> seqs;
    int64_t total = 0;
    double flops = 0.0, gemm_flops = 0.0;
    for (int64_t i = 0; i < opt.batch; ++i) {
      const int64_t n = std::max<int64_t>(2, opt.batch_tokens - 8 + (i * 7) % 17);
      seqs.push_back(bench_ids(n, c.vocab_size, opt.seed + 1000 + static_cast<uint64_t>(i)));
      total += n;
      flops += prefill_flops(c, n);
      gemm_flops += route_gemm_flops(c, n - 1);  // routed at row n - 2: n - 1 tokens computed
    }
    std::vector<std::span<const int32_t>> spans(seqs.begin(), seqs.end());
    std::vector<int64_t> rows;
    for (const auto& s : seqs) rows.push_back(static_cast<int64_t>(s.size()) - 2);  // router row
    std::vector<float> outs(static_cast<size_t>(opt.batch * D));
    std::vector<double> ms;
    for (int r = -1; r < reps; ++r) {
      e.clear_prefix_cache();
      const double t0 = now_ms();
      TRINITY_RETURN_IF_ERROR(e.forward_rows(spans, rows, outs.data()));
      ms.push_back(now_ms() - t0);
      if (r < 0) e.reset_stage_ms();
    }
    OrderedJson j = summarize("batched", total, flops, gemm_flops, ms, e);
    j["sequences"] = opt.batch;
    cases.push_back(j);
  }
  out["cases"] = cases;
  const PrefixCacheStats st = e.prefix_cache_stats();
  out["prefix_cache"] = {{"hits", st.hits},
                         {"misses", st.misses},
                         {"reused_tokens", st.reused_tokens},
                         {"budget_mb", st.budget_bytes / (1024.0 * 1024.0)}};
  out["peak_rss_mb"] = peak_rss_mb();
  return out;
}

}  // namespace trinity
