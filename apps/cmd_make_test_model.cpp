// trinity make-test-model: a seeded synthetic Qwen3 checkpoint in HF format, plus a router
// vector of the matching length, so the pipeline runs without downloaded weights.
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "adapt/svf_targets.h"
#include "cli_common.h"
#include "cli_paths.h"
#include "core/file_util.h"
#include "core/random.h"
#include "io/npy.h"
#include "model/synthetic.h"

namespace trinity::cli {

namespace {

struct Options {
  std::string out, preset = "tiny", dtype, tokenizer;
  uint64_t seed = 0;
  int threads = 0;
  bool force = false;
};

Status copy_file_atomic(const std::string& from, const std::string& to) {
  TRINITY_ASSIGN_OR_RETURN(std::string data, read_file(from));
  return write_file_atomic(to, data);
}

int run(const Options& o) {
  const std::string cmd = "make-test-model";
  auto t0 = std::chrono::steady_clock::now();
  auto config = synthetic_preset(o.preset);
  if (!config.ok()) return report_error(cmd, config.status());
  SyntheticOptions so;
  so.seed = o.seed;
  std::string dtype = o.dtype.empty() ? (o.preset == "tiny" ? "f32" : "bf16") : o.dtype;
  if (dtype == "f32") {
    so.dtype = DType::kF32;
  } else if (dtype == "bf16") {
    so.dtype = DType::kBF16;
  } else {
    return report_error(cmd, invalid_argument("--dtype must be f32 or bf16, got '" + dtype + "'"));
  }
  auto tok_dir = resolve_tokenizer_dir(o.tokenizer);
  if (!tok_dir.ok()) return report_error(cmd, tok_dir.status());
  if (file_exists(join_path(o.out, "model.safetensors")) && !o.force)
    return report_error(cmd, invalid_argument(o.out + " already holds a model.safetensors; pass "
                                                      "--force to overwrite it"));
  if (Status st = make_dirs(o.out); !st.ok()) return report_error(cmd, st);
  ThreadPool pool(o.threads);
  if (Status st = write_synthetic_checkpoint(o.out, *config, so, pool); !st.ok())
    return report_error(cmd, st);
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"}) {
    const std::string src = join_path(*tok_dir, f);
    if (!file_exists(src)) continue;
    if (Status st = copy_file_atomic(src, join_path(o.out, f)); !st.ok())
      return report_error(cmd, st);
  }
  // Router vector: SVF offsets ~ N(0, 0.05^2), head ~ N(0, 0.5^2), float32 .npy.
  auto targets = svf_targets(*config);
  const int64_t n_off = svf_offset_count(targets);
  const int64_t len = router_vector_length(*config, targets);
  std::vector<float> vec(static_cast<size_t>(len));
  for (int64_t i = 0; i < len; ++i) {
    const double z = counter_normal(o.seed, 0x726f75746572ull, static_cast<uint64_t>(i));
    vec[static_cast<size_t>(i)] = static_cast<float>((i < n_off ? 0.05 : 0.5) * z);
  }
  if (Status st = write_npy_f32(join_path(o.out, "router_vector.npy"), vec.data(), {len}); !st.ok())
    return report_error(cmd, st);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const Qwen3Config& c = *config;
  const int64_t per_layer = c.hidden_size * (c.q_dim() + 2 * c.kv_dim()) +
                            c.q_dim() * c.hidden_size + 3 * c.hidden_size * c.intermediate_size +
                            2 * c.hidden_size + 2 * c.head_dim;
  const int64_t params = c.vocab_size * c.hidden_size * (c.tie_word_embeddings ? 1 : 2) +
                         c.num_hidden_layers * per_layer + c.hidden_size;
  std::printf(
      "wrote %s: Qwen3 preset %s, %s, %.1fM parameters, router vector of %lld floats "
      "(%lld SVF offsets + 10 x %lld head), seed %llu, %.2f s\n",
      o.out.c_str(), o.preset.c_str(), dtype.c_str(), static_cast<double>(params) / 1e6,
      static_cast<long long>(len), static_cast<long long>(n_off),
      static_cast<long long>(c.hidden_size), static_cast<unsigned long long>(o.seed), secs);
  return kExitOk;
}

}  // namespace

void register_make_test_model(CLI::App& app, CommandRegistry& reg) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand(
      "make-test-model", "Write a synthetic Qwen3 checkpoint (random weights, real architecture)");
  sub->add_option("--out", o->out, "Output directory (created if needed)")->required();
  sub->add_option("--preset", o->preset, "tiny | qwen3-0.6b")
      ->check(CLI::IsMember({"tiny", "qwen3-0.6b"}));
  sub->add_option("--seed", o->seed, "Random seed");
  sub->add_option("--dtype", o->dtype, "f32 | bf16 (default: f32 for tiny, bf16 for qwen3-0.6b)");
  sub->add_option("--tokenizer", o->tokenizer, "Directory with tokenizer.json to copy in");
  sub->add_option("--threads", o->threads, "Worker threads (default: all cores)");
  sub->add_flag("--force", o->force, "Overwrite an existing checkpoint in --out");
  reg.add(sub, [o] { return run(*o); });
}

}  // namespace trinity::cli
