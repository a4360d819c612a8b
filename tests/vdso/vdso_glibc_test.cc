// Tests that glibc itself takes the injected vDSO: a program started with AT_SYSINFO_EHDR
// pointing at our image (as the injector will arrange) finds it through the dynamic linker,
// and libc's clock_gettime, gettimeofday, time, getcpu and clock_getres agree with the kernel.
// The client's path comes from the VDSO_CLIENT environment variable.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "emulator/clock/vvar_object.h"
#include "tests/vdso/injected_vdso.h"
#include "tests/vdso/userland_exec.h"

namespace vdso_test {
namespace {

// Runs the client with our vDSO; returns its output, or "" with a failure recorded.
std::string run_client(const InjectedVdso& v, int64_t expected_offset_ns) {
  const char* client = std::getenv("VDSO_CLIENT");
  if (client == nullptr) {
    ADD_FAILURE() << "VDSO_CLIENT is not set";
    return "";
  }
  char ehdr[32];
  std::snprintf(ehdr, sizeof ehdr, "%lx", reinterpret_cast<unsigned long>(v.ehdr()));
  std::string why;
  const auto exec = UserlandExec::prepare(client, {ehdr, std::to_string(expected_offset_ns)},
                                          reinterpret_cast<uint64_t>(v.ehdr()), &why);
  if (!exec) {
    ADD_FAILURE() << why;
    return "";
  }
  int pipefd[2];
  if (pipe(pipefd) != 0) return "";
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(pipefd[1], 1);
    close(pipefd[0]);
    close(pipefd[1]);
    _exit(exec->run());
  }
  close(pipefd[1]);
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "status " << status << ", output: " << out;
  return out;
}

TEST(GlibcWithInjectedVdso, UsesItAndAgreesWithTheKernel) {
  VDSO_SKIP_UNLESS_TSC_PATH();
  InjectedVdso v;
  ASSERT_TRUE(v.timekeeper().wait_until_valid(std::chrono::seconds(5))) << v.timekeeper().status();
  const std::string out = run_client(v, 0);
  EXPECT_NE(out.find("VDSO_CLIENT_OK"), std::string::npos) << out;
}

TEST(GlibcWithInjectedVdso, CallsReallyGoThroughIt) {
  // A transform only our vDSO can apply: MONOTONIC an hour ahead (on the fallback path, so
  // that this test may write the page while the timekeeper writes nothing).
  emulator::TimekeeperOptions options;
  options.force_syscalls = true;
  InjectedVdso v(options);
  v.timekeeper().wait_until_valid(std::chrono::milliseconds(100));
  vdso::Vvar* page = v.writable_page();
  constexpr int64_t kHour = 3600000000000;
  {
    emulator::VvarWriteSection w(page);
    for (uint32_t id = 0; id < vdso::kClockSlots; ++id)
      vdso::vvar_store(page->transform.rate_mult[id], uint64_t{1} << 32);
    vdso::vvar_store(page->transform.rate_shift, 32u);
    for (uint32_t id = 0; id < vdso::kClockSlots; ++id) {
      vdso::vvar_store(page->transform.anchor_out[id], id == 1 ? kHour : int64_t{0});
    }
    vdso::vvar_store(page->transform_enabled, 1u);
  }
  const std::string out = run_client(v, kHour);
  EXPECT_NE(out.find("VDSO_CLIENT_OK"), std::string::npos) << out;
}

}  // namespace
}  // namespace vdso_test
