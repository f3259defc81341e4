#include "core/status.h"

#include <gtest/gtest.h>

namespace trinity {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return invalid_argument("value must be positive, got " + std::to_string(v));
  return v;
}

Status use(int v, int* out) {
  TRINITY_ASSIGN_OR_RETURN(*out, parse_positive(v));
  return ok_status();
}

TEST(Status, OkAndError) {
  EXPECT_TRUE(ok_status().ok());
  Status e = not_found("x.json");
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  EXPECT_EQ(e.with_context("loading").message(), "loading: x.json");
}

TEST(Status, AssignOrReturnPropagates) {
  int out = 0;
  EXPECT_TRUE(use(3, &out).ok());
  EXPECT_EQ(out, 3);
  Status st = use(-1, &out);
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("-1"), std::string::npos);
}

}  // namespace
}  // namespace trinity
