// Tests PATH lookup (execvp rules) and spawn failures' exit codes.
#include "emulator/trace/spawn.h"

#include <errno.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

namespace emulator {

TEST(Spawn, CandidatesFollowPathOrder) {
  EXPECT_EQ(exec_candidates("ls", "/a:/b"), (std::vector<std::string>{"/a/ls", "/b/ls"}));
  EXPECT_EQ(exec_candidates("ls", ":/b:"), (std::vector<std::string>{"./ls", "/b/ls", "./ls"}));
  EXPECT_EQ(exec_candidates("ls", nullptr), (std::vector<std::string>{"/bin/ls", "/usr/bin/ls"}));
}

TEST(Spawn, NameWithSlashIsUsedAsIs) {
  EXPECT_EQ(exec_candidates("./x", "/a"), (std::vector<std::string>{"./x"}));
  EXPECT_EQ(exec_candidates("/bin/true", "/a"), (std::vector<std::string>{"/bin/true"}));
}

TEST(Spawn, MissingProgramIs127) {
  BpfProgram filter = vsyscall_filter();
  try {
    spawn_traced("/nonexistent/vdsorun-test", {"/nonexistent/vdsorun-test"}, filter, {});
    FAIL() << "spawn of a missing program succeeded";
  } catch (const SpawnError& e) {
    EXPECT_EQ(e.exit_code(), 127);
    EXPECT_NE(std::string(e.what()).find("No such file"), std::string::npos);
  }
}

TEST(Spawn, NonExecutableIs126) {
  char path[] = "/tmp/vdsorun-noexec-XXXXXX";
  const int fd = mkstemp(path);  // mode 0600: no execute bit for anyone
  ASSERT_GE(fd, 0);
  close(fd);
  BpfProgram filter = vsyscall_filter();
  struct Unlink {
    const char* p;
    ~Unlink() { unlink(p); }
  } cleanup{path};
  try {
    spawn_traced(path, {path}, filter, {});
    FAIL() << "spawn of a non-executable file succeeded";
  } catch (const SpawnError& e) {
    EXPECT_EQ(e.exit_code(), 126);
  }
}

// vdsorun starts the child before its own set-up; if that set-up throws, the child it never
// waited for must not outlive it.
TEST(Spawn, PendingChildNeverWaitedForIsKilledAndReaped) {
  BpfProgram filter = vsyscall_filter();
  pid_t pid = -1;
  {
    PendingSpawn pending = start_traced("/bin/sleep", {"/bin/sleep", "100"}, filter, {});
    pid = pending.pid();
    ASSERT_GT(pid, 0);
  }
  errno = 0;
  EXPECT_EQ(waitpid(pid, nullptr, __WALL | WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(Spawn, PendingChildStopsAtItsExec) {
  BpfProgram filter = vsyscall_filter();
  PendingSpawn pending = start_traced("/bin/true", {"/bin/true"}, filter, {});
  const SpawnedProgram prog = pending.wait_for_exec();
  EXPECT_GT(prog.pid, 0);
  EXPECT_EQ(pending.pid(), -1) << "handed over: the destructor must not kill it";
  EXPECT_EQ(prog.exec_status >> 8, SIGTRAP | (PTRACE_EVENT_EXEC << 8));
  kill(prog.pid, SIGKILL);
  waitpid(prog.pid, nullptr, __WALL);
}

}  // namespace emulator
