// Tokenizer throughput: encodes a deterministic >= 10 MB mixed corpus (English prose, indented
// source code, CJK, emoji, numbers) single-threaded and prints one JSON object:
//   {corpus_bytes, documents, runs, median_s, mb_per_s, tokens_per_s, tokens, cold_s, ...}
// MB = 10^6 bytes. median_s is the median wall time of `--runs` timed passes (>= 5) after one
// cold pass (reported as cold_s / cold_mb_per_s: pre-token cache empty at its start);
// median_cpu_s / cpu_mb_per_s use the thread's CPU time instead (robust on a busy machine).
//
// Usage: bench_tokenizer [--tokenizer DIR] [--runs N] [--mb N]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "core/json.h"
#include "tokenizer/tokenizer.h"

namespace {

// splitmix64: deterministic on every platform (std distributions are not).
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
  template <typename T, size_t N>
  const T& pick(const T (&a)[N]) {
    return a[below(N)];
  }
};

const char* const kWords[] = {"the",          "of",
                              "and",          "to",
                              "in",           "a",
                              "is",           "that",
                              "for",          "it",
                              "as",           "was",
                              "with",         "be",
                              "by",           "on",
                              "not",          "he",
                              "this",         "are",
                              "or",           "his",
                              "from",         "at",
                              "which",        "but",
                              "have",         "an",
                              "had",          "they",
                              "you",          "were",
                              "their",        "one",
                              "all",          "we",
                              "can",          "her",
                              "has",          "there",
                              "been",         "if",
                              "more",         "when",
                              "will",         "would",
                              "who",          "so",
                              "no",           "model",
                              "router",       "language",
                              "system",       "network",
                              "question",     "answer",
                              "between",      "government",
                              "important",    "development",
                              "information",  "understanding",
                              "particularly", "nevertheless",
                              "tokenizer",    "approximately",
                              "mountain",     "river",
                              "history",      "science",
                              "journey",      "morning",
                              "evening",      "people",
                              "children",     "library",
                              "computer",     "algorithm",
                              "probability",  "distribution",
                              "coordination", "verification",
                              "reasoning",    "thinking",
                              "worker",       "agent",
                              "benchmark",    "beautiful",
                              "quickly",      "carefully",
                              "although",     "because",
                              "however",      "therefore",
                              "Zürich",       "café",
                              "naïve",        "résumé",
                              "São",          "Paulo",
                              "Kraków",       "Ελλάδα",
                              "Москва"};
const char* const kContractions[] = {"don't",  "it's",  "we're", "they've", "I'm",
                                     "you'll", "she'd", "can't", "won't",   "isn't"};
const char* const kPunct[] = {".", ".", ".", "!", "?", ";", ":", ",", " -", "..."};

const char* const kIdents[] = {
    "value",  "result",       "index",      "count",   "buffer", "config",
    "tokens", "hidden_state", "kMaxSize",   "weights", "offset", "std::vector<int32_t>",
    "self",   "ctx",          "layer_norm", "i",       "j"};
const char* const kCodeLines[] = {"if ({a} < {b}) {{",
                                  "for (size_t {a} = 0; {a} < {b}.size(); ++{a}) {{",
                                  "return {a} + {b} * {n};",
                                  "{a} = {b}[{n}] - {n}.{n}f;",
                                  "}} else {{",
                                  "def {a}({b}, {a}={n}):",
                                  "    # TODO: handle the {a} case",
                                  "{a}.append({b})",
                                  "const auto& {a} = {b}->{a}();",
                                  "// {a}: {n} bytes",
                                  "while ({a} != nullptr) {{",
                                  "print(f\"{{{a}}} -> {{{b}}}\")",
                                  "}}",
                                  "{a} += {n};  /* {b} */"};

const char* const kCjk[] = {
    "的",         "一",         "是",       "不",     "了",     "人",        "我",   "在",   "有",
    "他",         "这",         "中",       "大",     "来",     "上",        "国",   "个",   "到",
    "说",         "们",         "为",       "子",     "和",     "你",        "地",   "出",   "道",
    "也",         "时",         "年",       "模型",   "语言",   "计算机",    "数据", "学习", "东京",
    "こんにちは", "ありがとう", "カタカナ", "日本語", "한국어", "안녕하세요"};
const char* const kCjkPunct[] = {"，", "。", "、", "！", "？", "：", "「", "」"};

const char* const kEmoji[] = {
    "😀",           "👍",  "👍🏽", "❤️", "🎉", "🚀", "👨‍👩‍👧‍👦",
    "🇺🇸",          "🇯🇵", "🤖",     "✅",      "🔥", "😂", "🙏🏻",
    "🧑‍💻", "⭐"};

std::string fill_template(Rng& r, const char* tmpl) {
  std::string out;
  for (const char* p = tmpl; *p; ++p) {
    if (p[0] == '{' && p[1] == '{') {
      out += '{';
      ++p;
    } else if (p[0] == '}' && p[1] == '}') {
      out += '}';
      ++p;
    } else if (p[0] == '{' && p[2] == '}') {
      if (p[1] == 'n') {
        out += std::to_string(r.below(1000));
      } else {
        out += r.pick(kIdents);
      }
      p += 2;
    } else {
      out += *p;
    }
  }
  return out;
}

std::string prose(Rng& r) {
  std::string s;
  size_t sentences = 3 + r.below(6);
  for (size_t k = 0; k < sentences; ++k) {
    size_t words = 5 + r.below(20);
    for (size_t w = 0; w < words; ++w) {
      std::string word = r.below(12) == 0 ? r.pick(kContractions) : r.pick(kWords);
      if (w == 0 && word[0] >= 'a' && word[0] <= 'z') word[0] = static_cast<char>(word[0] - 32);
      s += word;
      if (r.below(15) == 0) s += ",";
      if (w + 1 < words) s += ' ';
    }
    s += r.pick(kPunct);
    s += ' ';
  }
  s += "\n\n";
  return s;
}

std::string code(Rng& r) {
  std::string s;
  size_t lines = 5 + r.below(25);
  int depth = 0;
  for (size_t k = 0; k < lines; ++k) {
    std::string indent = r.below(5) == 0 ? std::string(static_cast<size_t>(depth), '\t')
                                         : std::string(static_cast<size_t>(depth) * 4, ' ');
    std::string line = fill_template(r, r.pick(kCodeLines));
    s += indent + line + "\n";
    if (!line.empty() && line.back() == '{') depth = std::min(depth + 1, 6);
    if (!line.empty() && line[0] == '}' && depth > 0) --depth;
  }
  s += "\n";
  return s;
}

std::string cjk(Rng& r) {
  std::string s;
  size_t n = 20 + r.below(80);
  for (size_t k = 0; k < n; ++k) {
    s += r.pick(kCjk);
    if (r.below(8) == 0) s += r.pick(kCjkPunct);
    if (r.below(30) == 0) s += std::to_string(r.below(2030));
  }
  s += "\n";
  return s;
}

std::string emoji(Rng& r) {
  std::string s;
  size_t n = 3 + r.below(12);
  for (size_t k = 0; k < n; ++k) {
    s += r.pick(kWords);
    s += ' ';
    size_t e = 1 + r.below(3);
    for (size_t j = 0; j < e; ++j) s += r.pick(kEmoji);
    s += ' ';
  }
  s += "\n";
  return s;
}

std::string numbers(Rng& r) {
  std::string s;
  size_t rows = 3 + r.below(10);
  for (size_t k = 0; k < rows; ++k) {
    s += std::to_string(2000 + r.below(30)) + "-" + std::to_string(1 + r.below(12)) + "-" +
         std::to_string(1 + r.below(28)) + " | " + std::to_string(r.below(100000)) + "." +
         std::to_string(r.below(100)) + " | " + std::to_string(r.below(1000000000)) + " | " +
         std::to_string(r.below(100)) + "% | $" + std::to_string(r.below(5000)) + ".99\n";
  }
  return s;
}

std::vector<std::string> make_corpus(size_t min_bytes, size_t* total) {
  Rng r{20240611};
  std::vector<std::string> docs;
  *total = 0;
  while (*total < min_bytes) {
    std::string doc;
    while (doc.size() < 4096) {
      size_t kind = r.below(100);
      if (kind < 45) {
        doc += prose(r);
      } else if (kind < 70) {
        doc += code(r);
      } else if (kind < 82) {
        doc += cjk(r);
      } else if (kind < 90) {
        doc += emoji(r);
      } else {
        doc += numbers(r);
      }
    }
    *total += doc.size();
    docs.push_back(std::move(doc));
  }
  return docs;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  int runs = 5;
  size_t mb = 10;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--tokenizer" && i + 1 < argc) {
      dir = argv[++i];
    } else if (a == "--runs" && i + 1 < argc) {
      runs = std::max(5, std::atoi(argv[++i]));
    } else if (a == "--mb" && i + 1 < argc) {
      mb = static_cast<size_t>(std::max(1, std::atoi(argv[++i])));
    } else {
      std::fprintf(stderr, "usage: bench_tokenizer [--tokenizer DIR] [--runs N>=5] [--mb N]\n");
      return 2;
    }
  }
  if (dir.empty()) {
    const char* env = std::getenv("TRINITY_TOKENIZER_DIR");
    dir = env && *env ? env : ".cache/qwen3-tokenizer";
  }
  auto loaded = trinity::tok::Tokenizer::load(dir);
  if (!loaded.ok()) {
    std::fprintf(stderr, "bench_tokenizer: %s\n", loaded.status().message().c_str());
    return 2;
  }
  const trinity::tok::Tokenizer& tok = **loaded;
  size_t total = 0;
  std::vector<std::string> docs = make_corpus(mb * 1024 * 1024, &total);

  std::vector<int32_t> ids;
  ids.reserve(1 << 16);
  auto thread_cpu = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  };
  double last_cpu = 0;
  auto pass = [&](size_t* tokens) -> double {
    double c0 = thread_cpu();
    auto t0 = std::chrono::steady_clock::now();
    size_t n = 0;
    for (const std::string& d : docs) {
      ids.clear();
      trinity::Status st = tok.encode_into(d, &ids);
      if (!st.ok()) {
        std::fprintf(stderr, "bench_tokenizer: %s\n", st.message().c_str());
        std::exit(1);
      }
      n += ids.size();
    }
    *tokens = n;
    last_cpu = thread_cpu() - c0;
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  size_t tokens = 0;
  double cold = pass(&tokens);
  std::vector<double> times, cpu;
  for (int i = 0; i < runs; ++i) {
    times.push_back(pass(&tokens));
    cpu.push_back(last_cpu);
  }
  auto median_of = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
  };
  double median = median_of(times);
  double median_cpu = median_of(cpu);
  std::sort(times.begin(), times.end());
  trinity::OrderedJson out;
  out["corpus_bytes"] = total;
  out["documents"] = docs.size();
  out["tokens"] = tokens;
  out["runs"] = runs;
  out["median_s"] = median;
  out["min_s"] = times.front();
  out["mb_per_s"] = static_cast<double>(total) / 1e6 / median;
  out["tokens_per_s"] = static_cast<double>(tokens) / median;
  out["median_cpu_s"] = median_cpu;  // thread CPU time: robust on a loaded machine
  out["cpu_mb_per_s"] = static_cast<double>(total) / 1e6 / median_cpu;
  out["cold_s"] = cold;
  out["cold_mb_per_s"] = static_cast<double>(total) / 1e6 / cold;
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
