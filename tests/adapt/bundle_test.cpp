// Export -> bundle -> load/verify/apply on the golden model, manifest round trip and the
// required keys, and the failure modes (corrupted checkpoint, missing head, wrong status...).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "adapt/bundle.h"
#include "adapt/export.h"
#include "core/file_util.h"
#include "core/sha256.h"
#include "io/npy.h"

namespace trinity {
namespace {

namespace fs = std::filesystem;
const std::string kGolden = std::string(TRINITY_TEST_DATA_DIR) + "/golden";

std::string fresh_dir(const std::string& name) {
  const std::string d =
      ::testing::TempDir() + "/trinity_bundle_" + std::to_string(::getpid()) + "_" + name;
  fs::remove_all(d);
  return d;
}

ExportOptions golden_export(const std::string& out, const std::string& variant = "f32") {
  ExportOptions o;
  o.base = kGolden + "/model_" + variant;
  o.vector = kGolden + "/router_vector.npy";
  o.out = out;
  return o;
}

// One export shared by the read-only tests.
const std::string& exported_f32() {
  static const std::string dir = [] {
    const std::string d = fresh_dir("shared_f32");
    auto r = run_export(golden_export(d));
    EXPECT_TRUE(r.ok()) << r.status().message();
    return d;
  }();
  return dir;
}

std::string copy_bundle(const std::string& name) {
  const std::string d = fresh_dir(name);
  fs::copy(exported_f32(), d, fs::copy_options::recursive);
  return d;
}

TEST(Export, WritesTheReferenceLayout) {
  const std::string d = exported_f32();
  EXPECT_TRUE(file_exists(d + "/manifest.json"));
  EXPECT_TRUE(file_exists(d + "/router_head.safetensors"));
  EXPECT_TRUE(file_exists(d + "/checkpoints/0001_embedder.token_embedding.kernel.safetensors"));
  EXPECT_TRUE(file_exists(
      d + "/checkpoints/0002_decoder.blocks.2.self_attention.query.kernel.safetensors"));
  EXPECT_TRUE(
      file_exists(d + "/checkpoints/0009_language_modeling_head.output.kernel.safetensors"));
  auto q = SafetensorsFile::open(
      d + "/checkpoints/0002_decoder.blocks.2.self_attention.query.kernel.safetensors");
  ASSERT_TRUE(q.ok());
  ASSERT_EQ((*q)->tensors().size(), 1u);
  const TensorView& t = (*q)->tensors()[0];
  EXPECT_EQ(t.name, "decoder.blocks.2.self_attention.query.kernel");
  EXPECT_EQ(t.shape, (std::vector<int64_t>{32, 48}));  // [in, out]
  // The stored kernel is the transpose of the golden HF-orientation tensor.
  auto want =
      read_npy(kGolden + "/adapted/f32/0002_decoder.blocks.2.self_attention.query.kernel.npy");
  ASSERT_TRUE(want.ok());
  std::vector<float> w = want->to_f32();
  const float* got = reinterpret_cast<const float*>(t.data);
  for (int64_t o = 0; o < 48; ++o)
    for (int64_t i = 0; i < 32; ++i) EXPECT_NEAR(got[i * 48 + o], w[o * 32 + i], 2e-6);
  auto h = SafetensorsFile::open(d + "/router_head.safetensors");
  ASSERT_TRUE(h.ok());
  const TensorView* ht = (*h)->find("trinity_router_head");
  ASSERT_NE(ht, nullptr);
  EXPECT_EQ(ht->shape, (std::vector<int64_t>{10, 32}));
  EXPECT_EQ(ht->dtype, DType::kF32);
}

TEST(Manifest, HasEveryElixirKeyAndRoundTrips) {
  auto text = read_file(exported_f32() + "/manifest.json");
  ASSERT_TRUE(text.ok());
  auto j = parse_json(*text, "manifest");
  ASSERT_TRUE(j.ok());
  for (const auto& k : manifest_required_keys()) EXPECT_TRUE(j->contains(k)) << k;
  EXPECT_EQ((*j)["artifact_version"], 1);
  EXPECT_EQ((*j)["status"], "complete");
  EXPECT_EQ((*j)["export_complete"], true);
  EXPECT_EQ((*j)["bumblebee_module"], "Bumblebee.Text.Qwen3");
  EXPECT_EQ((*j)["architecture"], "for_causal_language_modeling");
  EXPECT_EQ((*j)["artifact_layout"], "checkpoint_directory");
  EXPECT_EQ((*j)["scale_offset_count"], 272);
  EXPECT_EQ((*j)["selected_singular_value_count"], 272);
  EXPECT_EQ((*j)["selected_tensor_count"], 9);
  EXPECT_EQ((*j)["router_head_shape"], Json::array({10, 32}));
  EXPECT_EQ((*j)["source_split"]["output_count"], 10);
  EXPECT_EQ((*j)["split"]["head_count"], 320);
  EXPECT_EQ((*j)["source_vector_shape"], Json::array({592}));
  ASSERT_EQ((*j)["selected_tensors"].size(), 9u);
  for (const Json& e : (*j)["selected_tensors"]) {
    for (const auto& k : manifest_entry_keys()) EXPECT_TRUE(e.contains(k)) << k;
    EXPECT_EQ(e["type"], "{:f, 32}");  // the reference's spelling (Elixir inspect of the Nx type)
    EXPECT_EQ(e["checkpoint_type"], "{:f, 32}");
    EXPECT_EQ(e["status"], "complete");
    EXPECT_GT(e["decompose_elapsed_ms"].get<double>() + e["reconstruct_elapsed_ms"].get<double>(),
              0.0);
  }
  EXPECT_EQ((*j)["selected_tensors"][4]["shape"], Json::array({48, 32}));  // o_proj [in, out]
  EXPECT_EQ((*j)["selected_tensors"][2]["offset_start"], 64);
  EXPECT_EQ((*j)["selected_tensors"][2]["offset_end"], 88);
  auto m = parse_manifest(*text, "manifest");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(manifest_to_text(*m), *text);  // lossless round trip
  for (const std::string& key : manifest_required_keys()) {
    Json missing = *j;
    missing.erase(key);
    auto bad = parse_manifest(missing.dump(), "m.json");
    ASSERT_FALSE(bad.ok()) << key;
    EXPECT_NE(bad.status().message().find("'" + key + "' is missing"), std::string::npos)
        << bad.status().message();
    if (key == "source_vector_tensor") continue;  // older trinity bundles wrote null there
    missing[key] = nullptr;
    auto null_value = parse_manifest(missing.dump(), "m.json");
    ASSERT_FALSE(null_value.ok()) << key;
    EXPECT_NE(null_value.status().message().find("'" + key + "' is null"), std::string::npos);
  }
  // Keys the reference does not require may be absent.
  Json minimal = *j;
  for (const char* key : {"created_at", "updated_at", "router_head_sha256", "layer"})
    minimal.erase(key);
  auto parsed_minimal = parse_manifest(minimal.dump(), "m.json");
  ASSERT_TRUE(parsed_minimal.ok()) << parsed_minimal.status().message();
  EXPECT_EQ(parsed_minimal->layer, 2);  // derived from the entry paths
  Json bad_entry = *j;
  bad_entry["selected_tensors"][3].erase("shape");
  auto bad2 = parse_manifest(bad_entry.dump(), "m.json");
  ASSERT_FALSE(bad2.ok());
  EXPECT_NE(bad2.status().message().find("selected_tensors[3]"), std::string::npos);
  Json bad_type = *j;
  bad_type["selected_tensors"][1]["type"] = "{:s, 8}";
  auto bad3 = parse_manifest(bad_type.dump(), "m.json");
  ASSERT_FALSE(bad3.ok());
  EXPECT_NE(bad3.status().message().find("{:s, 8}"), std::string::npos);
}

TEST(Bundle, LoadsAndAppliesLikeTheInMemoryPath) {
  auto b = load_bundle(exported_f32());
  ASSERT_TRUE(b.ok()) << b.status().message();
  auto head = read_npy(kGolden + "/router_head.npy");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(b->head, head->to_f32());
  auto from_bundle = load_qwen3_weights(kGolden + "/model_f32");
  auto from_vector = load_qwen3_weights(kGolden + "/model_f32");
  ASSERT_TRUE(from_bundle.ok() && from_vector.ok());
  ASSERT_TRUE(apply_bundle(**from_bundle, *b).ok());
  const auto targets = svf_targets((*from_vector)->config);
  auto rv = load_router_vector(kGolden + "/router_vector.npy", (*from_vector)->config, targets);
  ASSERT_TRUE(rv.ok());
  ASSERT_TRUE(adapt_weights_in_memory(**from_vector, *rv, targets).ok());
  const Qwen3Weights& a = **from_bundle;
  const Qwen3Weights& v = **from_vector;
  auto same = [](const Weight& x, const Weight& y) {
    ASSERT_EQ(x.shape, y.shape);
    ASSERT_EQ(x.dtype, y.dtype);
    EXPECT_EQ(std::memcmp(x.data, y.data, static_cast<size_t>(x.numel()) * dtype_size(x.dtype)), 0);
  };
  same(a.embed, v.embed);
  same(a.layers[2].q_proj, v.layers[2].q_proj);
  same(a.layers[2].o_proj, v.layers[2].o_proj);
  same(a.layers[2].down_proj, v.layers[2].down_proj);
  // Untouched layers and the tied LM head keep the base weights.
  auto base = load_qwen3_weights(kGolden + "/model_f32");
  ASSERT_TRUE(base.ok());
  same(a.layers[1].q_proj, (*base)->layers[1].q_proj);
  same(a.lm_head, (*base)->embed);
}

TEST(Bundle, CorruptedCheckpointIsAClearError) {
  const std::string d = copy_bundle("corrupt");
  const std::string f =
      d + "/checkpoints/0003_decoder.blocks.2.self_attention.key.kernel.safetensors";
  {
    std::fstream s(f, std::ios::in | std::ios::out | std::ios::binary);
    s.seekp(-5, std::ios::end);
    s.put('\x7f');
  }
  auto b = load_bundle(d);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("0003_decoder.blocks.2.self_attention.key.kernel"),
            std::string::npos);
  EXPECT_NE(b.status().message().find("sha256 mismatch"), std::string::npos);
}

TEST(Bundle, MissingHeadIsAClearError) {
  const std::string d = copy_bundle("nohead");
  fs::remove(d + "/router_head.safetensors");
  auto b = load_bundle(d);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("router head is missing"), std::string::npos);
}

TEST(Bundle, IncompleteStatusesAndWrongVersionAreRejected) {
  const std::string d = copy_bundle("status");
  auto text = read_file(d + "/manifest.json");
  ASSERT_TRUE(text.ok());
  auto j = *parse_json(*text, "m");
  for (auto [key, value, needle] : std::vector<std::tuple<std::string, Json, std::string>>{
           {"status", "partial", "status is 'partial'"},
           {"export_complete", false, "export_complete is false"},
           {"artifact_version", 2, "artifact_version is 2"}}) {
    Json k = j;
    k[key] = value;
    ASSERT_TRUE(write_file_atomic(d + "/manifest.json", k.dump()).ok());
    auto b = load_bundle(d);
    ASSERT_FALSE(b.ok()) << key;
    EXPECT_NE(b.status().message().find(needle), std::string::npos) << b.status().message();
  }
  Json k = j;
  k["selected_tensors"][5]["shape"] = Json::array({1, 2});
  ASSERT_TRUE(write_file_atomic(d + "/manifest.json", k.dump()).ok());
  auto b = load_bundle(d);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("shape"), std::string::npos);
}

TEST(Export, ExistingOutputNeedsForceOrResumeAndDryRunWritesNothing) {
  const std::string d = copy_bundle("exists");
  auto r = run_export(golden_export(d));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("--resume"), std::string::npos);
  const std::string dry = fresh_dir("dry");
  ExportOptions o = golden_export(dry);
  o.dry_run = true;
  auto p = run_export(o);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->status, "planned");
  EXPECT_EQ(p->tensors.size(), 9u);
  EXPECT_FALSE(fs::exists(dry));
}

TEST(Export, ResumeKeepsVerifiedCheckpointsAndRedoesBadOnes) {
  const std::string d = copy_bundle("resume");
  auto before =
      read_file(d + "/checkpoints/0004_decoder.blocks.2.self_attention.value.kernel.safetensors");
  ASSERT_TRUE(before.ok());
  // Damage one checkpoint and mark the manifest unfinished.
  ASSERT_TRUE(
      write_file_atomic(
          d + "/checkpoints/0004_decoder.blocks.2.self_attention.value.kernel.safetensors", "junk")
          .ok());
  ExportOptions o = golden_export(d);
  o.resume = true;
  auto r = run_export(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, "complete");
  int kept = 0, computed = 0;
  for (const auto& t : r->tensors) (t.action == "kept" ? kept : computed) += 1;
  EXPECT_EQ(kept, 8);
  EXPECT_EQ(computed, 1);
  auto after =
      read_file(d + "/checkpoints/0004_decoder.blocks.2.self_attention.value.kernel.safetensors");
  EXPECT_EQ(*after, *before);  // deterministic
  EXPECT_TRUE(load_bundle(d).ok());
}

TEST(Export, OnlyIndexLeavesAPartialBundle) {
  const std::string d = fresh_dir("only");
  ExportOptions o = golden_export(d);
  o.only_index = 3;
  auto r = run_export(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, "partial");
  auto b = load_bundle(d);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("partial"), std::string::npos);
}

TEST(Export, Bf16BundleStoresBf16) {
  const std::string d = fresh_dir("bf16");
  auto r = run_export(golden_export(d, "bf16"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto b = load_bundle(d);
  ASSERT_TRUE(b.ok()) << b.status().message();
  for (const auto& t : b->tensors) {
    EXPECT_EQ(t.tensor->dtype, DType::kBF16);
    EXPECT_EQ(t.entry.type, "{:bf, 16}");
  }
}

TEST(Export, WrongLengthVectorFailsBeforeWriting) {
  const std::string d = fresh_dir("badvec");
  const std::string v = ::testing::TempDir() + "/bad_vector_" + std::to_string(::getpid()) + ".npy";
  std::vector<float> x(600, 0.0f);
  ASSERT_TRUE(write_npy_f32(v, x.data(), {600}).ok());
  ExportOptions o = golden_export(d);
  o.vector = v;
  auto r = run_export(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "router vector size mismatch: expected 592, got 600");
  EXPECT_FALSE(fs::exists(d));
}

TEST(Export, OptionErrorsNameTheProblem) {
  const std::string d = fresh_dir("opts");
  ExportOptions o = golden_export(d);
  o.force = o.resume = true;
  EXPECT_EQ(run_export(o).status().message(), "--force and --resume exclude each other");
  o = golden_export(d);
  o.layer = 99;
  EXPECT_EQ(run_export(o).status().message(), "--layer 99 is out of range: the model has 4 layers");
  o = golden_export(d);
  o.only_index = 10;
  EXPECT_EQ(run_export(o).status().message(), "--only-index must be 1..9");
  o = golden_export(d);
  o.resume = true;
  auto missing = run_export(o);
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(missing.status().message(), d + ": nothing to resume (the directory does not exist)");
  ASSERT_TRUE(write_file_atomic(d, "a file").ok());
  EXPECT_EQ(run_export(golden_export(d)).status().message(), d + " exists and is not a directory");
  EXPECT_FALSE(fs::exists(d + "/" + kManifestFile));
}

TEST(Export, ResumeRefusesAnotherBaseAndForceStartsOver) {
  const std::string d = copy_bundle("other_base");
  ExportOptions o = golden_export(d, "bf16");
  o.resume = true;
  auto r = run_export(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kMismatch);
  EXPECT_EQ(r.status().message(), d + "/" + kManifestFile +
                                      ": the bundle was exported from base '" + kGolden +
                                      "/model_f32' layer 2; use --force to start over");
  ASSERT_TRUE(write_file_atomic(d + "/stray.txt", "kept").ok());
  o.resume = false;
  o.force = true;
  auto f = run_export(o);
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->status, "complete");
  for (const auto& t : f->tensors) EXPECT_EQ(t.action, "computed");
  EXPECT_TRUE(fs::exists(d + "/stray.txt"));  // --force clears only what an export writes
  auto b = load_bundle(d);
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->tensors[0].tensor->dtype, DType::kBF16);
}

TEST(Export, CancelLeavesAPartialManifestToResume) {
  const std::string d = fresh_dir("cancel");
  std::atomic<bool> stop{true};
  ExportOptions o = golden_export(d);
  o.cancel = &stop;
  auto r = run_export(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kCancelled);
  EXPECT_EQ(r.status().message(),
            "export interrupted; the manifest says 'partial'; rerun with --resume to finish");
  auto text = read_file(d + "/" + kManifestFile);
  ASSERT_TRUE(text.ok());
  auto m = parse_manifest(*text, "manifest");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->status, "partial");
  EXPECT_FALSE(m->export_complete);
  EXPECT_TRUE(fs::exists(d + "/" + kRouterHeadFile));
  stop = false;
  o.resume = true;
  auto resumed = run_export(o);
  ASSERT_TRUE(resumed.ok()) << resumed.status().message();
  EXPECT_EQ(resumed->status, "complete");
}

}  // namespace
}  // namespace trinity
