// trinity forward: token ids -> final-RMSNorm hidden state of every position, as float32 .npy.
#include <chrono>
#include <cstdio>

#include "cli_common.h"
#include "core/file_util.h"
#include "core/json.h"
#include "io/npy.h"
#include "model/forward.h"
#include "model/profiles.h"

namespace trinity::cli {

namespace {

struct Options {
  std::string model, ids_file, out, profile, dump_dir;
  int threads = 0;
};

Result<std::vector<int32_t>> read_ids(const std::string& path) {
  TRINITY_ASSIGN_OR_RETURN(Json j, load_json_file(path));
  if (!j.is_array()) return parse_error(path + ": expected a JSON array of token ids");
  std::vector<int32_t> ids;
  ids.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    const Json& v = j[i];
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > INT32_MAX)
      return parse_error(path + ": element " + std::to_string(i) +
                         " is not a non-negative integer token id");
    ids.push_back(static_cast<int32_t>(v.get<int64_t>()));
  }
  if (ids.empty()) return invalid_argument(path + ": the id list is empty");
  return ids;
}

int run(const Options& o) {
  const std::string cmd = "forward";
  auto ids = read_ids(o.ids_file);
  if (!ids.ok()) return report_error(cmd, ids.status());
  auto t0 = std::chrono::steady_clock::now();
  auto w = load_qwen3_weights(o.model);
  if (!w.ok()) return report_error(cmd, w.status());
  auto t1 = std::chrono::steady_clock::now();
  const int64_t n = static_cast<int64_t>(ids->size()), D = (*w)->config.hidden_size;
  std::vector<float> out(static_cast<size_t>(n * D));
  DumpHook hook = [&](const std::string& name, int layer, const float* data, int64_t rows,
                      int64_t cols) {
    std::string file = (layer >= 0 ? "layer" + std::to_string(layer) + "." : std::string()) + name;
    Status st = write_npy_f32(join_path(o.dump_dir, file + ".npy"), data, {rows, cols});
    if (!st.ok()) std::fprintf(stderr, "trinity forward: warning: %s\n", st.message().c_str());
  };
  if (!o.dump_dir.empty()) {
    if (Status st = make_dirs(o.dump_dir); !st.ok()) return report_error(cmd, st);
  }
  Status st;
  std::string profile = o.profile.empty() ? default_profile_name() : o.profile;
  if (!o.dump_dir.empty()) {
    if (profile != "reference")
      return report_error(cmd, invalid_argument("--dump-dir needs --profile reference (the "
                                                "profile that names every intermediate)"));
    st = forward_reference(**w, *ids, out.data(), &hook);
  } else {
    EngineOptions eo;
    eo.threads = o.threads;
    auto engine = make_engine(profile, *w, eo);
    if (!engine.ok()) return report_error(cmd, engine.status());
    st = (*engine)->forward_all(*ids, out.data());
  }
  if (!st.ok()) return report_error(cmd, st);
  auto t2 = std::chrono::steady_clock::now();
  if (Status ws = write_npy_f32(o.out, out.data(), {n, D}); !ws.ok()) return report_error(cmd, ws);
  std::fprintf(stderr,
               "trinity forward: %lld tokens -> %s [%lld, %lld] (profile %s, load %.1f ms, "
               "forward %.1f ms)\n",
               static_cast<long long>(n), o.out.c_str(), static_cast<long long>(n),
               static_cast<long long>(D), profile.c_str(),
               std::chrono::duration<double, std::milli>(t1 - t0).count(),
               std::chrono::duration<double, std::milli>(t2 - t1).count());
  return kExitOk;
}

}  // namespace

void register_forward(CLI::App& app, CommandRegistry& reg) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand(
      "forward", "Final-RMSNorm hidden states of a token id sequence, written as float32 .npy");
  sub->add_option("--model", o->model, "Hugging Face Qwen3 checkpoint directory")->required();
  sub->add_option("--ids-file", o->ids_file, "JSON array of token ids")->required();
  sub->add_option("--out", o->out, "Output .npy ([n_tokens, hidden], float32)")->required();
  sub->add_option("--profile", o->profile, "Runtime profile: cpu (default), cpu-bf16, reference");
  sub->add_option("--threads", o->threads, "Compute threads (default: all cores)");
  sub->add_option("--dump-dir", o->dump_dir,
                  "Also write every named intermediate as <dir>/layer<L>.<name>.npy");
  reg.add(sub, [o] { return run(*o); });
}

}  // namespace trinity::cli
