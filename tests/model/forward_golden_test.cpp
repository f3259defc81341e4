// Golden test: the reference forward against an independent float64 implementation
// (tests/data/golden, see its README). Tolerance: relative L2 error per row <= 1e-5 — f32
// activations through 4 layers accumulate ~1e-7..1e-6 of rounding error; the golden README
// measures ~4e-7 for an f32 implementation. The bf16 model uses the stored bf16 weights
// exactly, so the same tolerance applies.
#include <gtest/gtest.h>

#include <cmath>

#include "core/json.h"
#include "io/npy.h"
#include "model/cpu_test_util.h"
#include "model/forward.h"

namespace trinity {
namespace {

const std::string kGolden = std::string(TRINITY_TEST_DATA_DIR) + "/golden";

using testing_cpu::max_row_rel_l2;

class ForwardGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(ForwardGolden, MatchesFloat64Reference) {
  const std::string dtype = GetParam();
  auto w = load_qwen3_weights(kGolden + "/model_" + dtype);
  ASSERT_TRUE(w.ok()) << w.status().message();
  auto ids_json = load_json_file(kGolden + "/forward/ids.json");
  ASSERT_TRUE(ids_json.ok());
  int cases = 0;
  for (auto it = ids_json->begin(); it != ids_json->end(); ++it) {
    std::vector<int32_t> ids = it.value().get<std::vector<int32_t>>();
    auto want = read_npy(kGolden + "/forward/" + dtype + "/" + it.key() + ".npy");
    ASSERT_TRUE(want.ok()) << want.status().message();
    const int64_t D = (*w)->config.hidden_size;
    ASSERT_EQ(want->shape, (std::vector<int64_t>{static_cast<int64_t>(ids.size()), D}));
    std::vector<float> got(ids.size() * D);
    ASSERT_TRUE(forward_reference(**w, ids, got.data()).ok());
    const std::vector<float> ref = want->to_f32();
    EXPECT_LE(max_row_rel_l2(got.data(), ref.data(), static_cast<int64_t>(ids.size()), D), 1e-5)
        << it.key();
    ++cases;
  }
  EXPECT_EQ(cases, 7);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, ForwardGolden, ::testing::Values("f32", "bf16"));

TEST(Forward, CausalityAppendingTokensKeepsEarlierRows) {
  auto w = load_qwen3_weights(kGolden + "/model_f32");
  ASSERT_TRUE(w.ok());
  const int64_t D = (*w)->config.hidden_size;
  std::vector<int32_t> a = {872, 25, 3555, 374, 220};
  std::vector<int32_t> b = a;
  b.insert(b.end(), {21, 353, 151645, 9});
  std::vector<float> ya(a.size() * D), yb(b.size() * D);
  ASSERT_TRUE(forward_reference(**w, a, ya.data()).ok());
  ASSERT_TRUE(forward_reference(**w, b, yb.data()).ok());
  for (size_t i = 0; i < ya.size(); ++i) ASSERT_EQ(ya[i], yb[i]) << "element " << i;
}

TEST(Forward, RejectsOutOfRangeIds) {
  auto w = load_qwen3_weights(kGolden + "/model_f32");
  ASSERT_TRUE(w.ok());
  std::vector<int32_t> ids = {1, 151936};
  std::vector<float> y(2 * 32);
  Status st = forward_reference(**w, ids, y.data());
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("151936"), std::string::npos);
  EXPECT_NE(st.message().find("position 1"), std::string::npos);
}

TEST(Forward, DumpHookNamesEveryIntermediate) {
  auto w = load_qwen3_weights(kGolden + "/model_f32");
  ASSERT_TRUE(w.ok());
  std::vector<std::string> names;
  DumpHook hook = [&](const std::string& name, int layer, const float*, int64_t rows, int64_t) {
    names.push_back(name + "@" + std::to_string(layer));
    EXPECT_EQ(rows, 3);
  };
  std::vector<int32_t> ids = {1, 2, 3};
  std::vector<float> y(3 * 32);
  ASSERT_TRUE(forward_reference(**w, ids, y.data(), &hook).ok());
  EXPECT_EQ(names.front(), "embed@-1");
  EXPECT_EQ(names.back(), "final_norm@-1");
  EXPECT_NE(std::find(names.begin(), names.end(), "q_rope@3"), names.end());
}

}  // namespace
}  // namespace trinity
