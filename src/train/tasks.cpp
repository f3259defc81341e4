#include "train/tasks.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>

#include "coord/skills.h"
#include "core/file_util.h"

namespace trinity::train {

const char* check_kind_name(CheckKind k) {
  switch (k) {
    case CheckKind::kExact:
      return "exact";
    case CheckKind::kNumber:
      return "number";
    case CheckKind::kContains:
      return "contains";
    case CheckKind::kRegex:
      return "regex";
    case CheckKind::kChoice:
      return "choice";
  }
  return "?";
}

struct Checker::Regex {
  pcre2_code* code = nullptr;
  ~Regex() { pcre2_code_free(code); }
};

namespace {

std::string trim_ws(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Result<CheckKind> parse_kind(const std::string& s, const std::string& what) {
  for (CheckKind k : {CheckKind::kExact, CheckKind::kNumber, CheckKind::kContains,
                      CheckKind::kRegex, CheckKind::kChoice})
    if (s == check_kind_name(k)) return k;
  return invalid_argument(what + ": unknown checker '" + s +
                          "' (exact, number, contains, regex, choice)");
}

// The last standalone letter A-E: not part of a longer word.
std::optional<char> last_choice(const std::string& reply) {
  const std::string t = trim_ws(reply);
  if (t.size() == 1 && std::toupper(static_cast<unsigned char>(t[0])) >= 'A' &&
      std::toupper(static_cast<unsigned char>(t[0])) <= 'E')
    return static_cast<char>(std::toupper(static_cast<unsigned char>(t[0])));
  for (size_t i = reply.size(); i-- > 0;) {
    const char c = reply[i];
    if (c < 'A' || c > 'E') continue;
    const bool left = i == 0 || !std::isalnum(static_cast<unsigned char>(reply[i - 1]));
    const bool right =
        i + 1 == reply.size() || !std::isalnum(static_cast<unsigned char>(reply[i + 1]));
    if (left && right) return c;
  }
  return std::nullopt;
}

}  // namespace

std::optional<double> last_number(const std::string& text) {
  std::optional<double> found;
  size_t i = 0;
  while (i < text.size()) {
    const bool sign = (text[i] == '-' || text[i] == '+') && i + 1 < text.size() &&
                      std::isdigit(static_cast<unsigned char>(text[i + 1]));
    if (!sign && !std::isdigit(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    // Digits with "," between groups of three, an optional fraction and exponent.
    std::string num;
    size_t j = i;
    if (sign) num += text[j++];
    while (j < text.size()) {
      const char c = text[j];
      if (std::isdigit(static_cast<unsigned char>(c))) {
        num += c, ++j;
      } else if (c == ',' && j + 3 < text.size() &&
                 std::isdigit(static_cast<unsigned char>(text[j + 1])) &&
                 std::isdigit(static_cast<unsigned char>(text[j + 2])) &&
                 std::isdigit(static_cast<unsigned char>(text[j + 3])) &&
                 (j + 4 == text.size() || !std::isdigit(static_cast<unsigned char>(text[j + 4])))) {
        ++j;
      } else if (c == '.' && j + 1 < text.size() &&
                 std::isdigit(static_cast<unsigned char>(text[j + 1])) &&
                 num.find('.') == std::string::npos && num.find('e') == std::string::npos) {
        num += c, ++j;
      } else if ((c == 'e' || c == 'E') && num.find('e') == std::string::npos &&
                 j + 1 < text.size() &&
                 (std::isdigit(static_cast<unsigned char>(text[j + 1])) ||
                  ((text[j + 1] == '-' || text[j + 1] == '+') && j + 2 < text.size() &&
                   std::isdigit(static_cast<unsigned char>(text[j + 2]))))) {
        num += 'e', ++j;
        if (text[j] == '-' || text[j] == '+') num += text[j++];
      } else {
        break;
      }
    }
    const double v = std::strtod(num.c_str(), nullptr);
    if (std::isfinite(v)) found = v;
    i = j;
  }
  return found;
}

Result<Checker> Checker::make(CheckKind kind, const std::string& answer, bool ignore_case,
                              double tolerance) {
  Checker c;
  c.kind_ = kind;
  c.answer_ = answer;
  c.ignore_case_ = ignore_case;
  c.tolerance_ = tolerance;
  if (!(tolerance >= 0) || !std::isfinite(tolerance))
    return invalid_argument("tolerance must be a finite number >= 0");
  if (kind == CheckKind::kNumber) {
    const auto v = last_number(answer);
    if (!v || trim_ws(answer).empty())
      return invalid_argument("answer '" + answer + "' is not a number");
    c.number_ = *v;
  }
  if (kind == CheckKind::kChoice) {
    const std::string a = trim_ws(answer);
    if (a.size() != 1 || std::toupper(static_cast<unsigned char>(a[0])) < 'A' ||
        std::toupper(static_cast<unsigned char>(a[0])) > 'E')
      return invalid_argument("answer '" + answer + "' is not a choice A-E");
    c.answer_ = std::string(1, static_cast<char>(std::toupper(static_cast<unsigned char>(a[0]))));
  }
  if (kind == CheckKind::kRegex) {
    int err = 0;
    PCRE2_SIZE off = 0;
    auto re = std::make_shared<Regex>();
    re->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(answer.data()), answer.size(),
                             PCRE2_UTF | (ignore_case ? PCRE2_CASELESS : 0u), &err, &off, nullptr);
    if (!re->code) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof(msg));
      return invalid_argument("regex '" + answer + "' at offset " + std::to_string(off) + ": " +
                              reinterpret_cast<const char*>(msg));
    }
    c.regex_ = std::move(re);
  }
  return c;
}

Result<Checker> Checker::parse(const Json& check, const std::string& answer,
                               const std::string& what) {
  if (check.is_null()) return make(CheckKind::kExact, answer);
  if (check.is_string()) {
    TRINITY_ASSIGN_OR_RETURN(CheckKind k, parse_kind(check.get<std::string>(), what));
    auto c = make(k, answer);
    if (!c.ok()) return c.status().with_context(what);
    return c;
  }
  if (!check.is_object() || !check.contains("type") || !check["type"].is_string())
    return invalid_argument(what + ": must be a checker name or an object with a string \"type\"");
  TRINITY_ASSIGN_OR_RETURN(CheckKind k, parse_kind(check["type"].get<std::string>(), what));
  bool ignore_case = false;
  double tolerance = 1e-6;
  for (const auto& [key, v] : check.items()) {
    if (key == "type") continue;
    if (key == "ignore_case" && v.is_boolean() &&
        (k == CheckKind::kExact || k == CheckKind::kContains || k == CheckKind::kRegex)) {
      ignore_case = v.get<bool>();
    } else if (key == "tolerance" && v.is_number() && k == CheckKind::kNumber) {
      tolerance = v.get<double>();
    } else {
      return invalid_argument(what + "." + key + ": not an option of the " + check_kind_name(k) +
                              " checker (or of the wrong type)");
    }
  }
  auto c = make(k, answer, ignore_case, tolerance);
  if (!c.ok()) return c.status().with_context(what);
  return c;
}

bool Checker::passes(const std::string& reply) const {
  switch (kind_) {
    case CheckKind::kExact:
      return ignore_case_ ? lower(trim_ws(reply)) == lower(trim_ws(answer_))
                          : trim_ws(reply) == trim_ws(answer_);
    case CheckKind::kContains:
      return ignore_case_ ? lower(reply).find(lower(answer_)) != std::string::npos
                          : reply.find(answer_) != std::string::npos;
    case CheckKind::kNumber: {
      const auto v = last_number(reply);
      return v && std::fabs(*v - number_) <= tolerance_;
    }
    case CheckKind::kChoice: {
      const auto c = last_choice(reply);
      return c && std::string(1, *c) == answer_;
    }
    case CheckKind::kRegex: {
      pcre2_match_data* md = pcre2_match_data_create_from_pattern(regex_->code, nullptr);
      const int rc = pcre2_match(regex_->code, reinterpret_cast<PCRE2_SPTR>(reply.data()),
                                 reply.size(), 0, 0, md, nullptr);
      pcre2_match_data_free(md);
      return rc >= 0;
    }
  }
  return false;
}

Json Checker::to_json() const {
  const bool plain = !ignore_case_ && tolerance_ == 1e-6;
  if (plain) return check_kind_name(kind_);
  Json j = {{"type", check_kind_name(kind_)}};
  if (ignore_case_) j["ignore_case"] = true;
  if (kind_ == CheckKind::kNumber && tolerance_ != 1e-6) j["tolerance"] = tolerance_;
  return j;
}

namespace {

Result<Task> parse_task_line(const std::string& line, const std::string& where) {
  auto parsed = parse_json(line, where);
  if (!parsed.ok()) return parsed.status();
  const Json& j = *parsed;
  if (!j.is_object()) return invalid_argument(where + ": a task must be a JSON object");
  for (const auto& [key, v] : j.items()) {
    (void)v;
    if (key != "id" && key != "prompt" && key != "messages" && key != "answer" && key != "check" &&
        key != "tags")
      return invalid_argument(where + ": unknown field \"" + key + "\"");
  }
  Task t;
  if (!j.contains("id") || !j["id"].is_string() || j["id"].get<std::string>().empty())
    return invalid_argument(where + ": \"id\" must be a non-empty string");
  t.id = j["id"].get<std::string>();
  const bool has_prompt = j.contains("prompt"), has_messages = j.contains("messages");
  if (has_prompt == has_messages)
    return invalid_argument(where + ": exactly one of \"prompt\" and \"messages\" is required");
  if (has_prompt) {
    if (!j["prompt"].is_string()) return invalid_argument(where + ": \"prompt\" must be a string");
    t.messages = {Message{"user", j["prompt"].get<std::string>()}};
  } else {
    TRINITY_ASSIGN_OR_RETURN(t.messages, messages_from_json(j["messages"], where + ": messages"));
    if (t.messages.empty()) return invalid_argument(where + ": \"messages\" is empty");
    t.from_prompt = false;
  }
  if (!j.contains("answer")) return invalid_argument(where + ": \"answer\" is required");
  const Json& a = j["answer"];
  if (a.is_string())
    t.answer = a.get<std::string>();
  else if (a.is_number())
    t.answer = a.dump();
  else
    return invalid_argument(where + ": \"answer\" must be a string or a number");
  const Json check = j.contains("check") ? j["check"] : Json();
  TRINITY_ASSIGN_OR_RETURN(t.check, Checker::parse(check, t.answer, where + ": check"));
  if (j.contains("tags")) {
    if (!j["tags"].is_array()) return invalid_argument(where + ": \"tags\" must be an array");
    for (const auto& tag : j["tags"]) {
      if (!tag.is_string()) return invalid_argument(where + ": every tag must be a string");
      t.tags.push_back(tag.get<std::string>());
    }
  }
  return t;
}

}  // namespace

Result<std::vector<Task>> parse_tasks(const std::string& text, const std::string& what) {
  std::vector<Task> tasks;
  std::map<std::string, int64_t> seen;
  int64_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (trim_ws(line).empty()) continue;
    const std::string where = what + ":" + std::to_string(line_no);
    TRINITY_ASSIGN_OR_RETURN(Task t, parse_task_line(line, where));
    t.line = line_no;
    auto [it, fresh] = seen.emplace(t.id, line_no);
    if (!fresh)
      return invalid_argument(where + ": duplicate id \"" + t.id + "\" (first on line " +
                              std::to_string(it->second) + ")");
    tasks.push_back(std::move(t));
  }
  if (tasks.empty()) return invalid_argument(what + ": no tasks");
  return tasks;
}

Result<std::vector<Task>> load_tasks(const std::string& path) {
  auto text = read_file(path);
  if (!text.ok()) return text.status().with_context("tasks " + path);
  return parse_tasks(*text, path);
}

Json task_to_json(const Task& t) {
  Json j;
  j["id"] = t.id;
  if (t.from_prompt && t.messages.size() == 1 && t.messages[0].role == "user")
    j["prompt"] = t.messages[0].content;
  else
    j["messages"] = messages_to_json(t.messages);
  j["answer"] = t.answer;
  j["check"] = t.check.to_json();
  if (!t.tags.empty()) j["tags"] = t.tags;
  return j;
}

Status write_tasks(const std::string& path, const std::vector<Task>& tasks) {
  std::string out;
  for (const Task& t : tasks) out += task_to_json(t).dump() + "\n";
  return write_file_atomic(path, out);
}

std::vector<Task> generate_skills_tasks(int64_t n, uint64_t seed) {
  std::vector<Task> tasks;
  for (int64_t i = 0; i < n; ++i) {
    const coord::SkillsTask s = coord::make_skills_task(seed, static_cast<uint64_t>(i));
    Task t;
    t.id = "skills-" + std::to_string(seed) + "-" + std::to_string(i);
    t.messages = {Message{"user", s.prompt}};
    t.answer = s.answer;
    t.check = *Checker::make(CheckKind::kNumber, s.answer);
    t.tags = {coord::skills_category_name(s.category)};
    tasks.push_back(std::move(t));
  }
  return tasks;
}

}  // namespace trinity::train
