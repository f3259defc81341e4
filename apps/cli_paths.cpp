#include "cli_paths.h"

#include <cstdlib>

#include "core/file_util.h"

#ifndef TRINITY_PROJECT_DIR
#define TRINITY_PROJECT_DIR "."
#endif

namespace trinity::cli {

Result<std::string> resolve_tokenizer_dir(const std::string& flag) {
  auto has = [](const std::string& d) { return file_exists(join_path(d, "tokenizer.json")); };
  if (!flag.empty()) {
    if (!has(flag)) return not_found(flag + ": no tokenizer.json in this directory");
    return flag;
  }
  if (const char* env = std::getenv("TRINITY_TOKENIZER_DIR"); env && *env) {
    if (!has(env))
      return not_found(std::string(env) + " (TRINITY_TOKENIZER_DIR): no tokenizer.json");
    return std::string(env);
  }
  for (const std::string& d : {std::string(".cache/qwen3-tokenizer"),
                               std::string(TRINITY_PROJECT_DIR) + "/.cache/qwen3-tokenizer"}) {
    if (has(d)) return d;
  }
  return not_found(
      "no Qwen3 tokenizer found: pass --tokenizer DIR, set TRINITY_TOKENIZER_DIR, or run "
      "scripts/setup.sh (it extracts the tokenizer into .cache/qwen3-tokenizer)");
}

}  // namespace trinity::cli
