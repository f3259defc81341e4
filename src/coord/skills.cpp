#include "coord/skills.h"

#include <cstdlib>
#include <cstring>

#include "core/random.h"

namespace trinity::coord {

const std::array<std::array<double, kSkillsCategories>, kNumAgents> kSkillsWorker = {{
    {0.95, 0.30, 0.30, 0.25, 0.35},  // 0 arithmetic specialist
    {0.30, 0.95, 0.25, 0.30, 0.30},  // 1 unit-conversion specialist
    {0.30, 0.25, 0.95, 0.25, 0.30},  // 2 code specialist
    {0.25, 0.30, 0.25, 0.95, 0.25},  // 3 lookup specialist
    {0.35, 0.30, 0.30, 0.25, 0.95},  // 4 word-problem specialist
    {0.60, 0.60, 0.55, 0.55, 0.60},  // 5 generalist
    {0.15, 0.15, 0.15, 0.15, 0.15},  // 6 weak and cheap
}};
const std::array<std::array<double, kSkillsCategories>, kNumAgents> kSkillsVerify = {{
    {0.90, 0.55, 0.55, 0.55, 0.55},
    {0.55, 0.90, 0.55, 0.55, 0.55},
    {0.55, 0.55, 0.90, 0.55, 0.55},
    {0.55, 0.55, 0.55, 0.90, 0.55},
    {0.55, 0.55, 0.55, 0.55, 0.90},
    {0.60, 0.60, 0.60, 0.60, 0.60},
    {0.50, 0.50, 0.50, 0.50, 0.50},
}};
const std::array<const char*, kNumAgents> kSkillsAgentNames = {
    "arithmetic-specialist", "units-specialist", "code-specialist", "lookup-specialist",
    "word-specialist",       "generalist",       "budget"};

const char* skills_category_name(SkillsCategory c) {
  static const char* const kNames[kSkillsCategories] = {"arithmetic", "units", "code", "lookup",
                                                        "word"};
  return kNames[static_cast<int>(c)];
}

namespace {

struct Element {
  const char* name;
  int number;
};
constexpr Element kElements[] = {
    {"hydrogen", 1},   {"helium", 2},     {"lithium", 3},     {"carbon", 6},  {"nitrogen", 7},
    {"oxygen", 8},     {"fluorine", 9},   {"neon", 10},       {"sodium", 11}, {"magnesium", 12},
    {"aluminium", 13}, {"silicon", 14},   {"phosphorus", 15}, {"sulfur", 16}, {"chlorine", 17},
    {"argon", 18},     {"potassium", 19}, {"calcium", 20},    {"iron", 26},   {"copper", 29},
    {"zinc", 30},      {"silver", 47},    {"tin", 50},        {"iodine", 53}, {"gold", 79},
    {"mercury", 80},   {"lead", 82},      {"uranium", 92},
};
struct Unit {
  const char* from;
  const char* to;
  int factor;
};
constexpr Unit kUnits[] = {
    {"km", "m", 1000},          {"kg", "g", 1000},      {"hours", "minutes", 60},
    {"minutes", "seconds", 60}, {"m", "cm", 100},       {"liters", "milliliters", 1000},
    {"days", "hours", 24},      {"feet", "inches", 12},
};
constexpr const char* kNames[] = {"Alice", "Bob",   "Chen",  "Dana",
                                  "Emeka", "Farah", "Goran", "Hana"};
constexpr const char* kItems[] = {"apples", "stamps", "marbles", "books", "coins", "shells"};

// Uniform integer in [lo, hi] from draw i of the task's stream.
int64_t pick(uint64_t seed, uint64_t index, uint64_t i, int64_t lo, int64_t hi) {
  const double u = counter_uniform(seed, 0x5eed0000 + index, i);
  return lo + static_cast<int64_t>(u * static_cast<double>(hi - lo + 1));
}

int64_t python_mod(int64_t a, int64_t d) {
  const int64_t r = a % d;
  return r < 0 ? r + d : r;
}

const char* const kArithmetic = "Compute ";
const char* const kUnitsPrefix = "Convert ";
const char* const kCodePrefix = "What does this Python snippet print?\n";
const char* const kLookupPrefix = "Look up the atomic number of ";

}  // namespace

SkillsTask make_skills_task(uint64_t seed, uint64_t index) {
  SkillsTask t;
  t.category = static_cast<SkillsCategory>(index % kSkillsCategories);
  auto p = [&](uint64_t i, int64_t lo, int64_t hi) { return pick(seed, index, i, lo, hi); };
  int64_t answer = 0;
  switch (t.category) {
    case SkillsCategory::kArithmetic: {
      const char ops[] = {'+', '-', '*'};
      const char op = ops[p(0, 0, 2)];
      const int64_t a = op == '*' ? p(1, 2, 99) : p(1, 10, 999);
      const int64_t b = op == '*' ? p(2, 2, 99) : p(2, 10, 999);
      answer = op == '+' ? a + b : op == '-' ? a - b : a * b;
      t.prompt = std::string(kArithmetic) + std::to_string(a) + " " + op + " " + std::to_string(b) +
                 ". Reply with the number only.";
      break;
    }
    case SkillsCategory::kUnits: {
      const Unit& u = kUnits[p(0, 0, std::size(kUnits) - 1)];
      const int64_t v = p(1, 2, 99);
      answer = v * u.factor;
      t.prompt = std::string(kUnitsPrefix) + std::to_string(v) + " " + u.from + " to " + u.to +
                 ". Give just the converted value.";
      break;
    }
    case SkillsCategory::kCode: {
      const int64_t a = p(0, 2, 50), b = p(1, 2, 9), c = p(2, 1, 40), d = p(3, 7, 97);
      answer = python_mod(a * b - c, d);
      t.prompt = std::string(kCodePrefix) + "x = " + std::to_string(a) + "\nx = x * " +
                 std::to_string(b) + " - " + std::to_string(c) + "\nprint(x % " +
                 std::to_string(d) + ")";
      break;
    }
    case SkillsCategory::kLookup: {
      const Element& e = kElements[p(0, 0, std::size(kElements) - 1)];
      answer = e.number;
      t.prompt = std::string(kLookupPrefix) + e.name + " in the periodic table.";
      break;
    }
    case SkillsCategory::kWord: {
      const char* name = kNames[p(0, 0, std::size(kNames) - 1)];
      const char* item = kItems[p(1, 0, std::size(kItems) - 1)];
      const int64_t a = p(2, 5, 60), b = p(3, 1, 30), c = p(4, 1, a);
      answer = a + b - c;
      t.prompt = std::string(name) + " has " + std::to_string(a) + " " + item + ". " + name +
                 " buys " + std::to_string(b) + " more and gives " + std::to_string(c) +
                 " to a friend. How many " + item + " does " + name + " have now?";
      break;
    }
  }
  t.answer = std::to_string(answer);
  return t;
}

namespace {

const Unit* find_unit(const char* from, const char* to) {
  for (const Unit& u : kUnits)
    if (std::strcmp(u.from, from) == 0 && std::strcmp(u.to, to) == 0) return &u;
  return nullptr;
}

std::optional<int64_t> element_number(const char* name) {
  for (const Element& e : kElements)
    if (std::strcmp(e.name, name) == 0) return e.number;
  return std::nullopt;
}

}  // namespace

std::optional<SkillsQuestion> solve_skills_question(const std::string& text) {
  const char* s = text.c_str();
  const int len = static_cast<int>(text.size());
  long long a = 0, b = 0, c = 0, d = 0;
  char op = 0, w1[32] = {}, w2[32] = {}, w3[32] = {}, w4[32] = {};
  int n = -1;
  if (std::sscanf(s, "Compute %lld %c %lld. Reply with the number only.%n", &a, &op, &b, &n) == 3 &&
      n == len) {
    if (op == '+') return SkillsQuestion{SkillsCategory::kArithmetic, a + b};
    if (op == '-') return SkillsQuestion{SkillsCategory::kArithmetic, a - b};
    if (op == '*') return SkillsQuestion{SkillsCategory::kArithmetic, a * b};
    return std::nullopt;
  }
  n = -1;
  if (std::sscanf(s, "Convert %lld %31s to %31[^.]. Give just the converted value.%n", &a, w1, w2,
                  &n) == 3 &&
      n == len) {
    const Unit* u = find_unit(w1, w2);
    if (!u) return std::nullopt;
    return SkillsQuestion{SkillsCategory::kUnits, a * u->factor};
  }
  n = -1;
  if (std::sscanf(s,
                  "What does this Python snippet print?\nx = %lld\nx = x * %lld - %lld\nprint(x "
                  "%% %lld)%n",
                  &a, &b, &c, &d, &n) == 4 &&
      n == len && d > 0)
    return SkillsQuestion{SkillsCategory::kCode, python_mod(a * b - c, d)};
  n = -1;
  if (std::sscanf(s, "Look up the atomic number of %31s in the periodic table.%n", w1, &n) == 1 &&
      n == len) {
    const auto z = element_number(w1);
    if (!z) return std::nullopt;
    return SkillsQuestion{SkillsCategory::kLookup, *z};
  }
  n = -1;
  if (std::sscanf(s,
                  "%31[^ ] has %lld %31[^.]. %31[^ ] buys %lld more and gives %lld to a friend. "
                  "How many %31[^ ] does %*[^ ] have now?%n",
                  w1, &a, w2, w3, &b, &c, w4, &n) == 7 &&
      n == len && std::strcmp(w1, w3) == 0 && std::strcmp(w2, w4) == 0)
    return SkillsQuestion{SkillsCategory::kWord, a + b - c};
  return std::nullopt;
}

namespace {

std::string trim_newlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// The rendered shape's sections: "### <header>\n<body>" separated by "\n### ".
SkillsView read_rendered(const std::string& text) {
  SkillsView v;
  const std::string sep = "\n### ";
  size_t pos = text.find(sep);
  while (pos != std::string::npos) {
    const size_t start = pos + sep.size();
    const size_t next = text.find(sep, start);
    const std::string section =
        text.substr(start, next == std::string::npos ? std::string::npos : next - start);
    const size_t eol = section.find('\n');
    const std::string header = section.substr(0, eol);
    const std::string body = eol == std::string::npos ? "" : trim_newlines(section.substr(eol + 1));
    if (header == "user" && v.question.empty()) v.question = body;
    if (header.rfind("assistant (turn ", 0) == 0 && header.find(": Worker,") != std::string::npos)
      v.worker_answer = body;
    pos = next;
  }
  return v;
}

}  // namespace

SkillsView read_skills_request(const std::vector<Message>& messages) {
  if (messages.size() == 2 && messages[1].role == "user" &&
      messages[1].content.rfind("The conversation so far", 0) == 0)
    return read_rendered(messages[1].content);
  SkillsView v;  // the reference shape: [system] ++ the transcript
  for (size_t i = 1; i < messages.size(); ++i) {
    if (messages[i].role == "user" && v.question.empty()) v.question = messages[i].content;
    if (messages[i].role == "assistant") v.worker_answer = messages[i].content;
  }
  return v;
}

namespace {

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ull;
  return h;
}

// The last integer in a text (with its sign), if any.
std::optional<int64_t> last_integer(const std::string& s) {
  size_t end = s.find_last_of("0123456789");
  if (end == std::string::npos) return std::nullopt;
  size_t begin = end;
  while (begin > 0 && s[begin - 1] >= '0' && s[begin - 1] <= '9') --begin;
  if (end - begin > 17) return std::nullopt;
  int64_t v = std::strtoll(s.substr(begin, end - begin + 1).c_str(), nullptr, 10);
  return begin > 0 && s[begin - 1] == '-' ? -v : v;
}

class SkillsProvider final : public Provider {
 public:
  SkillsProvider(ProviderSpec spec, int agent) : Provider(std::move(spec)), agent_(agent) {}

  Result<ChatReply> chat(const ChatRequest& request, const CallContext& ctx) override {
    if (ctx.cancel && ctx.cancel->load()) return Status(ErrorCode::kCancelled, "run cancelled");
    const SkillsView view = read_skills_request(request.messages);
    const auto q = solve_skills_question(trim_newlines(view.question));
    ChatReply r;
    r.text = reply(request, view, q);
    std::string prompt;
    for (const auto& m : request.messages) prompt += m.content + " ";
    r.input_tokens = static_cast<int64_t>(prompt.size() / 4 + 1);
    r.output_tokens = static_cast<int64_t>(r.text.size() / 4 + 1);
    return r;
  }

 private:
  std::string reply(const ChatRequest& req, const SkillsView& view,
                    const std::optional<SkillsQuestion>& q) const {
    const int role = req.role_id;
    if (role == kRoleThinker) {
      const bool answered = view.worker_answer.has_value();
      return std::string("<suggestion>") +
             (answered ? "Have the latest answer checked." : "Solve the task directly.") +
             "</suggestion>\n<suggested_role>" + (answered ? "verifier" : "solver") +
             "</suggested_role>";
    }
    if (!q)
      return role == kRoleVerifier ? "REVISE: I cannot tell what the task is."
                                   : "I do not recognise this kind of task.";
    const size_t cat = static_cast<size_t>(q->category);
    const uint64_t h = fnv1a(view.question);
    const double u = counter_uniform(h, static_cast<uint64_t>(agent_ * 4 + role),
                                     static_cast<uint64_t>(req.turn));
    if (role == kRoleVerifier) {
      if (!view.worker_answer) return "REVISE: there is no answer to check yet.";
      const auto given = last_integer(*view.worker_answer);
      const bool right = given && *given == q->answer;
      const bool judged_well = u < kSkillsVerify[static_cast<size_t>(agent_)][cat];
      return right == judged_well ? "ACCEPT: the answer checks out."
                                  : "REVISE: the answer looks wrong; recompute it.";
    }
    const bool correct = u < kSkillsWorker[static_cast<size_t>(agent_)][cat];
    int64_t value = q->answer;
    if (!correct) {
      const uint64_t w =
          splitmix64(h ^ (static_cast<uint64_t>(agent_) << 32) ^ static_cast<uint64_t>(req.turn));
      const int64_t delta = 1 + static_cast<int64_t>(w % 9);
      value += (w >> 8) % 2 ? delta : -delta;
    }
    return "The answer is " + std::to_string(value) + ".";
  }

  int agent_;
};

}  // namespace

PoolConfig builtin_skills_pool() {
  PoolConfig pool;
  pool.name = "skills";
  for (int i = 0; i < kNumAgents; ++i) {
    ProviderSpec& s = pool.slots[static_cast<size_t>(i)];
    s.provider = "skills";
    s.model = kSkillsAgentNames[static_cast<size_t>(i)];
    s.name = std::string("skills_") + s.model;
    s.max_retries = 0;
  }
  pool.prompts = default_role_prompts();
  return pool;
}

std::unique_ptr<Provider> make_skills_provider(const ProviderSpec& spec) {
  for (int i = 0; i < kNumAgents; ++i)
    if (spec.model == kSkillsAgentNames[static_cast<size_t>(i)])
      return std::make_unique<SkillsProvider>(spec, i);
  return nullptr;
}

}  // namespace trinity::coord
