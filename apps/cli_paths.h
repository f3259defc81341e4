// Locating the Qwen3 tokenizer files when a command is not given --tokenizer.
#pragma once

#include <string>

#include "core/status.h"

namespace trinity::cli {

// --tokenizer if given; else $TRINITY_TOKENIZER_DIR; else ./.cache/qwen3-tokenizer; else the
// project's .cache/qwen3-tokenizer (where scripts/setup.sh extracts it).
Result<std::string> resolve_tokenizer_dir(const std::string& flag);

}  // namespace trinity::cli
