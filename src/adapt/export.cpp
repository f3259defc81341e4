#include "adapt/export.h"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "adapt/bundle.h"
#include "core/file_util.h"
#include "core/sha256.h"
#include "core/time_util.h"
#include "io/safetensors.h"
#include "ops/cpu/kernels.h"
#include "ops/cpu/parallel.h"

namespace trinity {

namespace {

using Clock = std::chrono::steady_clock;
double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// f32 [m, n] (HF orientation) -> bytes in the bundle layout ([n, m] when transposed) and dtype.
std::vector<uint8_t> to_bundle_bytes(const std::vector<float>& w, int64_t m, int64_t n,
                                     bool transpose, DType dtype, int threads) {
  const size_t es = dtype_size(dtype);
  std::vector<uint8_t> out(static_cast<size_t>(m * n) * es);
  const int64_t rows = transpose ? n : m, cols = transpose ? m : n;
  cpu::parallel_for(threads, rows, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        const float v =
            transpose ? w[static_cast<size_t>(c * n + r)] : w[static_cast<size_t>(r * cols + c)];
        uint8_t* p = out.data() + static_cast<size_t>(r * cols + c) * es;
        if (dtype == DType::kF32) {
          std::memcpy(p, &v, 4);
        } else {
          const uint16_t h = dtype == DType::kBF16 ? f32_to_bf16(v) : f32_to_f16(v);
          std::memcpy(p, &h, 2);
        }
      }
  });
  return out;
}

// n f32 values as `dtype` (f32 copy, bf16 or f16 rounded to nearest even) into out.
void cast_rows(const float* src, int64_t n, DType dtype, uint8_t* out, int threads) {
  const size_t es = dtype_size(dtype);
  cpu::parallel_for(threads, n, [&](int64_t b, int64_t e) {
    if (dtype == DType::kF16) {
      for (int64_t i = b; i < e; ++i) {
        const uint16_t h = f32_to_f16(src[i]);
        std::memcpy(out + static_cast<size_t>(i) * 2, &h, 2);
      }
    } else {
      cpu::convert_f32(src + b, e - b, out + static_cast<size_t>(b) * es, dtype);
    }
  });
}

std::string backend_label() {
  return std::string("trinity.cpp 0.1.0 cpu: LAPACKE over OpenBLAS (") + openblas_get_config() +
         ", " + std::to_string(openblas_get_num_threads()) + " threads)";
}

Status write_manifest(const std::string& out, Manifest& m) {
  m.updated_at = utc_now(UtcFormat::kIso8601);
  return write_file_atomic(join_path(out, kManifestFile), manifest_to_text(m));
}

bool dir_has_entries(const std::string& dir) {
  std::error_code ec;
  return std::filesystem::is_directory(dir, ec) &&
         std::filesystem::directory_iterator(dir, ec) != std::filesystem::directory_iterator();
}

// What one export reads before it writes anything: the base model, the layer, the nine targets
// with their source weights, and the router vector.
struct ExportInputs {
  std::shared_ptr<Qwen3Weights> weights;
  int64_t layer = 0;
  std::vector<SvfTarget> targets;
  std::vector<const Weight*> sources;  // targets[i]'s weight in `weights`
  RouterVector rv;
};

Result<ExportInputs> load_inputs(const ExportOptions& opt) {
  ExportInputs in;
  TRINITY_ASSIGN_OR_RETURN(in.weights, load_qwen3_weights(opt.base));
  const Qwen3Config& c = in.weights->config;
  in.layer = opt.layer < 0 ? c.num_hidden_layers - 2 : opt.layer;
  if (in.layer < 0 || in.layer >= c.num_hidden_layers)
    return invalid_argument("--layer " + std::to_string(in.layer) +
                            " is out of range: the model has " +
                            std::to_string(c.num_hidden_layers) + " layers");
  in.targets = svf_targets(c, in.layer);
  if (opt.only_index < 0 || opt.only_index > static_cast<int64_t>(in.targets.size()))
    return invalid_argument("--only-index must be 1.." + std::to_string(in.targets.size()));
  TRINITY_ASSIGN_OR_RETURN(in.rv, load_router_vector(opt.vector, c, in.targets));
  for (const SvfTarget& t : in.targets) {
    TRINITY_ASSIGN_OR_RETURN(const Weight* s, svf_source_weight(*in.weights, t));
    in.sources.push_back(s);
  }
  return in;
}

// The manifest entry of a tensor not exported yet.
ManifestEntry planned_entry(const SvfTarget& t, const Weight& source, SvdComputeType compute) {
  ManifestEntry e;
  e.index = t.index;
  e.path = e.artifact_key = t.path;
  e.shape = t.bundle_shape();
  e.type = e.source_type = nx_type_name(source.dtype);
  e.svd_compute_type = svd_compute_type_name(compute);
  e.decompose_source_type = nx_type_name(DType::kF32);  // svf_decompose widens to f32
  e.offset_start = t.offset_start;
  e.offset_end = t.offset_end;
  e.singular_values = t.k;
  e.checkpoint_path = std::string(kCheckpointDir) + "/" + t.checkpoint_file();
  return e;
}

// The fresh manifest: every tensor planned, nothing written yet.
Manifest fresh_manifest(const ExportOptions& opt, const ExportInputs& in) {
  const Qwen3Config& c = in.weights->config;
  Manifest m;
  m.created_at = utc_now(UtcFormat::kIso8601);
  m.base_model_repo = opt.base;
  m.xla_target = "none (native CPU; no XLA)";
  m.export_backend = backend_label();
  m.source_vector_path = opt.vector;
  m.source_vector_tensor =
      in.rv.tensor;  // "" for .npy: the reference loader treats null as missing
  m.source_vector_shape = in.rv.shape;
  m.source_vector_sha256 = in.rv.sha256;
  m.scale_offset_count = svf_offset_count(in.targets);
  m.router_head_shape = {kRouterHeadRows, c.hidden_size};
  m.selected_tensor_count = static_cast<int64_t>(in.targets.size());
  m.selected_singular_value_count = m.scale_offset_count;
  m.hidden_size = c.hidden_size;
  m.head_count = kRouterHeadRows * c.hidden_size;
  m.layer = in.layer;
  for (size_t i = 0; i < in.targets.size(); ++i)
    m.selected_tensors.push_back(planned_entry(in.targets[i], *in.sources[i], opt.compute));
  return m;
}

// The report before any work: one line per tensor, "planned" (dry run) or "pending".
ExportReport initial_report(const ExportOptions& opt, const ExportInputs& in, const Manifest& m) {
  ExportReport rep;
  rep.out = opt.out;
  rep.dry_run = opt.dry_run;
  rep.layer = in.layer;
  rep.vector_length = router_vector_length(in.weights->config, in.targets);
  for (const ManifestEntry& e : m.selected_tensors) {
    ExportTensorReport tr;
    tr.index = e.index;
    tr.path = e.path;
    tr.type = e.type;
    tr.shape = e.shape;
    tr.checkpoint = e.checkpoint_path;
    tr.action = opt.dry_run ? "planned" : "pending";
    rep.tensors.push_back(tr);
  }
  return rep;
}

// --force: removes what an export writes (manifest, routing head, checkpoints), nothing else.
Status clear_old_bundle(const std::string& out) {
  std::error_code ec;
  std::filesystem::remove(join_path(out, kManifestFile), ec);
  std::filesystem::remove(join_path(out, kRouterHeadFile), ec);
  std::filesystem::remove_all(join_path(out, kCheckpointDir), ec);
  if (ec) return io_error(out + ": cannot clear the old bundle: " + ec.message());
  return ok_status();
}

Result<std::optional<Manifest>> read_manifest_if_any(const std::string& out) {
  const std::string mp = join_path(out, kManifestFile);
  if (!file_exists(mp)) return std::optional<Manifest>();
  TRINITY_ASSIGN_OR_RETURN(std::string text, read_file(mp));
  TRINITY_ASSIGN_OR_RETURN(Manifest prev, parse_manifest(text, mp));
  return std::optional<Manifest>(std::move(prev));
}

// Readies the output directory: clears an old bundle (--force), reads its manifest (--resume) or
// refuses to touch it. Returns the manifest to resume from, if any.
Result<std::optional<Manifest>> prepare_out_dir(const ExportOptions& opt) {
  if (file_exists(opt.out) && !is_directory(opt.out))
    return invalid_argument(opt.out + " exists and is not a directory");
  if (dir_has_entries(opt.out)) {
    if (opt.force) {
      TRINITY_RETURN_IF_ERROR(clear_old_bundle(opt.out));
      return std::optional<Manifest>();
    }
    if (opt.resume) return read_manifest_if_any(opt.out);
    return invalid_argument(opt.out +
                            " already exists; pass --resume to continue the export "
                            "there or --force to overwrite it");
  }
  if (opt.resume && !is_directory(opt.out))
    return not_found(opt.out + ": nothing to resume (the directory does not exist)");
  return std::optional<Manifest>();
}

// A bundle resumes only from the same router vector, base model and layer.
Status check_resumable(const ExportOptions& opt, const ExportInputs& in, const Manifest& prev) {
  const std::string mp = join_path(opt.out, kManifestFile);
  if (prev.source_vector_sha256 != in.rv.sha256)
    return mismatch(mp +
                    ": the bundle was exported from a "
                    "different router vector (sha256 " +
                    prev.source_vector_sha256 + "); use --force to start over");
  if (prev.base_model_repo != opt.base || prev.layer != in.layer)
    return mismatch(mp + ": the bundle was exported from base '" + prev.base_model_repo +
                    "' layer " + std::to_string(prev.layer) + "; use --force to start over");
  return ok_status();
}

// Whether the previous manifest's entry `p` is the finished version of the planned entry `e`.
bool finished_same_tensor(const ManifestEntry& p, const ManifestEntry& e) {
  return p.index == e.index && p.path == e.path && p.status == "complete" &&
         p.svd_compute_type == e.svd_compute_type &&
         dtype_from_nx_type(p.type) == dtype_from_nx_type(e.type) &&
         p.checkpoint_path == e.checkpoint_path;
}

// Resuming: keeps the creation time and every finished checkpoint whose sha256, tensor, shape
// and type verify (their report lines say "kept"); the rest stay pending.
void keep_verified_checkpoints(const std::string& out, const Manifest& prev, Manifest& m,
                               ExportReport& rep) {
  m.created_at = prev.created_at;
  for (ManifestEntry& e : m.selected_tensors) {
    for (const ManifestEntry& p : prev.selected_tensors) {
      if (!finished_same_tensor(p, e) || !verify_checkpoint(out, p).ok()) continue;
      const std::string type = e.type;
      e = p;
      e.type = e.source_type = type;  // an older bundle's "bf16" becomes "{:bf, 16}"
      if (!e.checkpoint_type.empty()) e.checkpoint_type = type;
      ExportTensorReport& tr = rep.tensors[static_cast<size_t>(e.index - 1)];
      tr.action = "kept";
      tr.decompose_ms = p.decompose_elapsed_ms.value_or(0);
      tr.reconstruct_ms = p.reconstruct_elapsed_ms.value_or(0);
    }
  }
}

// Writes router_head.safetensors and records its sha256 in the manifest.
Status write_router_head(const std::string& out, const RouterVector& rv, Manifest& m) {
  const std::string hpath = join_path(out, kRouterHeadFile);
  TRINITY_RETURN_IF_ERROR(
      write_safetensors(hpath, {{kRouterHeadTensor, DType::kF32, m.router_head_shape,
                                 rv.head.data(), rv.head.size() * sizeof(float)}}));
  TRINITY_ASSIGN_OR_RETURN(m.router_head_sha256, sha256_file_hex(hpath));
  return write_manifest(out, m);
}

// Sources with rows >= this many times their columns (the embedding) are exported by a streamed
// pass over their rows (svf_reconstruct_rows); the rest are computed whole, in parallel.
constexpr int64_t kSvfStreamMinRatio = 8;

// The checkpoint writer: one background thread finishes queued checkpoints in queue order
// (appends any bytes, the file's one fsync, the rename) and reports each through `done`, so
// disk writes overlap the computation of the next tensors. A sync-only job runs a file's
// fsync early; its commit (rename only) is a later job. After the first error the rest of the
// queue is dropped (uncommitted temp files are removed).
class CheckpointQueue {
 public:
  struct Job {
    size_t index = 0;
    std::shared_ptr<SafetensorsTensorWriter> file;
    std::vector<uint8_t> bytes;  // appended first (the layer tensors)
    bool sync_only = false;
  };
  using Done =
      std::function<Status(size_t index, const std::string& sha, double write_ms, double sync_ms)>;
  explicit CheckpointQueue(Done done) : done_(std::move(done)), thread_([this] { loop(); }) {}
  ~CheckpointQueue() { (void)finish(); }

  void push(Job job) {
    std::lock_guard<std::mutex> lk(mu_);
    jobs_.push_back(std::move(job));
    cv_.notify_one();
  }
  // Waits for the queue; the first failure and its tensor's index.
  std::pair<size_t, Status> finish() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      closing_ = true;
      cv_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
    return {failed_index_, failed_};
  }

 private:
  void loop() {
    for (;;) {
      Job job;
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return closing_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      if (!failed_.ok()) continue;
      Status st = run(job);
      if (!st.ok()) failed_ = st, failed_index_ = job.index;
    }
  }
  Status run(Job& job) {
    const auto t0 = Clock::now();
    if (!job.bytes.empty()) {
      TRINITY_RETURN_IF_ERROR(job.file->append(job.bytes.data(), job.bytes.size()));
      std::vector<uint8_t>().swap(job.bytes);
    }
    const auto t1 = Clock::now();
    if (job.sync_only) return job.file->sync();
    TRINITY_ASSIGN_OR_RETURN(const std::string sha, job.file->commit());
    return done_(job.index, sha, ms_between(t0, t1), ms_between(t1, Clock::now()));
  }

  Done done_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  bool closing_ = false;
  Status failed_ = ok_status();
  size_t failed_index_ = 0;
  std::thread thread_;  // last: starts after the members above exist
};

// One computed tensor, ready to be written.
struct TensorResult {
  SvfFactors factors;  // backends and timings (u/vt/v freed)
  SvfStats stats;
  std::vector<uint8_t> bytes;  // bundle layout and dtype
  double cast_ms = 0;
};

// Exports the pending tensors. A tall source (the embedding, shared by the tied LM head) is
// decomposed once and reconstructed for all its targets in one streamed pass over its rows,
// written as it goes; the seven layer matrices then run in parallel, one per thread, while the
// queue's thread syncs the big files. Checkpoints are committed in index order (each entry is
// marked complete, and the manifest rewritten, right after its file's rename).
class ExportWork {
 public:
  ExportWork(const ExportOptions& opt, const ExportInputs& in, Manifest& m, ExportReport& rep);
  // Exports every pending tensor (only --only-index's, if given); true when cancelled.
  Result<bool> run();

 private:
  bool selected(size_t i) const {
    return opt_.only_index == 0 || opt_.only_index == in_.targets[i].index;
  }
  bool cancelled() const { return opt_.cancel && opt_.cancel->load(); }
  bool streamed(size_t i) const;
  void emit(ExportEvent::Kind kind, size_t i, const std::string& phase, double frac);
  Status run_streamed(const std::vector<size_t>& group, CheckpointQueue& q,
                      std::vector<CheckpointQueue::Job>& deferred);
  Status stream_rows(const std::vector<size_t>& group, const SvfFactors& f,
                     std::vector<CheckpointQueue::Job>& jobs);
  Status run_layers(const std::vector<size_t>& todo, CheckpointQueue& q);
  Result<TensorResult> compute_tensor(size_t i, const SvfFactors* shared, int threads) const;
  Result<CheckpointQueue::Job> bytes_job(size_t i, std::vector<uint8_t> bytes) const;
  void record_factors(size_t i, const SvfFactors& f, bool reused);
  void record_reconstruct(size_t i, const SvfStats& st, double ms, double cast_ms);
  Status on_written(size_t i, const std::string& sha, double write_ms, double sync_ms);
  Status fail(size_t i, const Status& st);

  const ExportOptions& opt_;
  const ExportInputs& in_;
  Manifest& m_;
  ExportReport& rep_;
  std::mutex mu_;  // guards m_, rep_ and the progress counters (the queue thread writes them)
  std::vector<double> cost_;
  double total_cost_ = 0, done_cost_ = 0;
  int threads_ = cpu::hardware_threads();
  Clock::time_point t_work_;
};

ExportWork::ExportWork(const ExportOptions& opt, const ExportInputs& in, Manifest& m,
                       ExportReport& rep)
    : opt_(opt), in_(in), m_(m), rep_(rep), cost_(in.targets.size()) {
  // Work weights for progress/ETA: decomposition ~ m n k, the rest ~ m n.
  for (size_t i = 0; i < in_.targets.size(); ++i) {
    const SvfTarget& t = in_.targets[i];
    const bool todo = rep_.tensors[i].action == "pending" && selected(i);
    const double mn = static_cast<double>(t.hf_shape[0] * t.hf_shape[1]);
    cost_[i] = todo ? mn * (static_cast<double>(t.k) + 64) : 0;
    total_cost_ += cost_[i];
  }
  rep_.threads = threads_;
  t_work_ = Clock::now();
}

bool ExportWork::streamed(size_t i) const {
  const Weight& w = *in_.sources[i];
  return w.rows() >= kSvfStreamMinRatio * w.cols();
}

Result<bool> ExportWork::run() {
  std::vector<size_t> layers;
  std::vector<std::vector<size_t>> groups;  // streamed targets by source, in index order
  for (size_t i = 0; i < in_.targets.size(); ++i) {
    ExportTensorReport& tr = rep_.tensors[i];
    if (tr.action == "kept") continue;
    if (!selected(i)) {
      tr.action = "skipped";
      continue;
    }
    if (!streamed(i)) {
      layers.push_back(i);
      continue;
    }
    auto g = std::find_if(groups.begin(), groups.end(), [&](const std::vector<size_t>& v) {
      return in_.sources[v[0]] == in_.sources[i];
    });
    if (g == groups.end())
      groups.push_back({i});
    else
      g->push_back(i);
  }
  CheckpointQueue q([this](size_t i, const std::string& sha, double w, double s) {
    return on_written(i, sha, w, s);
  });
  std::vector<CheckpointQueue::Job> deferred;  // commits after the layers (index order)
  Status st = ok_status();
  for (const auto& g : groups)
    if (st.ok() && !cancelled()) st = run_streamed(g, q, deferred);
  if (st.ok() && !cancelled()) st = run_layers(layers, q);
  if (st.ok() && !cancelled())
    for (auto& job : deferred) q.push(std::move(job));
  deferred.clear();
  auto [index, qst] = q.finish();
  if (!qst.ok()) return fail(index, qst);
  TRINITY_RETURN_IF_ERROR(st);
  return cancelled();
}

void ExportWork::emit(ExportEvent::Kind kind, size_t i, const std::string& phase, double frac) {
  if (!opt_.on_event) return;
  ExportEvent ev;
  ev.kind = kind;
  ev.index = in_.targets[i].index;
  ev.count = static_cast<int64_t>(in_.targets.size());
  ev.path = in_.targets[i].path;
  ev.phase = phase;
  const double done = done_cost_ + cost_[i] * frac;
  ev.fraction = total_cost_ > 0 ? done / total_cost_ : 1.0;
  ev.elapsed_s = ms_between(t_work_, Clock::now()) / 1000.0;
  ev.eta_s = done > 0 ? ev.elapsed_s * (total_cost_ - done) / done : -1;
  opt_.on_event(ev);
}

// One tall source for all its targets: decompose (all threads), then one streamed pass. The
// first target's commit is queued now, the others' fsync now and their commits in `deferred`.
Status ExportWork::run_streamed(const std::vector<size_t>& group, CheckpointQueue& q,
                                std::vector<CheckpointQueue::Job>& deferred) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    emit(ExportEvent::Kind::kTensorStart, group[0], "decompose", 0);
  }
  auto f = svf_decompose(*in_.sources[group[0]], opt_.compute, threads_);
  if (!f.ok()) return fail(group[0], f.status());
  for (size_t k = 0; k < group.size(); ++k) record_factors(group[k], *f, k > 0);
  std::vector<CheckpointQueue::Job> jobs;
  if (f->gram && !f->transposed) {
    TRINITY_RETURN_IF_ERROR(stream_rows(group, *f, jobs));
  } else {  // the sgesdd fallback: one target at a time from the shared factors
    for (size_t i : group) {
      auto r = compute_tensor(i, &*f, threads_);
      if (!r.ok()) return fail(i, r.status());
      record_reconstruct(i, r->stats, r->stats.elapsed_ms, r->cast_ms);
      auto job = bytes_job(i, std::move(r->bytes));
      if (!job.ok()) return fail(i, job.status());
      jobs.push_back(std::move(*job));
    }
  }
  q.push(std::move(jobs[0]));
  for (size_t k = 1; k < jobs.size(); ++k) {
    if (jobs[k].bytes.empty()) q.push({jobs[k].index, jobs[k].file, {}, true});
    deferred.push_back(std::move(jobs[k]));
  }
  return ok_status();
}

// The streamed pass: rows of every target's W' are cast and appended to its file block by block.
Status ExportWork::stream_rows(const std::vector<size_t>& group, const SvfFactors& f,
                               std::vector<CheckpointQueue::Job>& jobs) {
  const Weight& w = *in_.sources[group[0]];
  const DType dt = w.dtype;
  const size_t es = dtype_size(dt);
  std::vector<std::span<const float>> zs;
  for (size_t i : group) {
    const SvfTarget& t = in_.targets[i];
    auto file = std::make_shared<SafetensorsTensorWriter>();
    const ManifestEntry& e = m_.selected_tensors[i];
    Status st = file->open(join_path(opt_.out, e.checkpoint_path), t.path, dt, e.shape);
    if (!st.ok()) return fail(i, st);
    jobs.push_back({i, std::move(file), {}, false});
    zs.emplace_back(in_.rv.offsets.data() + t.offset_start, static_cast<size_t>(t.k));
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    emit(ExportEvent::Kind::kPhase, group[0], "reconstruct", 0.6);
  }
  // Each target's rows are cast and appended (sha256 + page-cache copy) by one thread: the
  // embedding and the LM head go to their files side by side on the two cores instead of one
  // after the other while the other core waits.
  const size_t n_out = group.size();
  std::vector<std::vector<uint8_t>> bufs(n_out);
  std::vector<double> cast_ms(n_out, 0.0), write_ms(n_out, 0.0);
  std::vector<Status> errs(n_out, ok_status());
  const int per_file = std::max(1, threads_ / static_cast<int>(n_out));
  double sink_ms = 0;
  const auto t0 = Clock::now();
  std::vector<SvfStats> stats;
  Status st = svf_reconstruct_rows(
      w, f, zs,
      [&](int64_t r0, int64_t r1, const std::vector<const float*>& rows) -> Status {
        const auto ts = Clock::now();
        const int64_t count = (r1 - r0) * w.cols();
        cpu::parallel_for(threads_, static_cast<int64_t>(n_out), [&](int64_t b, int64_t e) {
          for (auto k = static_cast<size_t>(b); k < static_cast<size_t>(e); ++k) {
            std::vector<uint8_t>& buf = bufs[k];
            buf.resize(static_cast<size_t>(count) * es);
            const auto tc = Clock::now();
            cast_rows(rows[k], count, dt, buf.data(), per_file);
            const auto tw = Clock::now();
            cast_ms[k] += ms_between(tc, tw);
            errs[k] = jobs[k].file->append(buf.data(), buf.size());
            write_ms[k] += ms_between(tw, Clock::now());
          }
        });
        sink_ms += ms_between(ts, Clock::now());
        for (size_t k = 0; k < n_out; ++k)
          if (!errs[k].ok()) return errs[k].with_context(in_.targets[group[k]].path);
        return ok_status();
      },
      &stats, threads_);
  if (!st.ok()) return fail(group[0], st);
  const double share = 1.0 / static_cast<double>(n_out);
  const double rec_ms = ms_between(t0, Clock::now()) - sink_ms;
  for (size_t k = 0; k < n_out; ++k) {
    record_reconstruct(group[k], stats[k], rec_ms * share, cast_ms[k]);
    std::lock_guard<std::mutex> lk(mu_);
    rep_.tensors[group[k]].write_ms = write_ms[k];  // the queue adds the rest
  }
  return ok_status();
}

// The layer matrices, one per thread (single-threaded Gram, dsyevd and GEMM each), queued for
// writing in index order as they finish.
Status ExportWork::run_layers(const std::vector<size_t>& todo, CheckpointQueue& q) {
  if (todo.empty()) return ok_status();
  const int workers = std::min<int>(threads_, static_cast<int>(todo.size()));
  const int blas_threads = openblas_get_num_threads();
  openblas_set_num_threads(1);
  std::vector<std::optional<Result<TensorResult>>> results(todo.size());
  std::atomic<size_t> next{0};
  size_t queued = 0;
  std::mutex res_mu;
  auto work = [&] {
    for (size_t j = next++; j < todo.size(); j = next++) {
      if (cancelled()) return;
      {
        std::lock_guard<std::mutex> lk(mu_);
        emit(ExportEvent::Kind::kTensorStart, todo[j], "decompose", 0);
      }
      Result<TensorResult> r = compute_tensor(todo[j], nullptr, 1);
      std::lock_guard<std::mutex> lk(res_mu);
      results[j] = std::move(r);
      for (; queued < todo.size() && results[queued] && results[queued]->ok(); ++queued) {
        TensorResult& tr = **results[queued];
        const size_t i = todo[queued];
        record_factors(i, tr.factors, false);
        record_reconstruct(i, tr.stats, tr.stats.elapsed_ms, tr.cast_ms);
        auto job = bytes_job(i, std::move(tr.bytes));
        if (!job.ok()) {
          results[queued] = Result<TensorResult>(job.status());
          break;
        }
        q.push(std::move(*job));
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < workers; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  openblas_set_num_threads(blas_threads);
  for (size_t j = 0; j < todo.size(); ++j)
    if (results[j] && !results[j]->ok()) return fail(todo[j], results[j]->status());
  return ok_status();
}

// Target i's factors (or the shared ones), W' and its bytes in the bundle layout.
Result<TensorResult> ExportWork::compute_tensor(size_t i, const SvfFactors* shared,
                                                int threads) const {
  const SvfTarget& t = in_.targets[i];
  const Weight& w = *in_.sources[i];
  TensorResult r;
  if (!shared) {
    TRINITY_ASSIGN_OR_RETURN(r.factors, svf_decompose(w, opt_.compute, threads));
  }
  const SvfFactors& f = shared ? *shared : r.factors;
  std::span<const float> z(in_.rv.offsets.data() + t.offset_start, static_cast<size_t>(t.k));
  TRINITY_ASSIGN_OR_RETURN(std::vector<float> adapted, svf_reconstruct(w, f, z, &r.stats, threads));
  const auto tc = Clock::now();
  r.bytes = to_bundle_bytes(adapted, t.hf_shape[0], t.hf_shape[1], t.transposed_in_bundle, w.dtype,
                            threads);
  r.cast_ms = ms_between(tc, Clock::now());
  r.factors.u.clear(), r.factors.vt.clear(), r.factors.v.clear();
  return r;
}

// Opens checkpoint i (its header is written now); the queue appends `bytes` and commits.
Result<CheckpointQueue::Job> ExportWork::bytes_job(size_t i, std::vector<uint8_t> bytes) const {
  const ManifestEntry& e = m_.selected_tensors[i];
  auto file = std::make_shared<SafetensorsTensorWriter>();
  TRINITY_RETURN_IF_ERROR(file->open(join_path(opt_.out, e.checkpoint_path), in_.targets[i].path,
                                     in_.sources[i]->dtype, e.shape));
  return CheckpointQueue::Job{i, std::move(file), std::move(bytes), false};
}

void ExportWork::record_factors(size_t i, const SvfFactors& f, bool reused) {
  std::lock_guard<std::mutex> lk(mu_);
  ManifestEntry& e = m_.selected_tensors[i];
  ExportTensorReport& tr = rep_.tensors[i];
  if (reused) {
    e.decompose_elapsed_ms = 0;
    e.u_backend = "reused: " + f.u_backend + " (same source as an earlier tensor)";
    e.s_backend = "reused: " + f.s_backend;
    e.v_backend = "reused: " + f.v_backend;
    return;
  }
  e.decompose_elapsed_ms = f.elapsed_ms;
  e.u_backend = f.u_backend, e.s_backend = f.s_backend, e.v_backend = f.v_backend;
  tr.gram_ms = f.gram_ms, tr.eigh_ms = f.eigh_ms, tr.direct_ms = f.direct_ms;
}

void ExportWork::record_reconstruct(size_t i, const SvfStats& st, double ms, double cast_ms) {
  std::lock_guard<std::mutex> lk(mu_);
  ManifestEntry& e = m_.selected_tensors[i];
  e.reconstruct_elapsed_ms = ms;
  e.adapted_backend = st.adapted_backend;
  rep_.tensors[i].cast_ms = cast_ms;
  emit(ExportEvent::Kind::kPhase, i, "write", 0.9);
}

// The queue's thread, after checkpoint i's rename: marks it complete and rewrites the manifest.
Status ExportWork::on_written(size_t i, const std::string& sha, double write_ms, double sync_ms) {
  std::lock_guard<std::mutex> lk(mu_);
  ManifestEntry& e = m_.selected_tensors[i];
  e.checkpoint_sha256 = sha;
  e.reconstructed_type_before_cast = nx_type_name(DType::kF32);  // reconstruction is f32
  e.checkpoint_type = nx_type_name(in_.sources[i]->dtype);
  e.status = "complete";
  e.error.reset();
  ExportTensorReport& tr = rep_.tensors[i];
  tr.action = "computed";
  tr.decompose_ms = e.decompose_elapsed_ms.value_or(0);
  tr.reconstruct_ms = e.reconstruct_elapsed_ms.value_or(0);
  tr.write_ms += write_ms;
  tr.sync_ms = sync_ms;
  TRINITY_RETURN_IF_ERROR(write_manifest(opt_.out, m_));
  emit(ExportEvent::Kind::kTensorDone, i, "done", 1.0);
  done_cost_ += cost_[i];
  return ok_status();
}

// Records the failure in the manifest (best effort) and names the tensor in the error.
Status ExportWork::fail(size_t i, const Status& st) {
  std::lock_guard<std::mutex> lk(mu_);
  ManifestEntry& e = m_.selected_tensors[i];
  e.status = "failed";
  e.error = st.message();
  m_.status = "failed";
  (void)write_manifest(opt_.out, m_);
  return st.with_context(in_.targets[i].path);
}

// Marks the manifest complete or partial, writes it and fills in the report's totals.
Result<ExportReport> finish_export(const ExportOptions& opt, Manifest& m, ExportReport rep,
                                   bool cancelled, Clock::time_point t_start) {
  bool all = !cancelled;
  for (const ManifestEntry& e : m.selected_tensors) all = all && e.status == "complete";
  m.status = all ? "complete" : "partial";
  m.export_complete = all;
  TRINITY_RETURN_IF_ERROR(write_manifest(opt.out, m));
  rep.status = m.status;
  TRINITY_ASSIGN_OR_RETURN(rep.manifest_sha256, sha256_file_hex(join_path(opt.out, kManifestFile)));
  rep.total_ms = ms_between(t_start, Clock::now());
  if (cancelled)
    return Status(ErrorCode::kCancelled,
                  "export interrupted; the manifest says "
                  "'partial'; rerun with --resume to finish");
  return rep;
}

}  // namespace

Result<ExportReport> run_export(const ExportOptions& opt) {
  const auto t_start = Clock::now();
  if (opt.force && opt.resume) return invalid_argument("--force and --resume exclude each other");
  TRINITY_ASSIGN_OR_RETURN(const ExportInputs in, load_inputs(opt));
  const double load_ms = ms_between(t_start, Clock::now());
  Manifest m = fresh_manifest(opt, in);
  ExportReport rep = initial_report(opt, in, m);
  rep.load_ms = load_ms;
  if (opt.dry_run) {
    rep.status = "planned";
    rep.total_ms = ms_between(t_start, Clock::now());
    return rep;
  }
  TRINITY_ASSIGN_OR_RETURN(const std::optional<Manifest> prev, prepare_out_dir(opt));
  if (prev) {
    TRINITY_RETURN_IF_ERROR(check_resumable(opt, in, *prev));
    keep_verified_checkpoints(opt.out, *prev, m, rep);
  }
  TRINITY_RETURN_IF_ERROR(make_dirs(join_path(opt.out, kCheckpointDir)));
  TRINITY_RETURN_IF_ERROR(write_manifest(opt.out, m));
  TRINITY_RETURN_IF_ERROR(write_router_head(opt.out, in.rv, m));
  ExportWork work(opt, in, m, rep);
  TRINITY_ASSIGN_OR_RETURN(const bool cancelled, work.run());
  return finish_export(opt, m, std::move(rep), cancelled, t_start);
}

Json export_report_to_json(const ExportReport& r) {
  Json j;
  j["out"] = r.out;
  j["status"] = r.status;
  j["dry_run"] = r.dry_run;
  j["layer"] = r.layer;
  j["vector_length"] = r.vector_length;
  j["load_ms"] = r.load_ms;
  j["threads"] = r.threads;
  j["total_ms"] = r.total_ms;
  j["manifest_sha256"] = r.manifest_sha256;
  Json list = Json::array();
  for (const auto& t : r.tensors)
    list.push_back({{"index", t.index},
                    {"path", t.path},
                    {"shape", t.shape},
                    {"type", t.type},
                    {"action", t.action},
                    {"checkpoint", t.checkpoint},
                    {"decompose_ms", t.decompose_ms},
                    {"reconstruct_ms", t.reconstruct_ms},
                    {"write_ms", t.write_ms},
                    {"gram_ms", t.gram_ms},
                    {"eigh_ms", t.eigh_ms},
                    {"direct_ms", t.direct_ms},
                    {"cast_ms", t.cast_ms},
                    {"sync_ms", t.sync_ms}});
  j["tensors"] = list;
  return j;
}

}  // namespace trinity
