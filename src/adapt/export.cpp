#include "adapt/export.h"

#include <cblas.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
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

}  // namespace

Result<ExportReport> run_export(const ExportOptions& opt) {
  const auto t_start = Clock::now();
  ExportReport rep;
  rep.out = opt.out;
  rep.dry_run = opt.dry_run;
  if (opt.force && opt.resume) return invalid_argument("--force and --resume exclude each other");
  TRINITY_ASSIGN_OR_RETURN(auto wp, load_qwen3_weights(opt.base));
  const Qwen3Weights& w = *wp;
  const Qwen3Config& c = w.config;
  const int64_t layer = opt.layer < 0 ? c.num_hidden_layers - 2 : opt.layer;
  if (layer < 0 || layer >= c.num_hidden_layers)
    return invalid_argument("--layer " + std::to_string(layer) +
                            " is out of range: the model has " +
                            std::to_string(c.num_hidden_layers) + " layers");
  const auto targets = svf_targets(c, layer);
  if (opt.only_index < 0 || opt.only_index > static_cast<int64_t>(targets.size()))
    return invalid_argument("--only-index must be 1.." + std::to_string(targets.size()));
  TRINITY_ASSIGN_OR_RETURN(RouterVector rv, load_router_vector(opt.vector, c, targets));
  rep.layer = layer;
  rep.vector_length = router_vector_length(c, targets);
  std::vector<const Weight*> sources;
  for (const SvfTarget& t : targets) {
    TRINITY_ASSIGN_OR_RETURN(const Weight* s, svf_source_weight(w, t));
    sources.push_back(s);
  }
  rep.load_ms = ms_between(t_start, Clock::now());

  // The fresh manifest.
  Manifest m;
  m.created_at = utc_now(UtcFormat::kIso8601);
  m.base_model_repo = opt.base;
  m.xla_target = "none (native CPU; no XLA)";
  m.export_backend = backend_label();
  m.source_vector_path = opt.vector;
  m.source_vector_tensor = rv.tensor;  // "" for .npy: the reference loader treats null as missing
  m.source_vector_shape = rv.shape;
  m.source_vector_sha256 = rv.sha256;
  m.scale_offset_count = svf_offset_count(targets);
  m.router_head_shape = {kRouterHeadRows, c.hidden_size};
  m.selected_tensor_count = static_cast<int64_t>(targets.size());
  m.selected_singular_value_count = m.scale_offset_count;
  m.hidden_size = c.hidden_size;
  m.head_count = kRouterHeadRows * c.hidden_size;
  m.layer = layer;
  for (size_t i = 0; i < targets.size(); ++i) {
    const SvfTarget& t = targets[i];
    ManifestEntry e;
    e.index = t.index;
    e.path = e.artifact_key = t.path;
    e.shape = t.bundle_shape();
    e.type = e.source_type = nx_type_name(sources[i]->dtype);
    e.svd_compute_type = svd_compute_type_name(opt.compute);
    e.decompose_source_type = nx_type_name(DType::kF32);  // svf_decompose widens to f32
    e.offset_start = t.offset_start;
    e.offset_end = t.offset_end;
    e.singular_values = t.k;
    e.checkpoint_path = std::string(kCheckpointDir) + "/" + t.checkpoint_file();
    m.selected_tensors.push_back(e);
    ExportTensorReport tr;
    tr.index = t.index;
    tr.path = t.path;
    tr.type = e.type;
    tr.shape = e.shape;
    tr.checkpoint = e.checkpoint_path;
    tr.action = opt.dry_run ? "planned" : "pending";
    rep.tensors.push_back(tr);
  }
  if (opt.dry_run) {
    rep.status = "planned";
    rep.total_ms = ms_between(t_start, Clock::now());
    return rep;
  }

  // The output directory.
  if (file_exists(opt.out) && !is_directory(opt.out))
    return invalid_argument(opt.out + " exists and is not a directory");
  std::optional<Manifest> prev;
  if (dir_has_entries(opt.out)) {
    if (opt.force) {
      std::error_code ec;
      std::filesystem::remove(join_path(opt.out, kManifestFile), ec);
      std::filesystem::remove(join_path(opt.out, kRouterHeadFile), ec);
      std::filesystem::remove_all(join_path(opt.out, kCheckpointDir), ec);
      if (ec) return io_error(opt.out + ": cannot clear the old bundle: " + ec.message());
    } else if (opt.resume) {
      const std::string mp = join_path(opt.out, kManifestFile);
      if (file_exists(mp)) {
        TRINITY_ASSIGN_OR_RETURN(std::string text, read_file(mp));
        TRINITY_ASSIGN_OR_RETURN(prev, parse_manifest(text, mp));
      }
    } else {
      return invalid_argument(opt.out +
                              " already exists; pass --resume to continue the export "
                              "there or --force to overwrite it");
    }
  } else if (opt.resume && !is_directory(opt.out)) {
    return not_found(opt.out + ": nothing to resume (the directory does not exist)");
  }
  if (prev) {
    if (prev->source_vector_sha256 != rv.sha256)
      return mismatch(join_path(opt.out, kManifestFile) +
                      ": the bundle was exported from a "
                      "different router vector (sha256 " +
                      prev->source_vector_sha256 + "); use --force to start over");
    if (prev->base_model_repo != opt.base || prev->layer != layer)
      return mismatch(join_path(opt.out, kManifestFile) + ": the bundle was exported from base '" +
                      prev->base_model_repo + "' layer " + std::to_string(prev->layer) +
                      "; use --force to start over");
    m.created_at = prev->created_at;
    for (ManifestEntry& e : m.selected_tensors) {
      for (const ManifestEntry& p : prev->selected_tensors) {
        if (p.index != e.index || p.path != e.path || p.status != "complete" ||
            p.svd_compute_type != e.svd_compute_type ||
            dtype_from_nx_type(p.type) != dtype_from_nx_type(e.type) ||
            p.checkpoint_path != e.checkpoint_path)
          continue;
        // Keep a checkpoint only if its sha256, tensor, shape and type verify.
        if (verify_checkpoint(opt.out, p).ok()) {
          const std::string type = e.type;
          e = p;
          e.type = e.source_type = type;  // an older bundle's "bf16" becomes "{:bf, 16}"
          if (!e.checkpoint_type.empty()) e.checkpoint_type = type;
          rep.tensors[static_cast<size_t>(e.index - 1)].action = "kept";
          rep.tensors[static_cast<size_t>(e.index - 1)].decompose_ms =
              p.decompose_elapsed_ms.value_or(0);
          rep.tensors[static_cast<size_t>(e.index - 1)].reconstruct_ms =
              p.reconstruct_elapsed_ms.value_or(0);
        }
      }
    }
  }
  TRINITY_RETURN_IF_ERROR(make_dirs(join_path(opt.out, kCheckpointDir)));
  TRINITY_RETURN_IF_ERROR(write_manifest(opt.out, m));

  // The routing head.
  const std::string hpath = join_path(opt.out, kRouterHeadFile);
  TRINITY_RETURN_IF_ERROR(
      write_safetensors(hpath, {{kRouterHeadTensor, DType::kF32, m.router_head_shape,
                                 rv.head.data(), rv.head.size() * sizeof(float)}}));
  TRINITY_ASSIGN_OR_RETURN(m.router_head_sha256, sha256_file_hex(hpath));
  TRINITY_RETURN_IF_ERROR(write_manifest(opt.out, m));

  // Work weights for progress/ETA: decomposition ~ m n k, the rest ~ m n.
  std::vector<double> cost(targets.size());
  double total_cost = 0, done_cost = 0;
  std::map<std::string, int> uses;
  for (size_t i = 0; i < targets.size(); ++i) {
    const auto& t = targets[i];
    const bool todo =
        rep.tensors[i].action == "pending" && (opt.only_index == 0 || opt.only_index == t.index);
    const double mn = static_cast<double>(t.hf_shape[0] * t.hf_shape[1]);
    cost[i] = todo ? mn * (static_cast<double>(t.k) + 64) : 0;
    total_cost += cost[i];
    if (todo) ++uses[t.hf_name];
  }
  ThreadPool pool(0);
  std::map<std::string, SvfFactors> cache;  // the tied embedding is decomposed once
  const auto t_work = Clock::now();
  auto emit = [&](ExportEvent::Kind kind, const SvfTarget& t, const std::string& phase,
                  double frac_of_tensor, size_t i) {
    if (!opt.on_event) return;
    ExportEvent ev;
    ev.kind = kind;
    ev.index = t.index;
    ev.count = static_cast<int64_t>(targets.size());
    ev.path = t.path;
    ev.phase = phase;
    const double done = done_cost + cost[i] * frac_of_tensor;
    ev.fraction = total_cost > 0 ? done / total_cost : 1.0;
    ev.elapsed_s = ms_between(t_work, Clock::now()) / 1000.0;
    ev.eta_s = done > 0 ? ev.elapsed_s * (total_cost - done) / done : -1;
    opt.on_event(ev);
  };
  bool cancelled = false;
  for (size_t i = 0; i < targets.size(); ++i) {
    const SvfTarget& t = targets[i];
    ManifestEntry& e = m.selected_tensors[i];
    ExportTensorReport& tr = rep.tensors[i];
    if (tr.action == "kept") continue;
    if (opt.only_index != 0 && opt.only_index != t.index) {
      tr.action = "skipped";
      continue;
    }
    if (opt.cancel && opt.cancel->load()) {
      cancelled = true;
      break;
    }
    emit(ExportEvent::Kind::kTensorStart, t, "decompose", 0, i);
    auto fail = [&](const Status& st) -> Status {
      e.status = "failed";
      e.error = st.message();
      m.status = "failed";
      (void)write_manifest(opt.out, m);
      return st.with_context(t.path);
    };
    const Weight& src = *sources[i];
    const SvfFactors* factors = nullptr;
    auto it = cache.find(t.hf_name);
    if (it != cache.end()) {
      factors = &it->second;
      e.decompose_elapsed_ms = 0;
      e.u_backend = "reused: " + factors->u_backend + " (same source as an earlier tensor)";
      e.s_backend = "reused: " + factors->s_backend;
      e.v_backend = "reused: " + factors->v_backend;
    } else {
      auto f = svf_decompose(src, opt.compute);
      if (!f.ok()) return fail(f.status());
      e.decompose_elapsed_ms = f->elapsed_ms;
      e.u_backend = f->u_backend, e.s_backend = f->s_backend, e.v_backend = f->v_backend;
      it = cache.emplace(t.hf_name, std::move(*f)).first;
      factors = &it->second;
    }
    emit(ExportEvent::Kind::kPhase, t, "reconstruct", 0.6, i);
    SvfStats stats;
    std::span<const float> z(rv.offsets.data() + t.offset_start, static_cast<size_t>(t.k));
    auto adapted = svf_reconstruct(src, *factors, z, &stats);
    if (!adapted.ok()) return fail(adapted.status());
    if (--uses[t.hf_name] == 0) cache.erase(t.hf_name);
    e.reconstruct_elapsed_ms = stats.elapsed_ms;
    e.adapted_backend = stats.adapted_backend;
    emit(ExportEvent::Kind::kPhase, t, "write", 0.9, i);
    const auto t_write = Clock::now();
    const std::string file = join_path(opt.out, e.checkpoint_path);
    {
      const DType dt = src.dtype;
      Status st;
      if (dt == DType::kF32 && !t.transposed_in_bundle) {
        st = write_safetensors(file, {{t.path, dt, e.shape, adapted->data(), adapted->size() * 4}});
      } else {
        std::vector<uint8_t> bytes = to_bundle_bytes(*adapted, t.hf_shape[0], t.hf_shape[1],
                                                     t.transposed_in_bundle, dt, pool);
        std::vector<float>().swap(*adapted);
        st = write_safetensors(file, {{t.path, dt, e.shape, bytes.data(), bytes.size()}});
      }
      if (!st.ok()) return fail(st);
    }
    std::vector<float>().swap(*adapted);
    auto sha = sha256_file_hex(file);
    if (!sha.ok()) return fail(sha.status());
    e.checkpoint_sha256 = *sha;
    e.reconstructed_type_before_cast = nx_type_name(DType::kF32);  // reconstruction is f32
    e.checkpoint_type = nx_type_name(src.dtype);
    e.status = "complete";
    e.error.reset();
    tr.action = "computed";
    tr.decompose_ms = e.decompose_elapsed_ms.value_or(0);
    tr.reconstruct_ms = e.reconstruct_elapsed_ms.value_or(0);
    tr.write_ms = ms_between(t_write, Clock::now());
    if (Status st = write_manifest(opt.out, m); !st.ok()) return st;
    emit(ExportEvent::Kind::kTensorDone, t, "done", 1.0, i);
    done_cost += cost[i];
  }
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
