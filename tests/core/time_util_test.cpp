#include "core/time_util.h"

#include <gtest/gtest.h>

#include <regex>

namespace trinity {
namespace {

constexpr int64_t kSample = 1735787045123456;  // 2025-01-02 03:04:05.123456 UTC

TEST(TimeUtil, FormatsEachVariant) {
  EXPECT_EQ(format_utc(kSample, UtcFormat::kIso8601), "2025-01-02T03:04:05Z");
  EXPECT_EQ(format_utc(kSample, UtcFormat::kIso8601Micros), "2025-01-02T03:04:05.123456Z");
  EXPECT_EQ(format_utc(kSample, UtcFormat::kCompact), "20250102T030405Z");
  EXPECT_EQ(format_utc(0, UtcFormat::kIso8601Micros), "1970-01-01T00:00:00.000000Z");
}

TEST(TimeUtil, TruncatesTowardsThePast) {
  EXPECT_EQ(format_utc(kSample + 999999 - 123456, UtcFormat::kIso8601), "2025-01-02T03:04:05Z");
  EXPECT_EQ(format_utc(-500000, UtcFormat::kIso8601Micros), "1969-12-31T23:59:59.500000Z");
}

TEST(TimeUtil, NowHasTheShape) {
  EXPECT_TRUE(std::regex_match(utc_now(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
  EXPECT_TRUE(std::regex_match(utc_now(UtcFormat::kIso8601Micros),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)")));
  EXPECT_TRUE(std::regex_match(utc_now(UtcFormat::kCompact), std::regex(R"(\d{8}T\d{6}Z)")));
}

}  // namespace
}  // namespace trinity
