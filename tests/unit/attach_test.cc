// Tests attaching to running processes: the options an attached tracee gets, the words of each
// refusal, the walk over descendants, and seizing every thread of a real process.
#include "emulator/trace/attach.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>

#include "emulator/trace/maps.h"

namespace emulator {
namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(Attach, OptionsFollowTheTreeAndNeverKillOnExit) {
  const long o = attach_options();
  EXPECT_EQ(o & PTRACE_O_EXITKILL, 0);  // vdsorun's death must not kill the program
  EXPECT_EQ(o & PTRACE_O_TRACESECCOMP, 0);
  for (long want :
       {PTRACE_O_TRACEFORK, PTRACE_O_TRACEVFORK, PTRACE_O_TRACECLONE, PTRACE_O_TRACEEXEC})
    EXPECT_NE(o & want, 0) << want;
}

TEST(Attach, ExplainsEachRefusal) {
  AttachFacts f;
  f.seize_errno = EPERM;
  f.uids = {1000, 1000, 1000, 1000};
  f.our_uid = 1000;

  AttachFacts gone = f;
  gone.seize_errno = ESRCH;
  EXPECT_EQ(explain_refusal(42, gone), "no process with id 42");

  AttachFacts zombie = f;
  zombie.state = 'Z';
  EXPECT_TRUE(contains(explain_refusal(42, zombie), "already exited"));

  AttachFacts kthread = f;
  kthread.kernel_thread = true;
  EXPECT_TRUE(contains(explain_refusal(2, kthread), "kernel thread"));

  AttachFacts traced = f;
  traced.tracer = 77;
  traced.tracer_name = "gdb";
  const std::string t = explain_refusal(42, traced);
  EXPECT_TRUE(contains(t, "already traced by process 77 (gdb)")) << t;

  AttachFacts other = f;
  other.uids = {0, 0, 0, 0};
  const std::string u = explain_refusal(42, other);
  EXPECT_TRUE(contains(u, "belongs to user 0")) << u;
  EXPECT_TRUE(contains(u, "runs as user 1000")) << u;
  other.cap_sys_ptrace = true;  // root may: then it is something else
  EXPECT_FALSE(contains(explain_refusal(42, other), "belongs to user"));

  for (int scope : {1, 2, 3}) {
    AttachFacts yama = f;
    yama.yama_scope = scope;
    const std::string y = explain_refusal(42, yama);
    EXPECT_TRUE(contains(y, "ptrace_scope = " + std::to_string(scope))) << y;
  }
  AttachFacts yama_root = f;
  yama_root.yama_scope = 1;
  yama_root.cap_sys_ptrace = true;
  EXPECT_FALSE(contains(explain_refusal(42, yama_root), "Yama"));

  const std::string other_reason = explain_refusal(42, f);
  EXPECT_TRUE(contains(other_reason, "ptrace(PTRACE_SEIZE, 42)")) << other_reason;
}

// A child that runs `threads` extra threads (and, with `grandchild`, a child of its own) and
// then sleeps until killed.
pid_t start_child(int threads, bool grandchild) {
  int ready[2];
  if (pipe(ready) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    close(ready[0]);
    if (grandchild && fork() == 0) {
      while (true) pause();
    }
    for (int i = 0; i < threads; ++i) {
      pthread_t t;
      pthread_create(
          &t, nullptr,
          [](void*) -> void* {
            while (true) pause();
          },
          nullptr);
    }
    char c = 'r';
    if (write(ready[1], &c, 1) != 1) _exit(1);
    while (true) pause();
  }
  close(ready[1]);
  char c;
  if (read(ready[0], &c, 1) != 1) return -1;
  close(ready[0]);
  return pid;
}

void end_child(pid_t pid) {
  for (pid_t d : descendants_of(pid)) kill(d, SIGKILL);
  kill(pid, SIGKILL);
  // Reap every traced thread (a leader's death is reported only after its threads'), until
  // the child itself is gone.
  int status;
  pid_t got;
  while ((got = waitpid(-1, &status, __WALL)) > 0 &&
         !(got == pid && (WIFEXITED(status) || WIFSIGNALED(status)))) {
  }
}

TEST(Attach, DescendantsIncludeGrandchildren) {
  const pid_t child = start_child(0, true);
  ASSERT_GT(child, 0);
  std::vector<pid_t> d;
  // The grandchild is forked before the child says ready, but /proc may lag a fork by nothing:
  // it is there.
  d = descendants_of(getpid());
  EXPECT_NE(std::find(d.begin(), d.end(), child), d.end());
  EXPECT_EQ(descendants_of(child).size(), 1u);
  end_child(child);
}

TEST(Attach, SeizesEveryThread) {
  const pid_t child = start_child(3, false);
  ASSERT_GT(child, 0);
  std::vector<AttachedProcess> a;
  // On a separate thread: the test's own thread stays out of the tracer role of other tests.
  std::thread([&] {
    a = attach_to(child, false);
    // The tracer must reap; SIGKILL is delivered even to seized tracees.
    end_child(child);
  }).join();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].pid, child);
  EXPECT_EQ(a[0].threads.size(), 4u);
}

TEST(Attach, RefusesItselfAndTheMissing) {
  try {
    attach_to(getpid(), false);
    ADD_FAILURE() << "attached to itself";
  } catch (const AttachError& e) {
    EXPECT_TRUE(contains(e.what(), "vdsorun itself")) << e.what();
  }
  // Past the largest pid Linux hands out (4194304).
  try {
    attach_to(0x7ffffff0, false);
    ADD_FAILURE() << "attached to a missing process";
  } catch (const AttachError& e) {
    EXPECT_TRUE(contains(e.what(), "no process with id")) << e.what();
  }
}

}  // namespace
}  // namespace emulator
