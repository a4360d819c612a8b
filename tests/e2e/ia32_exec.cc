// The i386 exec probe: run a 32-bit program natively, decide skip / run / fail from how it
// ended.
#include "ia32_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>

extern char** environ;

namespace e2e {

Ia32Verdict ia32_exec_verdict(const NativeRun& run, const std::string& program,
                              int expected_exit_code) {
  if (run.exec_errno == ENOEXEC) {
    return {Ia32Exec::kUnsupported,
            "this kernel cannot exec i386 binaries (ENOEXEC): execve(\"" + program +
                "\") without vdsorun failed: " + strerror(ENOEXEC) +
                " (kernel built without CONFIG_IA32_EMULATION or booted with ia32_emulation=0)"};
  }
  if (run.exec_errno != 0) {
    return {Ia32Exec::kProbeFailed,
            "execve(\"" + program + "\") without vdsorun failed: " + strerror(run.exec_errno)};
  }
  if (run.exited && run.exit_code == expected_exit_code) return {Ia32Exec::kSupported, ""};
  if (run.exited) {
    return {Ia32Exec::kProbeFailed, program + " without vdsorun exited with " +
                                        std::to_string(run.exit_code) + ", expected " +
                                        std::to_string(expected_exit_code)};
  }
  if (run.signaled) {
    const char* name = sigabbrev_np(run.signal);
    return {Ia32Exec::kProbeFailed, program + " without vdsorun was killed by SIG" +
                                        (name ? name : std::to_string(run.signal))};
  }
  return {Ia32Exec::kProbeFailed, program + " without vdsorun: no exit status"};
}

NativeRun run_natively(const std::vector<std::string>& argv) {
  NativeRun r;
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  // glibc's posix_spawn reports the child's execve errno as its return value.
  const int err = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) {
    r.exec_errno = err;
    return r;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return r;  // no exit status: the verdict says so
  }
  if (WIFEXITED(status)) {
    r.exited = true;
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.signaled = true;
    r.signal = WTERMSIG(status);
  }
  return r;
}

}  // namespace e2e
