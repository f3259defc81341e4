// libFuzzer: the Python exporter's manifest (trinity_sakana_export_manifest.json, read by
// `trinity import python`) must never crash; an accepted manifest's entries tile its offsets.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "adapt/python_import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto json = trinity::parse_json(text, "fuzz/manifest.json");
  if (!json.ok()) return 0;
  auto m = trinity::parse_python_manifest(*json, "fuzz/manifest.json");
  if (!m.ok()) return 0;
  int64_t next = 0;
  for (const auto& e : m->entries) {
    if (e.offset_start != next || e.offset_end - e.offset_start != e.num_singular_values)
      std::abort();
    next = e.offset_end;
  }
  if (next != m->offset_count || m->rows != 10) std::abort();
  return 0;
}
