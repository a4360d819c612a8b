// Tests the i386 exec verdict (tests/e2e/ia32_exec.h) for every kind of native run, so that the
// skip path is covered on machines that can exec i386 and the run path on those that cannot.
#include "tests/e2e/ia32_exec.h"

#include <errno.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

namespace e2e {
namespace {

NativeRun exec_failed(int err) {
  NativeRun r;
  r.exec_errno = err;
  return r;
}

NativeRun exited(int code) {
  NativeRun r;
  r.exited = true;
  r.exit_code = code;
  return r;
}

NativeRun killed(int sig) {
  NativeRun r;
  r.signaled = true;
  r.signal = sig;
  return r;
}

TEST(Ia32Exec, EnoexecIsUnsupportedWithTheReason) {
  const Ia32Verdict v = ia32_exec_verdict(exec_failed(ENOEXEC), "/w/probe_i386", 7);
  EXPECT_EQ(v.exec, Ia32Exec::kUnsupported);
  EXPECT_NE(v.why.find("this kernel cannot exec i386 binaries (ENOEXEC): "), std::string::npos)
      << v.why;
  EXPECT_NE(v.why.find("/w/probe_i386"), std::string::npos) << v.why;
  EXPECT_NE(v.why.find("Exec format error"), std::string::npos) << v.why;
}

TEST(Ia32Exec, ExpectedExitIsSupported) {
  const Ia32Verdict v = ia32_exec_verdict(exited(7), "p", 7);
  EXPECT_EQ(v.exec, Ia32Exec::kSupported);
  EXPECT_EQ(v.why, "");
}

TEST(Ia32Exec, OtherExecErrorsFailTheProbe) {
  for (int err : {EACCES, ENOENT, ENOMEM, E2BIG, ETXTBSY}) {
    const Ia32Verdict v = ia32_exec_verdict(exec_failed(err), "p", 0);
    EXPECT_EQ(v.exec, Ia32Exec::kProbeFailed) << err;
    EXPECT_NE(v.why.find(strerror(err)), std::string::npos) << v.why;
  }
}

TEST(Ia32Exec, WrongExitCodeFailsTheProbe) {
  const Ia32Verdict v = ia32_exec_verdict(exited(0), "p", 7);
  EXPECT_EQ(v.exec, Ia32Exec::kProbeFailed);
  EXPECT_NE(v.why.find("exited with 0, expected 7"), std::string::npos) << v.why;
}

TEST(Ia32Exec, SignalFailsTheProbe) {
  const Ia32Verdict v = ia32_exec_verdict(killed(SIGSEGV), "p", 7);
  EXPECT_EQ(v.exec, Ia32Exec::kProbeFailed);
  EXPECT_NE(v.why.find("SIGSEGV"), std::string::npos) << v.why;
}

TEST(Ia32Exec, NoStatusFailsTheProbe) {
  const Ia32Verdict v = ia32_exec_verdict(NativeRun{}, "p", 7);
  EXPECT_EQ(v.exec, Ia32Exec::kProbeFailed);
  EXPECT_NE(v.why.find("no exit status"), std::string::npos) << v.why;
}

// The runner itself: posix_spawn reports ENOEXEC instead of retrying the file as a script.
TEST(Ia32Exec, RunNativelyReportsEnoexecWithoutAShellFallback) {
  char path[] = "/tmp/ia32_exec_test_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  // Not an ELF and no #! line: execve says ENOEXEC; execvp would have run it with /bin/sh.
  ASSERT_EQ(write(fd, "exit 3\n", 7), 7);
  fchmod(fd, 0755);
  close(fd);
  const NativeRun r = run_natively({path});
  unlink(path);
  EXPECT_EQ(r.exec_errno, ENOEXEC);
  EXPECT_EQ(ia32_exec_verdict(r, path, 3).exec, Ia32Exec::kUnsupported);
}

TEST(Ia32Exec, RunNativelyReportsTheExitStatus) {
  const NativeRun r = run_natively({"/bin/sh", "-c", "exit 7"});
  EXPECT_EQ(r.exec_errno, 0);
  EXPECT_TRUE(r.exited);
  EXPECT_EQ(r.exit_code, 7);
  EXPECT_EQ(ia32_exec_verdict(r, "/bin/sh", 7).exec, Ia32Exec::kSupported);
}

}  // namespace
}  // namespace e2e
