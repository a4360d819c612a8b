// Tests the seccomp policy and that the compiled filter really traps only the vsyscall
// numbers: installed in a forked child with no tracer, a traced syscall fails with ENOSYS.
#include "emulator/seccomp_policy.h"

#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace emulator {

TEST(SeccompPolicy, TracesExactlyTheThreeVsyscallNumbers) {
  auto rules = vsyscall_policy();
  std::vector<int> traced;
  for (const auto& r : rules)
    if (r.trace) traced.push_back(r.syscall_nr);
  EXPECT_EQ(traced, (std::vector<int>{SYS_gettimeofday, SYS_time, SYS_getcpu}));
}

TEST(SeccompPolicy, CompiledFilterTrapsOnlyPolicySyscalls) {
  BpfProgram prog = compile_policy(vsyscall_policy());
  ASSERT_FALSE(prog.insns.empty());
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    sock_fprog fp = prog.fprog();
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(10);
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) != 0) _exit(11);
    // SECCOMP_RET_TRACE with no tracer: the syscall fails with ENOSYS.
    timeval tv;
    if (syscall(SYS_gettimeofday, &tv, nullptr) != -1 || errno != ENOSYS) _exit(12);
    if (syscall(SYS_time, nullptr) != -1 || errno != ENOSYS) _exit(13);
    unsigned cpu;
    if (syscall(SYS_getcpu, &cpu, nullptr, nullptr) != -1 || errno != ENOSYS) _exit(14);
    // Everything else runs.
    if (syscall(SYS_getppid) <= 0) _exit(15);
    timespec ts;
    if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) != 0) _exit(16);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace emulator
