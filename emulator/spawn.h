// Starting the program: PATH lookup like execvp(3), fork, PTRACE_SEIZE, seccomp filter
// installed in the child, exec. Everything the child needs is prepared before fork() so that
// the child never allocates.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "emulator/seccomp_policy.h"

namespace emulator {

// vdsorun could not start the program; exit_code follows env(1): 126 found but not
// executable, 127 not found, 125 anything else (ptrace or seccomp refused, fork failed).
class SpawnError : public std::runtime_error {
 public:
  SpawnError(const std::string& what, int exit_code)
      : std::runtime_error(what), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// The candidate paths execvp() would try for `program` with this PATH value (unset PATH:
// glibc's default "/bin:/usr/bin"). A name with a slash is used as is.
std::vector<std::string> exec_candidates(const std::string& program, const char* path_env);

struct SpawnedProgram {
  pid_t pid;
  // The wait status of the first stop: the PTRACE_EVENT_EXEC of the first exec.
  int exec_status;
};

// Signals whose disposition the caller changed in vdsorun and that the child must get back
// (as they were when vdsorun started) before it execs.
struct SavedDisposition {
  int signo;
  struct sigaction action;
};

SpawnedProgram spawn_traced(const std::string& program, const std::vector<std::string>& args,
                            const BpfProgram& filter, const std::vector<SavedDisposition>& restore);

// The ptrace options every tracee gets.
long trace_options();

}  // namespace emulator
