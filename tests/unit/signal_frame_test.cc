// Tests the sigcontext patch on a real signal: a traced child faults, the tracer single-steps
// the SIGSEGV into the child's handler, writes err/trapno/cr2 into the frame, and the handler
// reports what it sees.
#include "emulator/trace/signal_frame.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/ucontext.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>

#include "emulator/trace/ptrace_ops.h"

namespace emulator {
namespace {

int g_report_fd = -1;

void report_frame(int, siginfo_t*, void* ctx) {
  const auto* uc = static_cast<const ucontext_t*>(ctx);
  const uint64_t v[3] = {static_cast<uint64_t>(uc->uc_mcontext.gregs[REG_ERR]),
                         static_cast<uint64_t>(uc->uc_mcontext.gregs[REG_TRAPNO]),
                         static_cast<uint64_t>(uc->uc_mcontext.gregs[REG_CR2])};
  const ssize_t n = write(g_report_fd, v, sizeof v);
  _exit(n == sizeof v ? 0 : 1);
}

struct Child {
  pid_t pid = -1;
  int report = -1;
};

// A traced child stopped at the signal-delivery-stop of its own write fault at address 8.
Child faulting_child() {
  int fds[2];
  if (pipe(fds) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    g_report_fd = fds[1];
    struct sigaction sa {};
    sa.sa_sigaction = report_frame;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, nullptr);
    if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) _exit(2);
    raise(SIGSTOP);
    volatile uintptr_t bad = 8;  // hidden from the compiler's bounds checks
    *reinterpret_cast<volatile int*>(bad) = 1;
    _exit(3);
  }
  close(fds[1]);
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status) || WSTOPSIG(status) != SIGSTOP)
    return {pid, fds[0]};
  ptrace(PTRACE_CONT, pid, nullptr, nullptr);
  if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status) || WSTOPSIG(status) != SIGSEGV)
    return {pid, fds[0]};
  return {pid, fds[0]};
}

}  // namespace

TEST(SignalFrame, SigcontextAddressNeedsTheKernelsFrameLayout) {
  vsyscall::Gpr r{};
  r.rsp = 0x7ffc0000;
  r.rdx = r.rsp + 8;
  r.rsi = r.rdx + 304;
  r.rdi = SIGSEGV;
  EXPECT_EQ(sigcontext_address(r, SIGSEGV), r.rdx + 40);
  EXPECT_FALSE(sigcontext_address(r, SIGBUS).has_value());
  vsyscall::Gpr moved = r;
  moved.rdx += 8;
  EXPECT_FALSE(sigcontext_address(moved, SIGSEGV).has_value());
  moved = r;
  moved.rsi += 128;  // glibc's ucontext_t size: not the kernel's frame
  EXPECT_FALSE(sigcontext_address(moved, SIGSEGV).has_value());
}

TEST(SignalFrame, SingleStepIntoHandlerThenPatchSetsErrTrapnoCr2) {
  const Child c = faulting_child();
  ASSERT_GT(c.pid, 0);
  const auto at_fault = get_regs(c.pid);
  ASSERT_TRUE(at_fault.has_value());
  ASSERT_TRUE(single_step(c.pid, SIGSEGV));
  int status = 0;
  ASSERT_EQ(waitpid(c.pid, &status, 0), c.pid);
  ASSERT_TRUE(WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP) << "status " << status;

  const FaultArchInfo info{0x15, 14, 0xffffffffff600400ULL};
  // A frame for another signal, or interrupting another rip, is left alone.
  EXPECT_FALSE(patch_signal_frame(c.pid, SIGBUS, at_fault->rip, info));
  EXPECT_FALSE(patch_signal_frame(c.pid, SIGSEGV, at_fault->rip + 1, info));
  EXPECT_TRUE(patch_signal_frame(c.pid, SIGSEGV, at_fault->rip, info));

  ASSERT_TRUE(cont(c.pid, 0));
  uint64_t seen[3] = {};
  EXPECT_EQ(read(c.report, seen, sizeof seen), static_cast<ssize_t>(sizeof seen));
  ASSERT_EQ(waitpid(c.pid, &status, 0), c.pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  close(c.report);
  EXPECT_EQ(seen[0], info.err);
  EXPECT_EQ(seen[1], info.trapno);
  EXPECT_EQ(seen[2], *info.cr2);
}

TEST(SignalFrame, UnpatchedFrameKeepsTheFaultsOwnValues) {
  const Child c = faulting_child();
  ASSERT_GT(c.pid, 0);
  ASSERT_TRUE(cont(c.pid, SIGSEGV));
  uint64_t seen[3] = {};
  EXPECT_EQ(read(c.report, seen, sizeof seen), static_cast<ssize_t>(sizeof seen));
  int status = 0;
  ASSERT_EQ(waitpid(c.pid, &status, 0), c.pid);
  close(c.report);
  EXPECT_EQ(seen[0], 0x6u);  // user, write, not present
  EXPECT_EQ(seen[1], 14u);
  EXPECT_EQ(seen[2], 8u);
}

}  // namespace emulator
