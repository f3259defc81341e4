// The reflex threshold sweep on a crafted fitness file, scores computed by hand.
#include <gtest/gtest.h>

#include "train/fitness_dataset.h"
#include "train/fitness_test_util.h"
#include "train/reflex_calibration.h"

namespace trinity::train {
namespace {

Json example(Json agent, Json role, const char* status) {
  return {{"route", {{"agent_margin", agent}, {"role_margin", role}}},
          {"outcome", {{"verifier_status", status}}}};
}

// Floors 0.24 / 1.06. High thresholds: 2x 0.48 / 2.12, 4x 0.96 / 4.24, 8x 1.92 / 8.48; low:
// 0.5x 0.12 / 0.53, 1x 0.24 / 1.06.
std::vector<Json> crafted() {
  return {example(1.0, 5.0, "accepted"),      // E1: high at 2x and 4x
          example(2.0, 9.0, "accepted"),      // E2: high at every multiplier
          example(0.6, 3.0, "rejected"),      // E3: high at 2x only
          example(0.2, 2.0, "accepted"),      // E4: low at 1x (0.2 < 0.24)
          example(nullptr, 5.0, "accepted"),  // E5: missing
          example(0.18, 0.9, "revise")};      // E6: low at 1x, never high
}

TEST(ReflexCalibration, SweepScoresAndOrdersByHand) {
  auto r = sweep_thresholds(crafted(), CalibrationOptions{});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 6u);
  // (h, l): accepted_direct - 2 high_bad - 0.25 low_accepted - 0.5 missing
  // (4, 0.5): E1, E2 high accepted; E5 missing            -> 2 - 0.5        = 1.5
  // (4, 1):   + E4 low accepted                            -> 1.5 - 0.25     = 1.25
  // (8, 0.5): only E2 high                                 -> 1 - 0.5        = 0.5
  // (8, 1):                                                -> 0.5 - 0.25     = 0.25
  // (2, 0.5): E1, E2 high accepted, E3 high rejected       -> 2 - 2 - 0.5    = -0.5
  // (2, 1):                                                -> -0.5 - 0.25    = -0.75
  const double expected[6][3] = {{4, 0.5, 1.5}, {4, 1, 1.25},   {8, 0.5, 0.5},
                                 {8, 1, 0.25},  {2, 0.5, -0.5}, {2, 1, -0.75}};
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ((*r)[i].high_multiplier, expected[i][0]) << i;
    EXPECT_EQ((*r)[i].low_multiplier, expected[i][1]) << i;
    EXPECT_EQ((*r)[i].score, expected[i][2]) << i;
  }
  const CalibrationCandidate& worst = r->back();
  EXPECT_EQ(worst.accepted_direct, 2);
  EXPECT_EQ(worst.high_bad, 1);
  EXPECT_EQ(worst.low_accepted, 1);
  EXPECT_EQ(worst.insufficient_margin, 1);
  EXPECT_EQ(worst.class_counts.at("low"), 2);  // E4, E6
}

TEST(ReflexCalibration, ReportRecommendsTheBestAsFlags) {
  auto r = calibrate_reflex(crafted(), CalibrationOptions{}, "f.jsonl");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["schema_version"], "trinity.reflex.calibration_report.v1");
  EXPECT_EQ((*r)["status"], "ok");
  EXPECT_EQ((*r)["candidate_count"], 6);
  EXPECT_EQ((*r)["recommended_thresholds"]["high_multiplier"], 4.0);
  EXPECT_EQ((*r)["recommended_thresholds"]["low_multiplier"], 0.5);
  EXPECT_EQ((*r)["recommended_score"], 1.5);
  EXPECT_EQ((*r)["recommended_flags"],
            "--reflex-margin-mode profile_floor --reflex-high-agent-margin 0.96 "
            "--reflex-high-role-margin 4.24 --reflex-low-agent-margin 0.12 "
            "--reflex-low-role-margin 0.53");
  EXPECT_EQ((*r)["candidates"][0]["accepted_direct_count"], 2);
}

TEST(ReflexCalibration, TiesSortByMultipliers) {
  // No examples: every score is 0; order by high then low multiplier, ascending.
  CalibrationOptions o;
  o.high_multipliers = {8, 2, 4, 2};
  o.low_multipliers = {1, 0.5};
  auto r = calibrate_reflex({}, o, "empty.jsonl");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["status"], "insufficient_evidence");
  EXPECT_EQ((*r)["status_reason"], "no_examples_or_candidates");
  const Json& c = (*r)["candidates"];
  ASSERT_EQ(c.size(), 6u);  // the duplicate 2 is dropped
  EXPECT_EQ(c[0]["high_multiplier"], 2.0);
  EXPECT_EQ(c[0]["low_multiplier"], 0.5);
  EXPECT_EQ(c[1]["low_multiplier"], 1.0);
  EXPECT_EQ(c[5]["high_multiplier"], 8.0);
}

TEST(ReflexCalibration, AbsoluteModeAndBadMultipliers) {
  CalibrationOptions o;
  o.margin_mode = MarginMode::kAbsolute;
  // Absolute thresholds: high = h, low = l for both margins. E2 (2.0 / 9.0) is high at h = 2;
  // E1 (1.0 / 5.0) is medium at h = 2 (1.0 < 2), high at h = 1.
  EXPECT_EQ(classify_example(crafted()[1], o.margin_mode, 2, 0.5), "high");
  EXPECT_EQ(classify_example(crafted()[0], o.margin_mode, 2, 0.5), "medium");
  EXPECT_EQ(classify_example(crafted()[0], o.margin_mode, 1, 0.5), "high");
  EXPECT_EQ(classify_example(crafted()[5], o.margin_mode, 1, 0.5), "low");
  EXPECT_EQ(reflex_flags(o.margin_mode, thresholds_for(o.margin_mode, 2, 0.5)),
            "--reflex-margin-mode absolute --reflex-high-agent-margin 2 "
            "--reflex-high-role-margin 2 --reflex-low-agent-margin 0.5 "
            "--reflex-low-role-margin 0.5");
  o.high_multipliers = {2, -1};
  auto bad = sweep_thresholds(crafted(), o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("high multipliers"), std::string::npos);
}

TEST(ReflexCalibration, ReadsAnExportedFile) {
  const std::string dir = testing::temp_dir("calibrate_file");
  std::string text;
  for (const Json& e : crafted()) text += e.dump() + "\n";
  const auto path = testing::write_temp(dir, "f.jsonl", text);
  auto file = read_fitness_file(path, false);
  ASSERT_TRUE(file.ok());
  auto r = calibrate_reflex(fitness_records(*file), CalibrationOptions{}, path);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["record_count"], 6);
  EXPECT_EQ((*r)["recommended_score"], 1.5);
}

}  // namespace
}  // namespace trinity::train
