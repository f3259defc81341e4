// The ETF writer's primitives, against what :erlang.term_to_binary/1 emits.
#include "router/etf.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace trinity {
namespace {

std::vector<int> bytes(const std::string& s) {
  std::vector<int> out;
  for (char c : s) out.push_back(static_cast<uint8_t>(c));
  return out;
}

std::vector<int> integer(int64_t v) {
  std::string out;
  etf::put_version(out);
  etf::put_integer(out, v);
  return bytes(out);
}

TEST(Etf, IntegersUseSmallIntegerThenIntegerThenSmallBig) {
  EXPECT_EQ(integer(0), (std::vector<int>{131, 97, 0}));
  EXPECT_EQ(integer(255), (std::vector<int>{131, 97, 255}));
  EXPECT_EQ(integer(256), (std::vector<int>{131, 98, 0, 0, 1, 0}));
  EXPECT_EQ(integer(-1), (std::vector<int>{131, 98, 255, 255, 255, 255}));
  EXPECT_EQ(integer(INT32_MAX), (std::vector<int>{131, 98, 127, 255, 255, 255}));
  EXPECT_EQ(integer(INT32_MIN), (std::vector<int>{131, 98, 128, 0, 0, 0}));
  EXPECT_EQ(integer(int64_t{INT32_MAX} + 1), (std::vector<int>{131, 110, 4, 0, 0, 0, 0, 128}));
  EXPECT_EQ(integer(int64_t{INT32_MIN} - 1), (std::vector<int>{131, 110, 4, 1, 1, 0, 0, 128}));
  EXPECT_EQ(integer(INT64_MIN), (std::vector<int>{131, 110, 8, 1, 0, 0, 0, 0, 0, 0, 0, 128}));

  std::string out;
  etf::put_unsigned_integer(out, UINT64_MAX);
  EXPECT_EQ(bytes(out), (std::vector<int>{110, 8, 0, 255, 255, 255, 255, 255, 255, 255, 255}));
}

TEST(Etf, TermsAndHeaders) {
  std::string out;
  etf::put_version(out);
  etf::put_list_header(out, 0);  // [] is NIL alone
  etf::put_nil(out);
  EXPECT_EQ(bytes(out), (std::vector<int>{131, 106}));

  out.clear();
  etf::put_list_header(out, 2);
  etf::put_small_tuple_header(out, 2);
  etf::put_map_header(out, 1);
  EXPECT_EQ(bytes(out), (std::vector<int>{108, 0, 0, 0, 2, 104, 2, 116, 0, 0, 0, 1}));

  out.clear();
  etf::put_float(out, 1.0);
  etf::put_binary(out, "ab");
  etf::put_atom(out, "ok");
  EXPECT_EQ(bytes(out), (std::vector<int>{70, 63, 240, 0, 0,  0,  0,   0, 0,   109,
                                          0,  0,  0,   2, 97, 98, 119, 2, 111, 107}));

  out.clear();
  etf::put_compressed_header(out, 300);
  EXPECT_EQ(bytes(out), (std::vector<int>{131, 80, 0, 0, 1, 44}));
}

}  // namespace
}  // namespace trinity
