// A local fake of an OpenAI-compatible (and Anthropic Messages) server on 127.0.0.1 with an
// ephemeral port. It enforces what strict servers enforce (llama.cpp's "Cannot have 2 or more
// assistant messages at the end of the list", and user/assistant alternation ending in a user
// turn after optional leading system messages), answers from a scripted queue or by role, and
// records every request.
#pragma once

#include <httplib.h>

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace trinity::testing {

struct FakeResponse {
  int status = 200;
  std::string body;  // empty: a generated success body
  std::vector<std::pair<std::string, std::string>> headers;
  int delay_ms = 0;
  std::string text;  // content of a generated success body (empty: by role)
};

struct RecordedRequest {
  std::string path;
  std::map<std::string, std::string> headers;  // as received
  std::string body;
  std::string violation;  // non-empty when the strict rules rejected it
};

class FakeLlmServer {
 public:
  FakeLlmServer() {
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      handle(req, res);
    };
    server_.Post("/v1/chat/completions", handler);
    server_.Post("/v1/messages", handler);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ~FakeLlmServer() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  void push(FakeResponse r) {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(r));
  }
  std::vector<RecordedRequest> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  int violations() {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const auto& r : requests_) n += r.violation.empty() ? 0 : 1;
    return n;
  }

  // Returns "" when the body is acceptable to a strict server.
  static std::string validate(const std::string& path, const nlohmann::json& body) {
    if (!body.is_object()) return "body must be a JSON object";
    if (!body.contains("model") || !body["model"].is_string()) return "model is required";
    if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty())
      return "messages must be a non-empty array";
    const auto& msgs = body["messages"];
    size_t i = 0;
    if (path == "/v1/messages") {
      if (!body.contains("max_tokens")) return "max_tokens is required";
      if (body.contains("system") && !body["system"].is_string()) return "system must be a string";
    } else {
      while (i < msgs.size() && msgs[i].is_object() && msgs[i].value("role", "") == "system") ++i;
    }
    if (msgs.size() >= 2 && msgs[msgs.size() - 1].value("role", "") == "assistant" &&
        msgs[msgs.size() - 2].value("role", "") == "assistant")
      return "Cannot have 2 or more assistant messages at the end of the list.";
    std::string expect = "user";
    for (; i < msgs.size(); ++i) {
      const auto& m = msgs[i];
      if (!m.is_object() || !m.contains("content") || !m["content"].is_string() ||
          m["content"].get<std::string>().empty())
        return "every message needs non-empty string content";
      std::string role = m.value("role", "");
      if (role != expect)
        return "Conversation roles must alternate user/assistant/user/assistant/...";
      expect = expect == "user" ? "assistant" : "user";
    }
    if (expect != "assistant") return "the last message must be a user message";
    return "";
  }

 private:
  static std::string role_reply(const nlohmann::json& body) {
    std::string system;
    if (body.contains("system") && body["system"].is_string()) system = body["system"];
    for (const auto& m : body["messages"])
      if (m.value("role", "") == "system") system += m.value("content", "");
    if (system.find("You are the Verifier") != std::string::npos) return "ACCEPT: looks right";
    if (system.find("You are the Thinker") != std::string::npos)
      return "<suggestion>compute</suggestion><suggested_role>worker</suggested_role>";
    return "Worker answer: 42";
  }

  void handle(const httplib::Request& req, httplib::Response& res) {
    RecordedRequest rec;
    rec.path = req.path;
    rec.body = req.body;
    for (const auto& [k, v] : req.headers) rec.headers[k] = v;
    nlohmann::json body;
    try {
      body = nlohmann::json::parse(req.body);
      rec.violation = validate(req.path, body);
    } catch (const std::exception&) {
      rec.violation = "invalid JSON body";
    }
    FakeResponse fr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(rec);
      if (rec.violation.empty() && !queue_.empty()) {
        fr = queue_.front();
        queue_.pop_front();
      }
    }
    if (!rec.violation.empty()) {
      res.status = 400;
      res.set_content(nlohmann::json{{"error", {{"message", rec.violation}}}}.dump(),
                      "application/json");
      return;
    }
    if (fr.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(fr.delay_ms));
    res.status = fr.status;
    for (const auto& [k, v] : fr.headers) res.set_header(k.c_str(), v.c_str());
    if (!fr.body.empty() || fr.status != 200) {
      res.set_content(fr.body, "application/json");
      return;
    }
    const std::string text = fr.text.empty() ? role_reply(body) : fr.text;
    nlohmann::json out;
    if (req.path == "/v1/messages") {
      out = {{"id", "msg_1"},
             {"type", "message"},
             {"role", "assistant"},
             {"content", {{{"type", "text"}, {"text", text}}}},
             {"usage", {{"input_tokens", 100}, {"output_tokens", 20}}}};
    } else {
      out = {{"id", "chatcmpl-1"},
             {"object", "chat.completion"},
             {"choices",
              {{{"index", 0},
                {"message", {{"role", "assistant"}, {"content", text}}},
                {"finish_reason", "stop"}}}},
             {"usage", {{"prompt_tokens", 100}, {"completion_tokens", 20}}}};
    }
    res.set_content(out.dump(), "application/json");
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = -1;
  std::mutex mu_;
  std::deque<FakeResponse> queue_;
  std::vector<RecordedRequest> requests_;
};

}  // namespace trinity::testing
