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

OrderedJson summarize(const std::string& name, int64_t tokens, double flops,
                      std::vector<double> ms) {
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
  j["peak_rss_mb"] = peak_rss_mb();
  return j;
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
      if (r >= 0) ms.push_back(now_ms() - t0);
    }
    cases.push_back(summarize("prefill", n, prefill_flops(c, n), ms));
  }
  if (opt.incremental_extra > 0 && opt.incremental_prefix > 0) {
    const int64_t n = opt.incremental_prefix + opt.incremental_extra;
    const auto ids = bench_ids(n, c.vocab_size, opt.seed + 777);
    const std::vector<int32_t> prefix(ids.begin(), ids.begin() + opt.incremental_prefix);
    std::vector<double> ms;
    for (int r = -1; r < reps; ++r) {
      e.clear_prefix_cache();
      TRINITY_RETURN_IF_ERROR(route(prefix));
      const double t0 = now_ms();
      TRINITY_RETURN_IF_ERROR(route(ids));
      if (r >= 0) ms.push_back(now_ms() - t0);
    }
    const double flops = prefill_flops(c, n) - prefill_flops(c, opt.incremental_prefix);
    OrderedJson j = summarize("incremental", opt.incremental_extra, flops, ms);
    j["prefix_tokens"] = opt.incremental_prefix;
    cases.push_back(j);
  }
  if (opt.batch > 0 && opt.batch_tokens > 0) {
    std::vector<std::vector<int32_t>> seqs;
    int64_t total = 0;
    double flops = 0.0;
    for (int64_t i = 0; i < opt.batch; ++i) {
      const int64_t n = std::max<int64_t>(2, opt.batch_tokens - 8 + (i * 7) % 17);
      seqs.push_back(bench_ids(n, c.vocab_size, opt.seed + 1000 + static_cast<uint64_t>(i)));
      total += n;
      flops += prefill_flops(c, n);
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
      if (r >= 0) ms.push_back(now_ms() - t0);
    }
    OrderedJson j = summarize("batched", total, flops, ms);
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
