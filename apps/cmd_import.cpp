// trinity import python: the Python (Sakana) exporter's directory -> trinity's router vector
// (and, with --base and --bundle, the adapted bundle exported from it).
#include <cstdio>

#include "adapt/export.h"
#include "adapt/python_import.h"
#include "cli_common.h"
#include "io/npy.h"
#include "io/router_vector.h"
#include "io/safetensors.h"

namespace trinity::cli {
namespace {

struct Options {
  std::string dir, out, base, bundle;
};

Status write_vector(const std::string& path, const std::vector<float>& v) {
  const auto ends_with = [&](const char* ext) {
    const std::string e(ext);
    return path.size() >= e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0;
  };
  const std::vector<int64_t> shape = {static_cast<int64_t>(v.size())};
  if (ends_with(".npy")) return write_npy_f32(path, v.data(), shape);
  if (ends_with(".safetensors"))
    return write_safetensors(path, {TensorToWrite{kRouterVectorTensor, DType::kF32, shape, v.data(),
                                                  v.size() * sizeof(float)}});
  return invalid_argument("--out " + path + ": must end in .npy or .safetensors");
}

int run(const Options& o) {
  const std::string cmd = "import python";
  if (o.base.empty() != o.bundle.empty())
    return report_error(cmd, invalid_argument("--base and --bundle go together"));
  auto imported = import_python_export(o.dir);
  if (!imported.ok()) return report_error(cmd, imported.status());
  Status st = write_vector(o.out, imported->vector);
  if (!st.ok()) return report_error(cmd, st);
  std::printf("imported %zu SVF targets (%lld offsets) and the [%lld, %lld] head from %s\n",
              imported->parameters.size(), static_cast<long long>(imported->offset_count),
              static_cast<long long>(imported->rows), static_cast<long long>(imported->hidden),
              o.dir.c_str());
  std::printf("wrote router vector of %zu floats to %s\n", imported->vector.size(), o.out.c_str());
  if (o.bundle.empty()) return kExitOk;
  ExportOptions eo;
  eo.base = o.base;
  eo.vector = o.out;
  eo.out = o.bundle;
  auto rep = run_export(eo);
  if (!rep.ok()) return report_error(cmd, rep.status().with_context("--bundle"));
  std::printf("wrote bundle %s (%s)\n", o.bundle.c_str(), rep->status.c_str());
  return kExitOk;
}

}  // namespace

void register_import(CLI::App& app, CommandRegistry& reg) {
  CLI::App* imp = app.add_subcommand("import", "Import router vectors written by other tools");
  imp->require_subcommand(1);
  auto o = std::make_shared<Options>();
  CLI::App* sub = imp->add_subcommand(
      "python",
      "Import the Python exporter's trinity_svf_scale_offsets / trinity_router_head / "
      "trinity_svf_components .safetensors and trinity_sakana_export_manifest.json");
  sub->add_option("--dir", o->dir, "The Python exporter's output directory")->required();
  sub->add_option("--out", o->out, "Router vector to write (.npy or .safetensors)")->required();
  sub->add_option("--base", o->base, "With --bundle: the base Qwen3 checkpoint to adapt");
  sub->add_option("--bundle", o->bundle, "Also export the adapted bundle into this directory");
  reg.add(sub, [o] { return run(*o); });
}

}  // namespace trinity::cli
