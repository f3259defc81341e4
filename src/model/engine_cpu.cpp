// CpuEngine: ForwardEngine over CpuModel. forward_rows truncates each sequence after its
// requested row (causality: later tokens cannot change it), looks up the longest cached token
// prefix, and runs all sequences' remaining tokens together in passes of at most kPassRows rows.
#include "model/engine_cpu.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>

#include "model/forward.h"
#include "model/forward_cpu.h"
#include "model/packed_cache.h"
#include "model/prefix_cache.h"
#include "ops/cpu/kernels.h"

namespace trinity {

namespace {

// Rows per pass: bounds the activation memory for long inputs (the KV state carries the
// earlier rows), while keeping the GEMMs large enough to run at full speed.
constexpr int64_t kPassRows = 1024;
// KV positions reserved past a single transcript for the turns that extend it.
constexpr int64_t kTurnHeadroom = 256;

class CpuEngine final : public ForwardEngine {
 public:
  CpuEngine(std::shared_ptr<const Qwen3Weights> w, std::unique_ptr<CpuModel> model,
            int64_t cache_bytes, std::string profile)
      : ForwardEngine(std::move(w)),
        model_(std::move(model)),
        cache_(cache_bytes),
        profile_(std::move(profile)) {}

  std::string profile() const override { return profile_; }
  // e.g. "cpu:onednn-brg:avx512_core_amx_bf16+kernels-avx512/w=BF16,kv=F32"
  std::string backend_label() const override {
    return std::string("cpu:onednn-") + model_->gemm_impl() + "+kernels-" + cpu::kernel_isa() +
           "/w=" + dtype_name(model_->weight_dtype()) + ",kv=" + dtype_name(model_->kv_dtype());
  }

  Status forward_all(std::span<const int32_t> ids, float* out) override {
    TRINITY_RETURN_IF_ERROR(check_token_ids(weights_->config, ids));
    if (ids.empty()) return ok_status();
    std::lock_guard<std::mutex> lk(mu_);
    auto kv = model_->new_kv();
    Job job{ids, kv.get(), CpuSegment::Want::kAll, out};
    return run_jobs({job});
  }

  Status forward_rows(const std::vector<std::span<const int32_t>>& seqs,
                      const std::vector<int64_t>& rows, float* out) override {
    if (seqs.size() != rows.size()) return internal_error("forward_rows: seqs/rows size mismatch");
    const int64_t D = weights_->config.hidden_size;
    for (size_t s = 0; s < seqs.size(); ++s) {
      const int64_t n = static_cast<int64_t>(seqs[s].size());
      if (rows[s] < 0 || rows[s] >= n)
        return invalid_argument("requested row " + std::to_string(rows[s]) + " of a sequence of " +
                                std::to_string(n) + " tokens");
      TRINITY_RETURN_IF_ERROR(check_token_ids(weights_->config, seqs[s]));
    }
    std::lock_guard<std::mutex> lk(mu_);
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::unique_ptr<KvState>> states(seqs.size());
    std::vector<Job> jobs;
    for (size_t s = 0; s < seqs.size(); ++s) {
      auto ids = seqs[s].subspan(0, static_cast<size_t>(rows[s] + 1));
      states[s] = cache_.acquire(ids);
      if (!states[s]) states[s] = model_->new_kv();
      cache_.note_computed(static_cast<int64_t>(ids.size()) - states[s]->len());
      // A single transcript is a conversation turn: the next turn extends it, so leave room
      // for it to be appended in place. Batches (evals) get exactly what they need.
      const int64_t n = static_cast<int64_t>(ids.size());
      states[s]->reserve(n, seqs.size() == 1 ? std::max<int64_t>(kTurnHeadroom, n / 4) : 0);
      jobs.push_back({ids, states[s].get(), CpuSegment::Want::kLast, out + s * D});
    }
    auto t1 = std::chrono::steady_clock::now();
    TRINITY_RETURN_IF_ERROR(run_jobs(jobs));
    auto t2 = std::chrono::steady_clock::now();
    for (size_t s = 0; s < seqs.size(); ++s) cache_.insert(jobs[s].ids, std::move(states[s]));
    cache_ms_ +=
        std::chrono::duration<double, std::milli>(t1 - t0 + (std::chrono::steady_clock::now() - t2))
            .count();
    return ok_status();
  }

  PrefixCacheStats prefix_cache_stats() const override {
    std::lock_guard<std::mutex> lk(mu_);
    return cache_.stats();
  }
  std::vector<std::pair<std::string, double>> stage_ms() const override {
    std::lock_guard<std::mutex> lk(mu_);
    std::vector<std::pair<std::string, double>> out;
    for (int s = 0; s < CpuModel::kNumStages; ++s)
      out.emplace_back(CpuModel::stage_name(s), model_->stage_ms(s));
    out.emplace_back("kv_cache", cache_ms_);  // prefix lookup, KV growth and copies
    return out;
  }
  void reset_stage_ms() override {
    std::lock_guard<std::mutex> lk(mu_);
    model_->reset_stage_ms();
    cache_ms_ = 0.0;
  }
  Status set_svf_overlay(std::shared_ptr<const SvfOverlay> overlay) override {
    std::lock_guard<std::mutex> lk(mu_);
    cache_.clear();  // cached K/V came from other weights
    return model_->set_svf(std::move(overlay));
  }
  Status set_svf_offsets(std::span<const float> offsets) override {
    std::lock_guard<std::mutex> lk(mu_);
    if (!model_->svf_overlay()) return invalid_argument("set_svf_offsets: no overlay installed");
    TRINITY_ASSIGN_OR_RETURN(SvfScales s, svf_scales(*model_->svf_overlay(), offsets));
    cache_.clear();
    return model_->set_svf_scales(s);
  }
  void clear_prefix_cache() override {
    std::lock_guard<std::mutex> lk(mu_);
    cache_.clear();
  }

 private:
  struct Job {
    std::span<const int32_t> ids;  // the whole sequence; positions [0, kv->len()) are cached
    KvState* kv;
    CpuSegment::Want want;
    float* out;
  };

  // Splits the jobs' remaining tokens into pieces of <= kPassRows and packs them, in order,
  // into passes of <= kPassRows rows. Only a job's final piece writes output.
  Status run_jobs(const std::vector<Job>& jobs) {
    const int64_t D = weights_->config.hidden_size;
    struct Piece {
      size_t job;
      int64_t pos0, n;
      bool final;
    };
    std::vector<Piece> pieces;
    for (size_t j = 0; j < jobs.size(); ++j) {
      const int64_t total = static_cast<int64_t>(jobs[j].ids.size());
      jobs[j].kv->reserve(total);
      for (int64_t p = jobs[j].kv->len(); p < total; p += kPassRows) {
        const int64_t n = std::min(kPassRows, total - p);
        pieces.push_back({j, p, n, p + n == total});
      }
    }
    std::vector<CpuSegment> pass;
    int64_t rows = 0;
    auto flush = [&]() -> Status {
      if (pass.empty()) return ok_status();
      Status st = model_->run(pass);
      pass.clear();
      rows = 0;
      return st;
    };
    for (const Piece& p : pieces) {
      if (rows + p.n > kPassRows) TRINITY_RETURN_IF_ERROR(flush());
      const Job& job = jobs[p.job];
      CpuSegment seg;
      seg.kv = job.kv;
      seg.ids = job.ids.data() + p.pos0;
      seg.pos0 = p.pos0;
      seg.n = p.n;
      seg.want = p.final ? job.want : CpuSegment::Want::kNone;
      // kAll writes every row of the piece at its absolute position.
      seg.out = job.want == CpuSegment::Want::kAll ? job.out + p.pos0 * D : job.out;
      if (job.want == CpuSegment::Want::kAll) seg.want = CpuSegment::Want::kAll;
      pass.push_back(seg);
      rows += p.n;
    }
    return flush();
  }

  std::unique_ptr<CpuModel> model_;
  mutable std::mutex mu_;
  PrefixCache cache_;
  std::string profile_;
  double cache_ms_ = 0.0;
};

}  // namespace

Result<std::unique_ptr<ForwardEngine>> make_cpu_engine(std::shared_ptr<const Qwen3Weights> w,
                                                       const EngineOptions& opt,
                                                       const std::string& profile) {
  CpuPrecision precision;
  if (profile == "cpu")
    precision = CpuPrecision::kSplitBf16;
  else if (profile == "cpu-bf16")
    precision = CpuPrecision::kBf16;
  else
    return invalid_argument("make_cpu_engine: unknown cpu profile '" + profile + "'");
  const std::string key = opt.cache && !opt.weights_identity.empty()
                              ? packed_cache_key(opt.weights_identity, profile)
                              : std::string();
  std::string note;
  TRINITY_ASSIGN_OR_RETURN(auto model,
                           CpuModel::create(w, opt.threads, precision, opt.cache, key, &note));
  if (note.rfind("rebuilt", 0) == 0) std::fprintf(stderr, "trinity: note: %s\n", note.c_str());
  const int64_t budget = std::max<int64_t>(0, opt.prefix_cache_mb) * 1024 * 1024;
  return std::unique_ptr<ForwardEngine>(
      new CpuEngine(std::move(w), std::move(model), budget, profile));
}

}  // namespace trinity
