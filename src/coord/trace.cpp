#include "coord/trace.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/sha256.h"

namespace trinity::coord {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool is_content_key(const std::string& k) {
  return k == "input_content" || k == "request_messages" || k == "reply" || k == "answer" ||
         k == "diagnosis" || k == "suggestion" || k == "error" || k == "tool_calls";
}

OrderedJson hash_ref(const OrderedJson& v) {
  if (v.is_string()) return "sha256:" + sha256_hex(v.get<std::string>());
  if (v.is_array()) {
    OrderedJson out = OrderedJson::array();
    for (const auto& e : v) {
      if (e.is_object()) {  // a message {role, content, tool_calls} or a call {id, function}
        OrderedJson m = e;
        if (m.contains("content")) m["content"] = hash_ref(e["content"]);
        if (m.contains("tool_calls")) m["tool_calls"] = hash_ref(e["tool_calls"]);
        if (auto f = m.find("function"); f != m.end() && f->is_object() && f->contains("arguments"))
          (*f)["arguments"] = hash_ref((*f)["arguments"]);
        out.push_back(std::move(m));
      } else {
        out.push_back(hash_ref(e));
      }
    }
    return out;
  }
  return v;
}

// Replaces "Bearer <credential>" (any case; the credential after spaces, ':' or '=', as in
// "Bearer abc", "Bearer:abc", "bearer=abc") by "Bearer <redacted>", the whole credential.
std::string redact_bearer(const std::string& s) {
  std::string low = lower(s), out;
  size_t pos = 0;
  while (true) {
    size_t i = low.find("bearer", pos);
    if (i == std::string::npos) break;
    size_t j = i + 6;
    size_t k = j;
    while (k < s.size() && (s[k] == ' ' || s[k] == '\t' || s[k] == ':' || s[k] == '=')) ++k;
    size_t e = k;
    while (e < s.size() && !std::isspace(static_cast<unsigned char>(s[e])) && s[e] != '"' &&
           s[e] != '\'' && s[e] != ',')
      ++e;
    if (k == j || e == k || s.compare(k, std::strlen(kRedacted), kRedacted) == 0) {
      out.append(s, pos, j - pos);
      pos = j;
      continue;
    }
    out.append(s, pos, j - pos);
    out += ' ';
    out += kRedacted;
    pos = e;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

}  // namespace

Redactor::Redactor(std::vector<std::string> secrets) {
  for (auto& s : secrets) add_secret(s);
}

void Redactor::add_secret(const std::string& secret) {
  if (secret.size() < kMinSecretBytes) return;
  if (std::find(secrets_.begin(), secrets_.end(), secret) != secrets_.end()) return;
  secrets_.push_back(secret);
  std::stable_sort(secrets_.begin(), secrets_.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

bool Redactor::is_sensitive_key(const std::string& key) {
  std::string k = lower(key);
  std::replace(k.begin(), k.end(), '-', '_');
  for (const char* s : {"api_key", "apikey", "authorization", "password", "secret", "token"}) {
    const std::string name(s);
    if (k == name) return true;
    if (k.size() > name.size() + 1 && k.compare(k.size() - name.size(), name.size(), name) == 0 &&
        k[k.size() - name.size() - 1] == '_')
      return true;
  }
  return false;
}

std::string Redactor::remove_secrets(const std::string& text) const {
  std::string s = text;
  for (const auto& secret : secrets_) {
    size_t pos = 0;
    while ((pos = s.find(secret, pos)) != std::string::npos) {
      s.replace(pos, secret.size(), kRedacted);
      pos += std::strlen(kRedacted);
    }
  }
  return s;
}

std::string Redactor::redact_text(const std::string& text) const {
  return redact_bearer(remove_secrets(text));
}

void Redactor::redact_json(OrderedJson& j) const {
  if (j.is_string()) {
    j = redact_text(j.get<std::string>());
  } else if (j.is_array()) {
    for (auto& e : j) redact_json(e);
  } else if (j.is_object()) {
    OrderedJson out = OrderedJson::object();
    for (auto it = j.begin(); it != j.end(); ++it) {
      std::string key = redact_text(it.key());
      if (is_sensitive_key(it.key())) {
        out[key] = kRedacted;
      } else {
        OrderedJson v = it.value();
        redact_json(v);
        out[key] = std::move(v);
      }
    }
    j = std::move(out);
  }
}

std::string sha256_ref(const char* prefix, const std::string& bytes) {
  return std::string(prefix) + ":sha256:" + sha256_hex(bytes);
}

Result<ContentMode> parse_content_mode(const std::string& s) {
  if (s == "hash") return ContentMode::kHash;
  if (s == "full") return ContentMode::kFull;
  return invalid_argument("trace content mode must be hash or full, got '" + s + "'");
}

const char* content_mode_name(ContentMode m) {
  return m == ContentMode::kFull ? "full" : "hash";
}

OrderedJson apply_content_mode(const OrderedJson& event, ContentMode mode) {
  if (mode == ContentMode::kFull || !event.is_object()) return event;
  OrderedJson out = event;
  for (auto it = out.begin(); it != out.end(); ++it)
    if (is_content_key(it.key()) && !it.value().is_null()) it.value() = hash_ref(it.value());
  return out;
}

Result<std::unique_ptr<JsonlTraceWriter>> JsonlTraceWriter::open(const std::string& path,
                                                                 ContentMode mode) {
  // Appended to, parent directories created, as the reference's JSONL sink does.
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec)
    return io_error("cannot create the directory of trace file " + path + ": " + ec.message());
  std::FILE* f = std::fopen(path.c_str(), "ab");
  if (!f) return io_error("cannot open trace file " + path + ": " + std::strerror(errno));
  return std::unique_ptr<JsonlTraceWriter>(new JsonlTraceWriter(f, path, mode));
}

JsonlTraceWriter::~JsonlTraceWriter() {
  if (file_) std::fclose(file_);
}

Status JsonlTraceWriter::on_event(const OrderedJson& event) {
  std::string line =
      apply_content_mode(event, mode_).dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
  line += '\n';
  std::lock_guard<std::mutex> lock(mu_);
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0)
    return io_error("cannot write trace file " + path_ + ": " + std::strerror(errno));
  return ok_status();
}

}  // namespace trinity::coord
