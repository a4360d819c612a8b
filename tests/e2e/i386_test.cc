// A 32-bit static program (the C clock probe built with gcc -m32 at test time) under vdsorun:
// the injector leaves 32-bit images alone, so it keeps the kernel's 32-bit vDSO, its clocks
// are right, and vdsorun exits with its status. It runs natively first: on a kernel that cannot
// exec i386 binaries the test is skipped with that reason.
#include <gtest/gtest.h>

#include "clock_checks.h"
#include "e2e_support.h"
#include "ia32_exec.h"

namespace e2e {
namespace {

bool can_build_i386_static() {
  const std::string dir = work_dir();
  const std::string src = dir + "/i386_check.c";
  auto r = integration::run_command({"sh", "-c",
                                     "printf 'int main(void){return 0;}\\n' > '" + src +
                                         "' && gcc -m32 -static -o '" + dir + "/i386_check' '" +
                                         src + "'"});
  return r.exited && r.exit_code == 0;
}

// The probe built as a 32-bit static program, or "" with *why_not set.
std::string i386_probe(std::string* why_not) {
  WorkLock lock("i386");
  if (auto why = ensure_package("gcc-multilib", can_build_i386_static)) {
    *why_not = *why;
    return "";
  }
  const std::string out = work_dir() + "/clock_probe_i386";
  auto r = integration::run_command({"gcc", "-m32", "-static", "-O2", "-std=gnu11", "-Wall", "-o",
                                     out, source_dir() + "/clock_probe.c"});
  if (!r.exited || r.exit_code != 0) {
    *why_not = "gcc -m32 could not build clock_probe.c: " + r.describe();
    return "";
  }
  return out;
}

TEST(I386, StaticProgramKeepsTheKernelsVdsoAndRuns) {
  std::string why_not;
  const std::string probe = i386_probe(&why_not);
  if (probe.empty()) {
    GTEST_SKIP() << "no 32-bit toolchain: gcc-multilib could not be installed: " << why_not;
  }
  // First without vdsorun: a kernel that cannot exec i386 at all is a reason to skip, not a
  // vdsorun failure.
  const Ia32Verdict native = ia32_exec_verdict(run_natively({probe, "--exit", "7"}), probe, 7);
  if (native.exec == Ia32Exec::kUnsupported) GTEST_SKIP() << native.why;
  ASSERT_EQ(native.exec, Ia32Exec::kSupported) << native.why;
  RunSpec spec;
  spec.vdso = Vdso::kInject;
  const Outcome r = run({probe, "--exit", "7"}, spec);
  ASSERT_TRUE(r.result.exited && r.result.exit_code == 7) << r.command << "\n"
                                                          << r.result.describe();
  const auto records = parse_records(r.result.out);
  ASSERT_NE(find_record(records, "done"), nullptr) << r.result.describe();
  const Record* p = find_record(records, "probe");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->at("bits"), "32") << p->line;

  check_report_notes(r, "32-bit image: untouched");
  check_vdso_identity(records, Expect::kKernel, kCVdsoSymbols);
  check_brackets(records);
  check_getres_and_getcpu(records);
  // 32-bit glibc asks the kernel for clock_getres (clock_getres_time64).
  check_without_syscalls(
      records, Expect::kKernel,
      {"clock_gettime_realtime", "clock_gettime_monotonic", "gettimeofday", "time", "sched_getcpu"},
      "");
}

}  // namespace
}  // namespace e2e
