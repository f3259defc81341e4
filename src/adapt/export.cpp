#include "adapt/export.h"

#include <cblas.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>

#include "adapt/bundle.h"
#include "core/file_util.h"
#include "core/sha256.h"
#include "core/thread_pool.h"
#include "core/time_util.h"

namespace trinity {

namespace {

using Clock = std::chrono::steady_clock;
double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// f32 [m, n] (HF orientation) -> bytes in the bundle layout ([n, m] when transposed) and dtype.
std::vector<uint8_t> to_bundle_bytes(const std::vector<float>& w, int64_t m, int64_t n,
                                     bool transpose, DType dtype, ThreadPool& pool) {
  const size_t es = dtype_size(dtype);
  std::vector<uint8_t> out(static_cast<size_t>(m * n) * es);
  const int64_t rows = transpose ? n : m, cols = transpose ? m : n;
  pool.parallel_for(static_cast<size_t>(rows), [&](int, size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        const float v = transpose ? w[static_cast<size_t>(c * n) + r] : w[r * cols + c];
        uint8_t* p = out.data() + (r * cols + c) * es;
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

// The decompose -> reconstruct -> write loop over the tensors still to do. The manifest is
// rewritten after every tensor; progress events weigh each tensor by its estimated work.
class ExportWork {
 public:
  ExportWork(const ExportOptions& opt, const ExportInputs& in, Manifest& m, ExportReport& rep);
  // Exports every pending tensor (only --only-index's, if given); true when cancelled.
  Result<bool> run();

 private:
  bool selected(size_t i) const {
    return opt_.only_index == 0 || opt_.only_index == in_.targets[i].index;
  }
  void emit(ExportEvent::Kind kind, size_t i, const std::string& phase, double frac) const;
  Status export_tensor(size_t i);
  Result<const SvfFactors*> factors_for(size_t i);
  Result<std::string> write_checkpoint(size_t i, std::vector<float>& adapted);
  void mark_complete(size_t i, const std::string& sha256, Clock::time_point t_write);
  Status fail(size_t i, const Status& st);

  const ExportOptions& opt_;
  const ExportInputs& in_;
  Manifest& m_;
  ExportReport& rep_;
  std::vector<double> cost_;
  double total_cost_ = 0, done_cost_ = 0;
  std::map<std::string, int> uses_;          // pending targets per source tensor
  std::map<std::string, SvfFactors> cache_;  // the tied embedding is decomposed once
  ThreadPool pool_{0};
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
    if (todo) ++uses_[t.hf_name];
  }
  t_work_ = Clock::now();
}

Result<bool> ExportWork::run() {
  for (size_t i = 0; i < in_.targets.size(); ++i) {
    ExportTensorReport& tr = rep_.tensors[i];
    if (tr.action == "kept") continue;
    if (!selected(i)) {
      tr.action = "skipped";
      continue;
    }
    if (opt_.cancel && opt_.cancel->load()) return true;
    TRINITY_RETURN_IF_ERROR(export_tensor(i));
  }
  return false;
}

void ExportWork::emit(ExportEvent::Kind kind, size_t i, const std::string& phase,
                      double frac) const {
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

Status ExportWork::export_tensor(size_t i) {
  const SvfTarget& t = in_.targets[i];
  ManifestEntry& e = m_.selected_tensors[i];
  emit(ExportEvent::Kind::kTensorStart, i, "decompose", 0);
  auto factors = factors_for(i);
  if (!factors.ok()) return fail(i, factors.status());
  emit(ExportEvent::Kind::kPhase, i, "reconstruct", 0.6);
  SvfStats stats;
  std::span<const float> z(in_.rv.offsets.data() + t.offset_start, static_cast<size_t>(t.k));
  auto adapted = svf_reconstruct(*in_.sources[i], **factors, z, &stats);
  if (!adapted.ok()) return fail(i, adapted.status());
  if (--uses_[t.hf_name] == 0) cache_.erase(t.hf_name);
  e.reconstruct_elapsed_ms = stats.elapsed_ms;
  e.adapted_backend = stats.adapted_backend;
  emit(ExportEvent::Kind::kPhase, i, "write", 0.9);
  const auto t_write = Clock::now();
  auto sha = write_checkpoint(i, *adapted);
  if (!sha.ok()) return fail(i, sha.status());
  mark_complete(i, *sha, t_write);
  TRINITY_RETURN_IF_ERROR(write_manifest(opt_.out, m_));
  emit(ExportEvent::Kind::kTensorDone, i, "done", 1.0);
  done_cost_ += cost_[i];
  return ok_status();
}

// Target i's SVD: reused when an earlier target has the same source (the tied embedding), else
// computed and cached until the source's last pending target.
Result<const SvfFactors*> ExportWork::factors_for(size_t i) {
  const SvfTarget& t = in_.targets[i];
  ManifestEntry& e = m_.selected_tensors[i];
  auto it = cache_.find(t.hf_name);
  if (it != cache_.end()) {
    const SvfFactors& f = it->second;
    e.decompose_elapsed_ms = 0;
    e.u_backend = "reused: " + f.u_backend + " (same source as an earlier tensor)";
    e.s_backend = "reused: " + f.s_backend;
    e.v_backend = "reused: " + f.v_backend;
    return &f;
  }
  TRINITY_ASSIGN_OR_RETURN(SvfFactors f, svf_decompose(*in_.sources[i], opt_.compute));
  e.decompose_elapsed_ms = f.elapsed_ms;
  e.u_backend = f.u_backend, e.s_backend = f.s_backend, e.v_backend = f.v_backend;
  return &cache_.emplace(t.hf_name, std::move(f)).first->second;
}

// Writes the adapted tensor in the bundle's layout and the source's dtype (freeing `adapted` as
// early as possible); returns the checkpoint's sha256.
Result<std::string> ExportWork::write_checkpoint(size_t i, std::vector<float>& adapted) {
  const SvfTarget& t = in_.targets[i];
  const ManifestEntry& e = m_.selected_tensors[i];
  const DType dt = in_.sources[i]->dtype;
  const std::string file = join_path(opt_.out, e.checkpoint_path);
  if (dt == DType::kF32 && !t.transposed_in_bundle) {
    TRINITY_RETURN_IF_ERROR(
        write_safetensors(file, {{t.path, dt, e.shape, adapted.data(), adapted.size() * 4}}));
  } else {
    std::vector<uint8_t> bytes =
        to_bundle_bytes(adapted, t.hf_shape[0], t.hf_shape[1], t.transposed_in_bundle, dt, pool_);
    std::vector<float>().swap(adapted);
    TRINITY_RETURN_IF_ERROR(
        write_safetensors(file, {{t.path, dt, e.shape, bytes.data(), bytes.size()}}));
  }
  std::vector<float>().swap(adapted);
  return sha256_file_hex(file);
}

void ExportWork::mark_complete(size_t i, const std::string& sha256, Clock::time_point t_write) {
  ManifestEntry& e = m_.selected_tensors[i];
  e.checkpoint_sha256 = sha256;
  e.reconstructed_type_before_cast = nx_type_name(DType::kF32);  // reconstruction is f32
  e.checkpoint_type = nx_type_name(in_.sources[i]->dtype);
  e.status = "complete";
  e.error.reset();
  ExportTensorReport& tr = rep_.tensors[i];
  tr.action = "computed";
  tr.decompose_ms = e.decompose_elapsed_ms.value_or(0);
  tr.reconstruct_ms = e.reconstruct_elapsed_ms.value_or(0);
  tr.write_ms = ms_between(t_write, Clock::now());
}

// Records the failure in the manifest (best effort) and names the tensor in the error.
Status ExportWork::fail(size_t i, const Status& st) {
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
                    {"write_ms", t.write_ms}});
  j["tensors"] = list;
  return j;
}

}  // namespace trinity
