// bench_forward: routing latency of a runtime profile, as JSON.
//   bench_forward [--model DIR] [--profile cpu] [--threads N] [--tokens 32,128,512,2048]
//                 [--repeat R] [--cache-mb MB] [--compare-reference]
// Without --model it generates the qwen3-0.6b synthetic bf16 checkpoint once into
// /tmp/trinity-bench-0.6b. --compare-reference adds the reference engine on the `tiny` preset.
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "core/file_util.h"
#include "core/thread_pool.h"
#include "model/engine_cpu_bench.h"
#include "model/profiles.h"
#include "model/synthetic.h"

namespace trinity {
namespace {

Result<std::shared_ptr<Qwen3Weights>> synthetic_model(const std::string& preset,
                                                      const std::string& dir) {
  if (!file_exists(join_path(dir, "model.safetensors"))) {
    TRINITY_RETURN_IF_ERROR(make_dirs(dir));
    TRINITY_ASSIGN_OR_RETURN(Qwen3Config c, synthetic_preset(preset));
    ThreadPool pool(0);
    std::fprintf(stderr, "bench_forward: writing the %s synthetic model to %s\n", preset.c_str(),
                 dir.c_str());
    TRINITY_RETURN_IF_ERROR(write_synthetic_checkpoint(dir, c, SyntheticOptions{}, pool));
  }
  return load_qwen3_weights(dir);
}

int main_impl(int argc, char** argv) {
  std::string model_dir, profile = "cpu";
  RouteBenchOptions opt;
  EngineOptions eopt;
  eopt.prefix_cache_mb = 1024;
  bool compare_reference = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_forward: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--model")
      model_dir = next();
    else if (a == "--profile")
      profile = next();
    else if (a == "--threads")
      eopt.threads = std::atoi(next().c_str());
    else if (a == "--repeat")
      opt.repeat = std::atoi(next().c_str());
    else if (a == "--cache-mb")
      eopt.prefix_cache_mb = std::atoll(next().c_str());
    else if (a == "--compare-reference")
      compare_reference = true;
    else if (a == "--tokens") {
      opt.tokens.clear();
      std::stringstream ss(next());
      for (std::string t; std::getline(ss, t, ',');) opt.tokens.push_back(std::atoll(t.c_str()));
    } else {
      std::fprintf(stderr, "bench_forward: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  auto w = model_dir.empty() ? synthetic_model("qwen3-0.6b", "/tmp/trinity-bench-0.6b")
                             : load_qwen3_weights(model_dir);
  if (!w.ok()) {
    std::fprintf(stderr, "bench_forward: %s\n", w.status().message().c_str());
    return 1;
  }
  auto e = make_engine(profile, *w, eopt);
  if (!e.ok()) {
    std::fprintf(stderr, "bench_forward: %s\n", e.status().message().c_str());
    return 1;
  }
  auto res = run_route_bench(**e, opt);
  if (!res.ok()) {
    std::fprintf(stderr, "bench_forward: %s\n", res.status().message().c_str());
    return 1;
  }
  OrderedJson out = *res;
  out["threads"] = eopt.threads;
  if (compare_reference) {
    // Same cases on the tiny preset for both engines: the reference is too slow at 0.6B.
    auto tiny = synthetic_model("tiny", "/tmp/trinity-bench-tiny");
    if (!tiny.ok()) {
      std::fprintf(stderr, "bench_forward: %s\n", tiny.status().message().c_str());
      return 1;
    }
    RouteBenchOptions small = opt;
    small.repeat = 3;
    OrderedJson cmp = OrderedJson::array();
    for (const std::string& p : {profile, std::string("reference")}) {
      auto te = make_engine(p, *tiny, eopt);
      if (!te.ok()) return 1;
      auto r = run_route_bench(**te, small);
      if (!r.ok()) return 1;
      cmp.push_back(*r);
    }
    out["tiny_comparison"] = cmp;
  }
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

}  // namespace
}  // namespace trinity

int main(int argc, char** argv) {
  return trinity::main_impl(argc, argv);
}
