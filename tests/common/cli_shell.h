// Running the `trinity` binary from CLI tests: a shell command's exit code and output.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace trinity::testing {

struct Cmd {
  int rc = -1;
  std::string out;
};

// Runs `cmd` through /bin/sh; captures stdout (and stderr too when `merge_stderr`).
inline Cmd sh(const std::string& cmd, bool merge_stderr = true) {
  Cmd r;
  FILE* p = ::popen((cmd + (merge_stderr ? " 2>&1" : " 2>/dev/null")).c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace trinity::testing
