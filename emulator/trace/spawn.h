// Starting the program: PATH lookup like execvp(3), fork, PTRACE_SEIZE, seccomp filter
// installed in the child, exec. Everything the child needs is prepared before fork() so that
// the child never allocates.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "emulator/trace/seccomp_policy.h"
#include "emulator/trace/unique_fd.h"

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

// A child forked, seized and told to go: it is loading the filter and exec'ing while the
// caller prepares what the engine needs (vdsorun's start-up runs beside the child's exec
// instead of before it). wait_for_exec() returns at its first PTRACE_EVENT_EXEC stop.
class PendingSpawn {
 public:
  PendingSpawn(PendingSpawn&& o) noexcept;
  PendingSpawn& operator=(PendingSpawn&&) = delete;
  PendingSpawn(const PendingSpawn&) = delete;
  PendingSpawn& operator=(const PendingSpawn&) = delete;
  // A child nobody waited for (the caller threw in between) is killed and reaped.
  ~PendingSpawn();

  // The child, until wait_for_exec() hands it over to the caller; then -1.
  pid_t pid() const { return pid_; }
  // The exec event, or SpawnError (126/127 if the exec failed). Call once.
  SpawnedProgram wait_for_exec();

 private:
  friend PendingSpawn start_traced(const std::string&, const std::vector<std::string>&,
                                   const BpfProgram&, const std::vector<SavedDisposition>&);
  PendingSpawn(pid_t pid, std::string program, UniqueFd err_read)
      : pid_(pid), program_(std::move(program)), err_read_(std::move(err_read)) {}

  pid_t pid_;
  std::string program_;
  UniqueFd err_read_;
};

// Forks the child, seizes it with trace_options() and lets it run to its exec; SpawnError if
// that cannot be done (fork failed, ptrace refused).
PendingSpawn start_traced(const std::string& program, const std::vector<std::string>& args,
                          const BpfProgram& filter, const std::vector<SavedDisposition>& restore);

// start_traced(...).wait_for_exec().
SpawnedProgram spawn_traced(const std::string& program, const std::vector<std::string>& args,
                            const BpfProgram& filter, const std::vector<SavedDisposition>& restore);

// The ptrace options every tracee gets.
long trace_options();

}  // namespace emulator
