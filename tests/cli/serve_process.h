// A `trinity serve` child process for the CLI tests: stdout is read for the "listening on"
// line, stderr goes to a file.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace trinity_test {

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ServeProcess {
 public:
  ServeProcess(std::vector<std::string> args, std::vector<std::string> env = {}) {
    char tmpl[] = "/tmp/trinity_serve_cliXXXXXX";
    dir_ = mkdtemp(tmpl);
    err_path_ = dir_ + "/stderr.txt";
    int out[2];
    if (pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      int efd = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(efd, 2);
      close(out[0]);
      for (const auto& e : env) putenv(const_cast<char*>(e.c_str()));
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(TRINITY_BINARY));
      argv.push_back(const_cast<char*>("serve"));
      for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(TRINITY_BINARY, argv.data());
      _exit(127);
    }
    close(out[1]);
    out_fd_ = out[0];
  }
  ~ServeProcess() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_fd_ >= 0) close(out_fd_);
    std::filesystem::remove_all(dir_);
  }
  // Reads stdout until the "listening on http://host:PORT" line; returns the port or -1.
  int wait_port(int timeout_ms = 20000) {
    const auto t0 = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(timeout_ms)) {
      pollfd p{out_fd_, POLLIN, 0};
      if (poll(&p, 1, 100) > 0) {
        char buf[512];
        ssize_t n = read(out_fd_, buf, sizeof(buf));
        if (n <= 0) return -1;  // exited
        stdout_.append(buf, static_cast<size_t>(n));
        auto at = stdout_.find("listening on http://127.0.0.1:");
        if (at != std::string::npos) {
          auto eol = stdout_.find(' ', at + 30);
          if (eol != std::string::npos) return std::stoi(stdout_.substr(at + 30, eol - at - 30));
        }
      }
    }
    return -1;
  }
  // Sends `sig` and waits for the exit status (-1: still running after timeout).
  int stop(int sig = SIGTERM, int timeout_ms = 15000) {
    kill(pid_, sig);
    return wait_exit(timeout_ms);
  }
  int wait_exit(int timeout_ms) {
    const auto t0 = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(timeout_ms)) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        char buf[512];
        ssize_t n;
        while ((n = read(out_fd_, buf, sizeof(buf))) > 0)
          stdout_.append(buf, static_cast<size_t>(n));
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }
  pid_t pid() const { return pid_; }
  const std::string& out() const { return stdout_; }
  std::string err() const { return slurp(err_path_); }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  bool reaped_ = false;
  std::string dir_, err_path_, stdout_;
};

}  // namespace trinity_test
