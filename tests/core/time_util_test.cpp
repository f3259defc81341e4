#include "core/time_util.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

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

// Every digit replaced by '9' (std::regex trips GCC 12's -Wmaybe-uninitialized under ASan).
std::string shape(std::string s) {
  for (char& c : s)
    if (std::isdigit(static_cast<unsigned char>(c))) c = '9';
  return s;
}

TEST(TimeUtil, NowHasTheShape) {
  EXPECT_EQ(shape(utc_now()), "9999-99-99T99:99:99Z");
  EXPECT_EQ(shape(utc_now(UtcFormat::kIso8601Micros)), "9999-99-99T99:99:99.999999Z");
  EXPECT_EQ(shape(utc_now(UtcFormat::kCompact)), "99999999T999999Z");
}

}  // namespace
}  // namespace trinity
