// Bundles in the Elixir reference's form: type names in both spellings, a manifest with only the
// reference's keys and values (both layouts) loading to the same weights as trinity's own, null
// sha256 values verified-as-absent with a warning, and trinity's own export passing the
// reference loader's rules.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "adapt/bundle.h"
#include "adapt/export.h"
#include "common/reference_bundle.h"
#include "core/file_util.h"

namespace trinity {
namespace {

namespace fs = std::filesystem;
const std::string kGolden = std::string(TRINITY_TEST_DATA_DIR) + "/golden";

std::string fresh_dir(const std::string& name) {
  const std::string d =
      ::testing::TempDir() + "/trinity_refbundle_" + std::to_string(::getpid()) + "_" + name;
  fs::remove_all(d);
  return d;
}

const std::string& exported(const std::string& variant) {
  static std::map<std::string, std::string> dirs;
  auto it = dirs.find(variant);
  if (it != dirs.end()) return it->second;
  const std::string d = fresh_dir("own_" + variant);
  ExportOptions o;
  o.base = kGolden + "/model_" + variant;
  o.vector = kGolden + "/router_vector.npy";
  o.out = d;
  auto r = run_export(o);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return dirs.emplace(variant, d).first->second;
}

void expect_same_weights(const Bundle& a, const Bundle& b, const std::string& variant) {
  ASSERT_EQ(a.head, b.head);
  auto wa = load_qwen3_weights(kGolden + "/model_" + variant);
  auto wb = load_qwen3_weights(kGolden + "/model_" + variant);
  ASSERT_TRUE(wa.ok() && wb.ok());
  ASSERT_TRUE(apply_bundle(**wa, a).ok());
  auto applied = apply_bundle(**wb, b);
  ASSERT_TRUE(applied.ok()) << applied.message();
  const auto sa = (*wa)->slots(), sb = (*wb)->slots();
  ASSERT_EQ(sa.size(), sb.size());
  for (size_t i = 0; i < sa.size(); ++i) {
    const Weight& x = *sa[i].weight;
    const Weight& y = *sb[i].weight;
    ASSERT_EQ(x.shape, y.shape) << sa[i].hf_name;
    ASSERT_EQ(x.dtype, y.dtype) << sa[i].hf_name;
    EXPECT_EQ(std::memcmp(x.data, y.data, static_cast<size_t>(x.numel()) * dtype_size(x.dtype)), 0)
        << sa[i].hf_name;
  }
}

TEST(NxTypes, BothSpellingsReadReferenceSpellingWritten) {
  for (const auto& [name, want] :
       std::vector<std::pair<std::string, DType>>{{"{:bf, 16}", DType::kBF16},
                                                  {"{:f, 32}", DType::kF32},
                                                  {"{:f, 16}", DType::kF16},
                                                  {"{:f, 64}", DType::kF64},
                                                  {"{:bf,16}", DType::kBF16},
                                                  {"bf16", DType::kBF16},
                                                  {"f32", DType::kF32},
                                                  {"f16", DType::kF16}}) {
    auto got = dtype_from_nx_type(name);
    ASSERT_TRUE(got.has_value()) << name;
    EXPECT_EQ(*got, want) << name;
  }
  for (const char* bad : {"", "{:s, 8}", "bf", "{:bf, 16", "BF16", "{:f, 32}x"})
    EXPECT_FALSE(dtype_from_nx_type(bad).has_value()) << bad;
  EXPECT_STREQ(nx_type_name(DType::kBF16), "{:bf, 16}");
  EXPECT_STREQ(nx_type_name(DType::kF32), "{:f, 32}");
  EXPECT_STREQ(nx_type_name(DType::kF16), "{:f, 16}");
}

TEST(LayerFromPath, DecoderBlocksOnly) {
  EXPECT_EQ(layer_from_bundle_path("decoder.blocks.26.ffn.gate.kernel"), 26);
  EXPECT_EQ(layer_from_bundle_path("decoder.blocks.0.self_attention.query.kernel"), 0);
  EXPECT_FALSE(layer_from_bundle_path("embedder.token_embedding.kernel").has_value());
  EXPECT_FALSE(layer_from_bundle_path("decoder.blocks.x.ffn").has_value());
  EXPECT_FALSE(layer_from_bundle_path("decoder.blocks.12").has_value());
}

TEST(ReferenceLoaderRules, TrinityExportsPass) {
  for (const char* variant : {"f32", "bf16"})
    EXPECT_EQ(testing::reference_loader_verdict(exported(variant)), "") << variant;
}

TEST(ReferenceLoaderRules, TheCheckCanFail) {
  // The short spelling trinity wrote before is what the reference loader rejects.
  const std::string d = fresh_dir("short_types");
  fs::copy(exported("bf16"), d, fs::copy_options::recursive);
  auto j = *load_json_file(d + "/manifest.json");
  j["selected_tensors"][0]["type"] = "bf16";
  ASSERT_TRUE(write_file_atomic(d + "/manifest.json", j.dump()).ok());
  EXPECT_NE(testing::reference_loader_verdict(d).find("type mismatch"), std::string::npos);
  j["selected_tensors"][0]["type"] = "{:bf, 16}";
  j["source_vector_tensor"] = nullptr;  // null counts as missing for the reference
  ASSERT_TRUE(write_file_atomic(d + "/manifest.json", j.dump()).ok());
  EXPECT_EQ(testing::reference_loader_verdict(d), "missing_manifest_key source_vector_tensor");
}

TEST(ReferenceForm, CheckpointDirectoryLoadsIdentically) {
  for (const char* variant : {"f32", "bf16"}) {
    const std::string d = fresh_dir(std::string("ref_dir_") + variant);
    ASSERT_TRUE(testing::make_reference_bundle(exported(variant), d).ok());
    EXPECT_EQ(testing::reference_loader_verdict(d), "");
    auto ref = load_bundle(d);
    ASSERT_TRUE(ref.ok()) << ref.status().message();
    EXPECT_TRUE(ref->warnings.empty());
    EXPECT_EQ(ref->manifest.layer, 2);  // no `layer` key: from the entry paths
    EXPECT_EQ(ref->manifest.base_model_repo, "Qwen/Qwen3-0.6B");
    EXPECT_FALSE(ref->manifest.selected_tensors[3].reconstruct_elapsed_ms.has_value());
    EXPECT_EQ(*ref->manifest.selected_tensors[0].decompose_elapsed_ms, 1200);
    auto own = load_bundle(exported(variant));
    ASSERT_TRUE(own.ok());
    expect_same_weights(*own, *ref, variant);
  }
}

TEST(ReferenceForm, SingleFileLoadsIdenticallyAndChecksItsSha) {
  const std::string d = fresh_dir("ref_single");
  ASSERT_TRUE(testing::make_reference_bundle(exported("bf16"), d, "single_file").ok());
  auto ref = load_bundle(d);
  ASSERT_TRUE(ref.ok()) << ref.status().message();
  EXPECT_EQ(ref->tensors.size(), 9u);
  EXPECT_EQ(ref->tensors[0].file, ref->tensors[8].file);  // one shared file
  auto own = load_bundle(exported("bf16"));
  ASSERT_TRUE(own.ok());
  expect_same_weights(*own, *ref, "bf16");

  auto j = *load_json_file(d + "/manifest.json");
  j["adapted_tensors_sha256"] = std::string(64, 'a');
  ASSERT_TRUE(write_file_atomic(d + "/manifest.json", j.dump()).ok());
  auto bad = load_bundle(d);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("adapted_tensors.safetensors"), std::string::npos);
  EXPECT_NE(bad.status().message().find("sha256 mismatch"), std::string::npos);

  j.erase("adapted_tensors_sha256");
  j["selected_tensors"][4]["artifact_key"] = "no.such.tensor";
  ASSERT_TRUE(write_file_atomic(d + "/manifest.json", j.dump()).ok());
  auto missing = load_bundle(d);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("'no.such.tensor' is missing"), std::string::npos);
}

TEST(ReferenceForm, NullShaIsVerifiedAsAbsentWithAWarning) {
  const std::string d = fresh_dir("null_sha");
  ASSERT_TRUE(testing::make_reference_bundle(exported("f32"), d).ok());
  auto j = *load_json_file(d + "/manifest.json");
  j["selected_tensors"][2]["checkpoint_sha256"] = nullptr;
  j.erase("router_head_sha256");
  ASSERT_TRUE(write_file_atomic(d + "/manifest.json", j.dump()).ok());
  auto b = load_bundle(d);
  ASSERT_TRUE(b.ok()) << b.status().message();
  ASSERT_EQ(b->warnings.size(), 2u);
  EXPECT_NE(b->warnings[0].find("0003_decoder.blocks.2.self_attention.key.kernel"),
            std::string::npos);
  EXPECT_NE(b->warnings[0].find("checkpoint_sha256 is null"), std::string::npos);
  EXPECT_NE(b->warnings[1].find("router_head_sha256 is null"), std::string::npos);
  // The shape and type are still checked without a sha256.
  j["selected_tensors"][2]["type"] = "{:bf, 16}";
  ASSERT_TRUE(write_file_atomic(d + "/manifest.json", j.dump()).ok());
  auto wrong = load_bundle(d);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("manifest type is '{:bf, 16}'"), std::string::npos);
}

TEST(ReferenceForm, FileNamesMustStayInsideTheBundle) {
  const std::string d = fresh_dir("escape");
  ASSERT_TRUE(testing::make_reference_bundle(exported("f32"), d).ok());
  const Json good = *load_json_file(d + "/manifest.json");
  for (const char* bad : {"../outside.safetensors", "/etc/passwd", "", "checkpoints/../../x"}) {
    Json j = good;
    j["selected_tensors"][1]["checkpoint_path"] = bad;
    ASSERT_TRUE(write_file_atomic(d + "/manifest.json", j.dump()).ok());
    auto b = load_bundle(d);
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_NE(b.status().message().find("must be relative"), std::string::npos)
        << b.status().message();
    j = good;
    j["router_head_artifact"] = bad;
    ASSERT_TRUE(write_file_atomic(d + "/manifest.json", j.dump()).ok());
    b = load_bundle(d);
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_NE(b.status().message().find("router_head_artifact must stay inside"), std::string::npos)
        << b.status().message();
    j = good;
    j["artifact_layout"] = "single_file";
    j["adapted_tensors_artifact"] = bad;
    ASSERT_TRUE(write_file_atomic(d + "/manifest.json", j.dump()).ok());
    b = load_bundle(d);
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_NE(b.status().message().find("adapted_tensors_artifact must stay inside"),
              std::string::npos)
        << b.status().message();
  }
}

TEST(ReferenceForm, UnknownLayoutIsAClearError) {
  const std::string d = fresh_dir("layout");
  ASSERT_TRUE(testing::make_reference_bundle(exported("f32"), d).ok());
  auto j = *load_json_file(d + "/manifest.json");
  j["artifact_layout"] = "zip";
  ASSERT_TRUE(write_file_atomic(d + "/manifest.json", j.dump()).ok());
  auto b = load_bundle(d);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("artifact_layout 'zip'"), std::string::npos);
}

TEST(Export, ResumeUpgradesAnOlderBundlesShortTypeNames) {
  const std::string d = fresh_dir("old_names");
  fs::copy(exported("bf16"), d, fs::copy_options::recursive);
  auto j = *load_json_file(d + "/manifest.json");
  for (auto& e : j["selected_tensors"]) e["type"] = e["source_type"] = "bf16";
  j["status"] = "partial";
  ASSERT_TRUE(write_file_atomic(d + "/manifest.json", j.dump(2)).ok());
  ExportOptions o;
  o.base = kGolden + "/model_bf16";
  o.vector = kGolden + "/router_vector.npy";
  o.out = d;
  o.resume = true;
  auto r = run_export(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  for (const auto& t : r->tensors) EXPECT_EQ(t.action, "kept") << t.path;
  EXPECT_EQ(testing::reference_loader_verdict(d), "");
}

}  // namespace
}  // namespace trinity
