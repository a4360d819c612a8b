// Runs a command with captured stdout/stderr, optional stdin, cwd and environment, and a
// hang guard; returns how it ended. Used by the integration tests for every run.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace integration {

struct RunOptions {
  std::string stdin_data;
  std::optional<std::string> cwd;
  // The whole environment of the command; nullopt = this process's environment.
  std::optional<std::vector<std::string>> env;
  // A hang guard, not a timing assertion: the command is killed and the run reported as hung.
  int timeout_seconds = 90;
};

struct RunResult {
  bool exited = false;
  int exit_code = -1;
  bool signaled = false;
  int signal = 0;
  bool timed_out = false;
  // exec() itself failed in the child (errno), before the command ran.
  int exec_errno = 0;
  std::string out;
  std::string err;

  // "exit 3", "signal 11", "timed out", "exec failed: ..."
  std::string status_text() const;
  // The status plus stdout and stderr, for failure messages.
  std::string describe() const;
};

// PROGRAM is looked up in PATH (of the command's environment) when it has no slash.
RunResult run_command(const std::vector<std::string>& argv, const RunOptions& opts = {});

// This process's environment as NAME=VALUE strings.
std::vector<std::string> current_environment();

// Splits text into lines (without the newlines).
std::vector<std::string> split_lines(const std::string& text);

}  // namespace integration
