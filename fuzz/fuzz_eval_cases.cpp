// libFuzzer: the eval cases-file and snapshot parsers on arbitrary bytes must return a Status,
// never crash; whatever parses must serialize and parse back to the same text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "eval/cases.h"
#include "eval/snapshot.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto cases = trinity::eval::parse_cases(text, "fuzz_cases.json");
  if (cases.ok()) {
    const std::string once = trinity::eval::cases_to_text(*cases);
    auto again = trinity::eval::parse_cases(once, "fuzz_cases_again.json");
    if (!again.ok() || trinity::eval::cases_to_text(*again) != once) std::abort();
  }
  auto snap = trinity::eval::parse_snapshot(text, "fuzz_snapshot.json");
  if (snap.ok()) {
    const std::string once = trinity::eval::snapshot_to_text(*snap);
    auto again = trinity::eval::parse_snapshot(once, "fuzz_snapshot_again.json");
    if (!again.ok() || trinity::eval::snapshot_to_text(*again) != once) std::abort();
  }
  return 0;
}
