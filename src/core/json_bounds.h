// Bounds on the shape of untrusted JSON, checked by a streaming (SAX) pass before a document is
// built: a DOM costs ~50-130 bytes per value whatever the text's size, so a 1 MiB body of `{},`
// would become ~350k values and tens of MB. Checking first bounds parser memory by
// max_values x ~130 B + the text itself.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace trinity {

struct JsonBounds {
  int64_t max_values = 50000;  // scalars, arrays and objects (keys not counted)
  int max_depth = 512;         // nesting of arrays/objects
};

// OK when `text` stays within the bounds, or is not valid JSON at all (the real parse reports
// that with its position). Otherwise kInvalidArgument naming `what` and the bound exceeded.
Status check_json_bounds(std::string_view text, const JsonBounds& bounds, const std::string& what);

}  // namespace trinity
