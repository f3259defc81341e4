// trinity tokenize: text -> Qwen3 token ids (exact Hugging Face `tokenizers` behaviour).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli_common.h"
#include "cli_paths.h"
#include "core/json.h"
#include "tokenizer/binary_form.h"
#include "tokenizer/tokenizer.h"

namespace trinity::cli {

namespace {

struct Options {
  std::string tokenizer;
  std::string text;
  std::string batch;
  bool tokens = false;
  bool decode = false;
  CacheConfig cache;
};

constexpr const char* kDescription =
    "Tokenize text with a byte-level BPE tokenizer.json (Qwen3). Special tokens written in the "
    "text are recognized; no special tokens are added.\n"
    "Output with --text (each item on its own line, all JSON):\n"
    "  line 1: the ids, e.g. [872,25,659]\n"
    "  with --tokens: next line, the vocabulary strings of the ids, e.g. [\"user\",\":\",\"Ġ.\"]\n"
    "  with --decode: next line, the decoded text as a JSON string, e.g. \"user: .\"\n"
    "Output with --batch FILE (FILE: a JSON array of strings): one line, a JSON array of arrays\n"
    "of ids in input order. Invalid UTF-8, a missing/malformed file or a non-string element\n"
    "is an error (exit code 2).";

std::string dump(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

int run(const Options& o, bool batch_mode) {
  const std::string cmd = "tokenize";
  auto dir = resolve_tokenizer_dir(o.tokenizer);
  if (!dir.ok()) return report_error(cmd, dir.status());
  const DiskCache cache(o.cache);
  auto loaded = tok::load_tokenizer_cached(*dir, &cache);
  if (!loaded.ok()) return report_error(cmd, loaded.status());
  const tok::Tokenizer& t = **loaded;

  if (batch_mode) {
    if (o.tokens || o.decode) {
      return report_error(cmd, invalid_argument("--tokens and --decode apply to --text only"));
    }
    auto doc = load_json_file(o.batch);
    if (!doc.ok()) return report_error(cmd, doc.status());
    if (!doc->is_array()) {
      return report_error(cmd, parse_error(o.batch + ": expected a JSON array of strings"));
    }
    Json out = Json::array();
    for (size_t i = 0; i < doc->size(); ++i) {
      const Json& e = (*doc)[i];
      if (!e.is_string()) {
        return report_error(cmd, invalid_argument(o.batch + ": element " + std::to_string(i) +
                                                  " is not a string (" + e.type_name() + ")"));
      }
      auto ids = t.encode(e.get_ref<const std::string&>());
      if (!ids.ok()) {
        return report_error(cmd,
                            ids.status().with_context(o.batch + ": element " + std::to_string(i)));
      }
      out.push_back(*ids);
    }
    std::printf("%s\n", dump(out).c_str());
    return kExitOk;
  }

  auto ids = t.encode(o.text);
  if (!ids.ok()) return report_error(cmd, ids.status().with_context("--text"));
  std::printf("%s\n", dump(Json(*ids)).c_str());
  if (o.tokens) {
    Json toks = Json::array();
    for (int32_t id : *ids) toks.push_back(t.id_to_token(id));
    std::printf("%s\n", dump(toks).c_str());
  }
  if (o.decode) std::printf("%s\n", dump(Json(t.decode(*ids))).c_str());
  return kExitOk;
}

}  // namespace

void register_tokenize(CLI::App& app, CommandRegistry& reg) {
  auto o = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("tokenize", kDescription);
  sub->add_option("--tokenizer", o->tokenizer,
                  "Directory containing tokenizer.json, or the tokenizer.json file (default: "
                  "$TRINITY_TOKENIZER_DIR, then ./.cache/qwen3-tokenizer)");
  CLI::Option* text = sub->add_option("--text", o->text, "The text to tokenize");
  CLI::Option* batch =
      sub->add_option("--batch", o->batch, "JSON file holding an array of strings to tokenize");
  text->excludes(batch);
  sub->add_flag("--tokens", o->tokens, "With --text: also print the token strings (JSON array)");
  sub->add_flag("--decode", o->decode, "With --text: also print the decoded text (JSON string)");
  add_cache_options(sub, o->cache);
  reg.add(sub, [o, text, batch] {
    if (text->count() == 0 && batch->count() == 0) {
      return report_error("tokenize", invalid_argument("one of --text or --batch is required"));
    }
    return run(*o, batch->count() > 0);
  });
}

}  // namespace trinity::cli
