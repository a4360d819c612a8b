// Tests PATH lookup (execvp rules) and spawn failures' exit codes.
#include "emulator/trace/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
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

// execvp("") is ENOENT without a search; env(1) exits 127 for it.
TEST(Spawn, EmptyNameHasNoCandidates) {
  EXPECT_TRUE(exec_candidates("", "/a:/b").empty());
  BpfProgram filter = vsyscall_filter();
  try {
    spawn_traced("", {""}, filter, {});
    FAIL() << "spawn of an empty name succeeded";
  } catch (const SpawnError& e) {
    EXPECT_EQ(e.exit_code(), 127) << e.what();
  }
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

// vdsorun may die at any point between fork() and the child's exec. The child must die with
// it and must not keep vdsorun's descriptors: here a pipe stands for the caller's
// `out=$(vdsorun ...)`, which waits until every holder of the write end is gone.
SpawnPoint g_die_at;
int g_child_pid_fd = -1;

void die_at_point(SpawnPoint p, pid_t child) {
  if (p != g_die_at) return;
  // Tell the test whom to clean up if the check fails.
  ssize_t ignored = write(g_child_pid_fd, &child, sizeof child);
  (void)ignored;
  raise(SIGKILL);
}

class SpawnDeath : public testing::TestWithParam<SpawnPoint> {};

TEST_P(SpawnDeath, ChildNeverOutlivesItsCaller) {
  int out[2], child_pid[2];
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(child_pid, O_CLOEXEC), 0);
  const pid_t fake_vdsorun = fork();
  ASSERT_GE(fake_vdsorun, 0);
  if (fake_vdsorun == 0) {
    dup2(out[1], STDOUT_FILENO);  // the caller's stdout; dup2 clears close-on-exec
    g_die_at = GetParam();
    g_child_pid_fd = child_pid[1];
    BpfProgram filter = vsyscall_filter();
    try {
      start_traced("/bin/sleep", {"/bin/sleep", "60"}, filter, {}, {}, die_at_point);
    } catch (...) {
    }
    _exit(3);  // not reached: the probe kills us
  }
  close(out[1]);
  close(child_pid[1]);
  pid_t child = -1;
  ASSERT_EQ(read(child_pid[0], &child, sizeof child), static_cast<ssize_t>(sizeof child));
  close(child_pid[0]);
  int status = 0;
  ASSERT_EQ(waitpid(fake_vdsorun, &status, 0), fake_vdsorun);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  // End of file on the pipe: nobody holds its write end any more. The wait is a hang guard,
  // not a timing assertion (a surviving child would hold it for 60 s).
  pollfd p{out[0], POLLIN, 0};
  const int ready = poll(&p, 1, 30'000);
  if (ready != 1) kill(child, SIGKILL);  // do not leave it behind
  ASSERT_EQ(ready, 1) << "the child still holds the caller's stdout";
  char byte;
  EXPECT_EQ(read(out[0], &byte, 1), 0) << "the child wrote to stdout";
  close(out[0]);
}

INSTANTIATE_TEST_SUITE_P(Spawn, SpawnDeath,
                         testing::Values(SpawnPoint::kForked, SpawnPoint::kSeized,
                                         SpawnPoint::kStarted),
                         [](const testing::TestParamInfo<SpawnPoint>& info) {
                           switch (info.param) {
                             case SpawnPoint::kForked:
                               return "BeforeSeize";
                             case SpawnPoint::kSeized:
                               return "BeforeGo";
                             case SpawnPoint::kStarted:
                               return "BeforeExec";
                           }
                           return "?";
                         });

}  // namespace emulator
