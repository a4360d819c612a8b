// Tests vdsorun's hand-written seccomp filter twice: on a small classic-BPF interpreter over
// synthesized seccomp_data (every case, no kernel), and loaded into the kernel in a forked
// child with no tracer, where SECCOMP_RET_TRACE makes the syscall fail with ENOSYS.
#include "emulator/trace/seccomp_policy.h"

#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>

namespace emulator {
namespace {

constexpr uint32_t kTraceVsyscall = SECCOMP_RET_TRACE | kTraceDataVsyscall;
constexpr uint32_t kTraceInjectDone = SECCOMP_RET_TRACE | kTraceDataInjectDone;
constexpr uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr uint64_t kPage = 0xffffffffff600000ULL;
constexpr int kX32Bit = 0x40000000;  // __X32_SYSCALL_BIT

// Runs a classic BPF program the way the kernel's seccomp does, for the instructions the
// filter may use. nullopt: an instruction it does not know, a jump out of the program, or no
// RET (the kernel's checker would refuse all three).
std::optional<uint32_t> run_bpf(const BpfProgram& prog, const seccomp_data& d) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(&d);
  uint32_t a = 0;
  size_t pc = 0;
  while (pc < prog.insns.size()) {
    const sock_filter& i = prog.insns[pc++];
    switch (i.code) {
      case BPF_LD | BPF_W | BPF_ABS:
        if (i.k % 4 != 0 || i.k + 4 > sizeof d) return std::nullopt;
        std::memcpy(&a, bytes + i.k, 4);
        break;
      case BPF_ALU | BPF_AND | BPF_K:
        a &= i.k;
        break;
      case BPF_JMP | BPF_JA:
        pc += i.k;
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
        pc += a == i.k ? i.jt : i.jf;
        break;
      case BPF_JMP | BPF_JGE | BPF_K:
        pc += a >= i.k ? i.jt : i.jf;
        break;
      case BPF_JMP | BPF_JGT | BPF_K:
        pc += a > i.k ? i.jt : i.jf;
        break;
      case BPF_JMP | BPF_JSET | BPF_K:
        pc += (a & i.k) ? i.jt : i.jf;
        break;
      case BPF_RET | BPF_K:
        return i.k;
      default:
        return std::nullopt;
    }
  }
  return std::nullopt;
}

seccomp_data data(int nr, uint64_t ip, uint32_t arch = AUDIT_ARCH_X86_64, uint64_t arg0 = 0,
                  uint64_t arg1 = 0) {
  seccomp_data d{};
  d.nr = nr;
  d.arch = arch;
  d.instruction_pointer = ip;
  d.args[0] = arg0;
  d.args[1] = arg1;
  return d;
}

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(v));
  return buf;
}

constexpr int kVsyscallNumbers[] = {SYS_gettimeofday, SYS_time, SYS_getcpu};

}  // namespace

TEST(SeccompPolicy, NumbersAgreeWithLibseccompsTables) {
  // Cross-check the constants the filter is built from against libseccomp's own tables.
  EXPECT_EQ(seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, "gettimeofday"), 96);
  EXPECT_EQ(seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, "time"), 201);
  EXPECT_EQ(seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, "getcpu"), 309);
  EXPECT_EQ(seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, "getpid"), SYS_getpid);
  EXPECT_EQ(syscall_name(201), "time");
  EXPECT_EQ(syscall_name(99999), "syscall 99999");
}

TEST(SeccompPolicy, ProgramIsSmallAndEndsInReturns) {
  const BpfProgram p = vsyscall_filter();
  ASSERT_FALSE(p.insns.empty());
  EXPECT_LE(p.insns.size(), 32u);
  EXPECT_EQ(p.insns.back().code, BPF_RET | BPF_K);
  // Every jump lands inside the program.
  for (size_t i = 0; i < p.insns.size(); ++i) {
    if (BPF_CLASS(p.insns[i].code) != BPF_JMP) continue;
    EXPECT_LT(i + 1 + p.insns[i].jt, p.insns.size()) << "line " << i;
    EXPECT_LT(i + 1 + p.insns[i].jf, p.insns.size()) << "line " << i;
  }
}

TEST(SeccompPolicy, TracesTheThreeNumbersAtEveryEntry) {
  const BpfProgram p = vsyscall_filter();
  for (int nr : kVsyscallNumbers)
    for (uint64_t off : {0x000, 0x400, 0x800})
      EXPECT_EQ(run_bpf(p, data(nr, kPage + off)), kTraceVsyscall)
          << "nr " << nr << " at " << hex(kPage + off);
}

TEST(SeccompPolicy, TracesOffEntryAddressesInsideThePage) {
  // The kernel faults those before seccomp, but if one ever got here the engine judges it.
  const BpfProgram p = vsyscall_filter();
  for (int nr : kVsyscallNumbers)
    for (uint64_t off : {0x001, 0x3ff, 0x401, 0x7ff, 0xfff})
      EXPECT_EQ(run_bpf(p, data(nr, kPage + off)), kTraceVsyscall)
          << "nr " << nr << " at " << hex(kPage + off);
}

TEST(SeccompPolicy, AllowsTheNumbersJustOutsideThePage) {
  const BpfProgram p = vsyscall_filter();
  for (int nr : kVsyscallNumbers)
    for (uint64_t ip : {kPage + 0x1000, kPage - 1, kPage + 0x1400})
      EXPECT_EQ(run_bpf(p, data(nr, ip)), kAllow) << "nr " << nr << " at " << hex(ip);
}

TEST(SeccompPolicy, AllowsOrdinaryCallsOfTheSameNumbers) {
  const BpfProgram p = vsyscall_filter();
  // Low half inside the page's range but a different high half must not match either.
  const uint64_t ips[] = {0x401000,           0x7f1234567890, 0x00000000ff600400,
                          0xfffffffeff600400, 0x7fffff600400, 0};
  for (int nr : kVsyscallNumbers)
    for (uint64_t ip : ips) EXPECT_EQ(run_bpf(p, data(nr, ip)), kAllow) << nr << " " << hex(ip);
}

TEST(SeccompPolicy, AllowsOtherSyscallsFromThePage) {
  const BpfProgram p = vsyscall_filter();
  for (int nr : {0, 1, SYS_getppid, SYS_getpid, SYS_clock_gettime, SYS_getcpu + 1, 95})
    for (uint64_t off : {0x000, 0x400, 0x800})
      EXPECT_EQ(run_bpf(p, data(nr, kPage + off)), kAllow) << nr;
}

TEST(SeccompPolicy, AllowsEverythingOfAnotherArchitecture) {
  const BpfProgram p = vsyscall_filter();
  for (uint32_t arch : {uint32_t{AUDIT_ARCH_I386}, uint32_t{AUDIT_ARCH_AARCH64}, 0u})
    for (int nr : {SYS_gettimeofday, SYS_time, SYS_getcpu, 13, 78, 318, SYS_getpid, 20})
      for (uint64_t off : {0x000, 0x400, 0x800, 0x001}) {
        EXPECT_EQ(run_bpf(p, data(nr, kPage + off, arch)), kAllow) << arch << " " << nr;
        EXPECT_EQ(run_bpf(p, data(nr, kPage + off, arch, kInjectDoneMagic)), kAllow);
      }
}

TEST(SeccompPolicy, AllowsX32CallsOfTheSameNumbers) {
  const BpfProgram p = vsyscall_filter();
  for (int nr : kVsyscallNumbers)
    EXPECT_EQ(run_bpf(p, data(nr | kX32Bit, kPage + 0x400)), kAllow) << nr;
  EXPECT_EQ(run_bpf(p, data(SYS_getpid | kX32Bit, 0x401000, AUDIT_ARCH_X86_64, kInjectDoneMagic)),
            kAllow);
}

TEST(SeccompPolicy, TracesTheInjectDoneMarkerOnlyWithTheMagic) {
  const BpfProgram p = vsyscall_filter();
  EXPECT_EQ(run_bpf(p, data(SYS_getpid, 0x401000, AUDIT_ARCH_X86_64, kInjectDoneMagic)),
            kTraceInjectDone);
  EXPECT_EQ(run_bpf(p, data(SYS_getpid, 0x7f0000001000, AUDIT_ARCH_X86_64, kInjectDoneMagic)),
            kTraceInjectDone);
  const uint64_t wrong[] = {0, kInjectDoneMagic & 0xffffffffULL,  // right low half only
                            kInjectDoneMagic & ~0xffffffffULL,    // right high half only
                            kInjectDoneMagic ^ 1, kInjectDoneMagic ^ (1ULL << 63)};
  for (uint64_t arg : wrong)
    EXPECT_EQ(run_bpf(p, data(SYS_getpid, 0x401000, AUDIT_ARCH_X86_64, arg)), kAllow) << hex(arg);
  // The magic in the wrong argument, or with another syscall.
  EXPECT_EQ(run_bpf(p, data(SYS_getpid, 0x401000, AUDIT_ARCH_X86_64, 0, kInjectDoneMagic)), kAllow);
  EXPECT_EQ(run_bpf(p, data(SYS_getppid, 0x401000, AUDIT_ARCH_X86_64, kInjectDoneMagic)), kAllow);
  EXPECT_EQ(run_bpf(p, data(SYS_time, 0x401000, AUDIT_ARCH_X86_64, kInjectDoneMagic)), kAllow);
}

TEST(SeccompPolicy, FilterInstallsAreTracedWhereverTheyComeFrom) {
  const BpfProgram p = vsyscall_filter();
  const uint32_t install = SECCOMP_RET_TRACE | kTraceDataSeccompInstall;
  for (uint64_t ip : {uint64_t{0x401000}, uint64_t{0x7f0000001000}, kPage}) {
    EXPECT_EQ(run_bpf(p, data(SYS_seccomp, ip)), install) << hex(ip);
    EXPECT_EQ(run_bpf(p, data(SYS_prctl, ip, AUDIT_ARCH_X86_64, PR_SET_SECCOMP)), install);
    // prctl's option is an int: a garbage upper half is still PR_SET_SECCOMP.
    EXPECT_EQ(
        run_bpf(p, data(SYS_prctl, ip, AUDIT_ARCH_X86_64, 0xdead00000000ULL | PR_SET_SECCOMP)),
        install);
    EXPECT_EQ(run_bpf(p, data(SYS_prctl, ip, AUDIT_ARCH_X86_64, PR_SET_NO_NEW_PRIVS)), kAllow);
    EXPECT_EQ(run_bpf(p, data(SYS_prctl, ip, AUDIT_ARCH_X86_64, PR_GET_SECCOMP)), kAllow);
  }
  // Not on other architectures or for x32 numbers.
  EXPECT_EQ(run_bpf(p, data(SYS_seccomp, 0x401000, AUDIT_ARCH_I386)), kAllow);
  EXPECT_EQ(run_bpf(p, data(SYS_seccomp | kX32Bit, 0x401000)), kAllow);
}

// The engine clears CLONE_UNTRACED so that every process of the tree stays traced.
TEST(SeccompPolicy, TracesCloneOnlyWithCloneUntraced) {
  const BpfProgram p = vsyscall_filter();
  const uint32_t untraced = SECCOMP_RET_TRACE | kTraceDataUntracedClone;
  EXPECT_EQ(run_bpf(p, data(SYS_clone, 0x401000, AUDIT_ARCH_X86_64, 0x00800000 | SIGCHLD)),
            untraced);
  EXPECT_EQ(run_bpf(p, data(SYS_clone, 0x401000, AUDIT_ARCH_X86_64, 0xffffffffffffffffULL)),
            untraced);
  for (uint64_t flags : {uint64_t{SIGCHLD}, uint64_t{0x003d0f00}, uint64_t{0xff7fffff}})
    EXPECT_EQ(run_bpf(p, data(SYS_clone, 0x401000, AUDIT_ARCH_X86_64, flags)), kAllow) << flags;
  EXPECT_EQ(run_bpf(p, data(SYS_clone3, 0x401000, AUDIT_ARCH_X86_64, 0x00800000)), kAllow);
  EXPECT_EQ(run_bpf(p, data(SYS_fork, 0x401000, AUDIT_ARCH_X86_64, 0x00800000)), kAllow);
}

TEST(SeccompPolicy, TrapsOnlyWhenEmulatingNoneOnAHostThatEmulates) {
  using vsyscall::HostMode;
  using vsyscall::Mode;
  for (HostMode host : {HostMode::kNone, HostMode::kXonly, HostMode::kEmulate}) {
    for (Mode mode : {Mode::kNone, Mode::kXonly, Mode::kEmulate, Mode::kNative}) {
      const bool trap = mode == Mode::kNone && host != HostMode::kNone;
      EXPECT_EQ(vsyscall_action(mode, host), trap ? VsyscallAction::kTrap : VsyscallAction::kTrace)
          << vsyscall::mode_name(mode) << " on " << vsyscall::host_mode_name(host);
    }
  }
}

TEST(SeccompPolicy, TrapFilterDiffersOnlyForCallsOfThePage) {
  const BpfProgram trace = vsyscall_filter(VsyscallAction::kTrace);
  const BpfProgram trap = vsyscall_filter(VsyscallAction::kTrap);
  ASSERT_EQ(trace.insns.size(), trap.insns.size());
  for (int nr : kVsyscallNumbers)
    for (uint64_t off : {0x000, 0x400, 0x800, 0x001, 0xfff})
      EXPECT_EQ(run_bpf(trap, data(nr, kPage + off)), SECCOMP_RET_TRAP | kTraceDataVsyscall)
          << "nr " << nr << " at " << hex(kPage + off);
  // Everything else: the same answer as the TRACE filter.
  for (int nr : {SYS_gettimeofday, SYS_time, SYS_getcpu, SYS_getpid, 0, 1, 95})
    for (uint64_t ip : {kPage - 1, kPage + 0x1000, uint64_t{0x401000}, kPage + 0x400})
      for (uint32_t arch : {uint32_t{AUDIT_ARCH_X86_64}, uint32_t{AUDIT_ARCH_I386}})
        for (uint64_t arg : {uint64_t{0}, kInjectDoneMagic}) {
          if (arch == AUDIT_ARCH_X86_64 && ip == kPage + 0x400 &&
              (nr == SYS_gettimeofday || nr == SYS_time || nr == SYS_getcpu))
            continue;
          EXPECT_EQ(run_bpf(trap, data(nr, ip, arch, arg)), run_bpf(trace, data(nr, ip, arch, arg)))
              << nr << " " << hex(ip) << " " << arch;
        }
}

// --- The same filter in the kernel -----------------------------------------------------------

namespace {

bool host_has_vsyscall_page() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line))
    if (line.find("[vsyscall]") != std::string::npos) return true;
  return false;
}

// Runs `body` in a forked child after installing the filter; the child's exit code is
// body's return value. Returns the wait status. `before` (if any) runs in the child before our
// filter is loaded: a program's own filter must be installed then, since ours stops seccomp()
// and, with no tracer here, fails it.
template <typename Body>
int in_filtered_child(Body body, VsyscallAction action = VsyscallAction::kTrace,
                      int (*before)() = nullptr, const BpfProgram* program = nullptr) {
  const BpfProgram prog = program ? *program : vsyscall_filter(action);
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    sock_fprog fp = prog.fprog();
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(100);
    if (before) {
      if (const int r = before(); r != 0) _exit(r);
    }
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) != 0) _exit(101);
    _exit(body());
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return status;
}

// time(NULL) through the 32-bit syscall table (`int $0x80`, nr 13), from this 64-bit process.
long int80_time() {
  long ret = 13;
  asm volatile("int $0x80" : "+a"(ret) : "b"(0) : "rcx", "r8", "r9", "r10", "r11", "memory", "cc");
  return ret;
}

}  // namespace

TEST(SeccompPolicy, OrdinaryTimeSyscallsSucceedUnderTheFilter) {
  const int status = in_filtered_child([] {
    // With no tracer a TRACE result fails the call with ENOSYS: these must run.
    if (syscall(SYS_time, nullptr) <= 0) return 1;
    timeval tv;
    if (syscall(SYS_gettimeofday, &tv, nullptr) != 0) return 2;
    unsigned cpu = ~0u;
    if (syscall(SYS_getcpu, &cpu, nullptr, nullptr) != 0 || cpu == ~0u) return 3;
    if (syscall(SYS_getppid) <= 0) return 4;
    timespec ts;
    if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) != 0) return 5;
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(SeccompPolicy, VsyscallEntriesAreTracedWhenTheHostEmulatesThePage) {
  if (!host_has_vsyscall_page())
    GTEST_SKIP() << "no [vsyscall] in /proc/self/maps (host booted vsyscall=none): a call of "
                    "the page faults before seccomp is consulted";
  const int status = in_filtered_child([] {
    // The kernel's emulate_vsyscall() consults seccomp; TRACE without a tracer skips the
    // call with -ENOSYS and the kernel still emulates the `ret`.
    using Fn = long (*)(void*, void*, void*);
    for (uint64_t off : {0x000, 0x400, 0x800}) {
      auto fn = reinterpret_cast<Fn>(kPage + off);
      if (fn(nullptr, nullptr, nullptr) != -ENOSYS) return 10 + static_cast<int>(off / 0x400);
    }
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(SeccompPolicy, TrapOutranksTheProgramsOwnErrnoForAVsyscall) {
  if (!host_has_vsyscall_page())
    GTEST_SKIP() << "no [vsyscall] in /proc/self/maps (host booted vsyscall=none): a call of "
                    "the page faults before seccomp is consulted";
  const int status = in_filtered_child(
      [] {
        using Fn = long (*)(void*, void*);
        reinterpret_cast<Fn>(kPage)(nullptr, nullptr);
        return 1;  // returned: the ERRNO won
      },
      VsyscallAction::kTrap,
      [] {
        const rlimit no_core{0, 0};  // the SIGSYS below must not leave a core file
        setrlimit(RLIMIT_CORE, &no_core);
        // The program's own filter, beside ours (which filter came first does not matter for
        // actions of different precedence): ERRNO(42) for gettimeofday. Alone it would make
        // the vsyscall return -42 without any stop.
        sock_filter own[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_gettimeofday, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 42),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        sock_fprog fp{sizeof own / sizeof own[0], own};
        return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) != 0 ? 102 : 0;
      });
  // No handler: the forced SIGSYS kills the child.
  ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status;
  EXPECT_EQ(WTERMSIG(status), SIGSYS);
}

TEST(SeccompPolicy, InjectDoneMarkerIsTracedOnlyWithTheMagic) {
  const int status = in_filtered_child([] {
    errno = 0;
    if (syscall(SYS_getpid, kInjectDoneMagic) != -1 || errno != ENOSYS) return 1;
    const long pid = syscall(SYS_getpid, 0);
    if (pid <= 0 || pid != getpid()) return 2;
    if (syscall(SYS_getpid, kInjectDoneMagic ^ 1) != pid) return 3;
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(SeccompPolicy, FilterInstallsStopInTheKernelToo) {
  // Without a tracer a TRACE result fails the call with ENOSYS: seccomp() and
  // prctl(PR_SET_SECCOMP) are traced, other prctl options run.
  const int status = in_filtered_child([] {
    errno = 0;
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, nullptr) != -1 || errno != ENOSYS)
      return 1;
    errno = 0;
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) != -1 || errno != ENOSYS) return 2;
    if (prctl(PR_GET_SECCOMP) != 2) return 3;  // filter mode: ours
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(SeccompPolicy, I386TimeIsAllowed) {
  // First without the filter: can this kernel run ia32 syscalls at all?
  const pid_t probe = fork();
  ASSERT_GE(probe, 0);
  if (probe == 0) _exit(int80_time() > 0 ? 0 : 1);
  int st = 0;
  ASSERT_EQ(waitpid(probe, &st, 0), probe);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    GTEST_SKIP() << "this kernel does not run `int $0x80` syscalls from a 64-bit process "
                    "(ia32 emulation off): status "
                 << st;
  const int status = in_filtered_child([] { return int80_time() > 0 ? 0 : 1; });
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace emulator

namespace emulator {
namespace {

constexpr uint32_t kTraceTime = SECCOMP_RET_TRACE | kTraceDataTimeCall;
constexpr uint64_t kText = 0x401000;
// What --rate makes of the clock ids (every wall and monotonic clock), and what --time does.
constexpr uint32_t kAllClocks =
    (1u << CLOCK_REALTIME) | (1u << CLOCK_MONOTONIC) | (1u << CLOCK_MONOTONIC_RAW) |
    (1u << CLOCK_REALTIME_COARSE) | (1u << CLOCK_MONOTONIC_COARSE) | (1u << CLOCK_BOOTTIME) |
    (1u << CLOCK_REALTIME_ALARM) | (1u << CLOCK_BOOTTIME_ALARM) | (1u << CLOCK_TAI);
constexpr uint32_t kRealtimeClocks = (1u << CLOCK_REALTIME) | (1u << CLOCK_REALTIME_COARSE) |
                                     (1u << CLOCK_REALTIME_ALARM) | (1u << CLOCK_TAI);

seccomp_data futex_data(uint64_t op, uint64_t timeout) {
  seccomp_data d = data(SYS_futex, kText, AUDIT_ARCH_X86_64, 0x7000, op);
  d.args[3] = timeout;
  return d;
}

}  // namespace

TEST(SeccompPolicyTime, NoTransformStopsNoClockCall) {
  const BpfProgram p = vsyscall_filter(VsyscallAction::kTrace, TimeCalls::kNone);
  for (long nr : time_call_numbers(TimeCalls::kScaled))
    EXPECT_EQ(run_bpf(p, data(static_cast<int>(nr), kText)), kAllow) << syscall_name(nr);
  EXPECT_EQ(run_bpf(p, futex_data(FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 0x7100)), kAllow);
  EXPECT_TRUE(time_call_numbers(TimeCalls::kNone).empty());
}

TEST(SeccompPolicyTime, AbsoluteStopsReadsAndDeadlinesOnly) {
  for (VsyscallAction action : {VsyscallAction::kTrace, VsyscallAction::kTrap}) {
    const BpfProgram p = vsyscall_filter(action, TimeCalls::kAbsolute, kAllClocks);
    for (long nr : {SYS_clock_gettime, SYS_gettimeofday, SYS_time, SYS_clock_nanosleep,
                    SYS_timerfd_settime, SYS_timer_settime})
      EXPECT_EQ(run_bpf(p, data(static_cast<int>(nr), kText)), kTraceTime) << syscall_name(nr);
    // Relative timeouts are not scaled without a rate: they run.
    for (long nr : {SYS_nanosleep, SYS_poll, SYS_select, SYS_epoll_wait, SYS_alarm, SYS_setitimer,
                    SYS_getpid, SYS_read})
      EXPECT_EQ(run_bpf(p, data(static_cast<int>(nr), kText)), kAllow) << syscall_name(nr);
    // The page's own calls still go to the vsyscall rule.
    const uint32_t page_result =
        action == VsyscallAction::kTrap ? (SECCOMP_RET_TRAP | kTraceDataVsyscall) : kTraceVsyscall;
    EXPECT_EQ(run_bpf(p, data(SYS_time, kPage + 0x400)), page_result);
    EXPECT_EQ(run_bpf(p, data(SYS_gettimeofday, kPage)), page_result);
    // getcpu and the magic getpid keep their own rules.
    EXPECT_EQ(run_bpf(p, data(SYS_getcpu, kText)), kAllow);
    EXPECT_EQ(run_bpf(p, data(SYS_getpid, kText, AUDIT_ARCH_X86_64, kInjectDoneMagic)),
              kTraceInjectDone);
    // Timed futex waits on a deadline stop; untimed ones and wakes do not.
    EXPECT_EQ(run_bpf(p, futex_data(FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 0x7100)), kTraceTime);
    EXPECT_EQ(run_bpf(p, futex_data(FUTEX_WAIT_BITSET_PRIVATE, 0x7100)), kTraceTime);
    EXPECT_EQ(run_bpf(p, futex_data(FUTEX_LOCK_PI_PRIVATE, uint64_t{1} << 40)), kTraceTime);
    EXPECT_EQ(run_bpf(p, futex_data(FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 0)), kAllow);
    EXPECT_EQ(run_bpf(p, futex_data(FUTEX_WAKE_PRIVATE, 0x7100)), kAllow);
    EXPECT_EQ(run_bpf(p, futex_data(FUTEX_WAIT_PRIVATE, 0x7100)), kAllow);
    // Another architecture's numbers are never looked at.
    EXPECT_EQ(run_bpf(p, data(SYS_clock_gettime, kText, AUDIT_ARCH_I386)), kAllow);
  }
}

TEST(SeccompPolicyTime, ScaledAlsoStopsRelativeTimeouts) {
  const BpfProgram p = vsyscall_filter(VsyscallAction::kTrace, TimeCalls::kScaled, kAllClocks);
  for (long nr : time_call_numbers(TimeCalls::kScaled))
    EXPECT_EQ(run_bpf(p, data(static_cast<int>(nr), kText)), kTraceTime) << syscall_name(nr);
  EXPECT_EQ(run_bpf(p, futex_data(FUTEX_WAIT_PRIVATE, 0x7100)), kTraceTime);
  EXPECT_EQ(run_bpf(p, futex_data(FUTEX_WAIT_PRIVATE, 0)), kAllow);
  EXPECT_EQ(run_bpf(p, data(SYS_read, kText)), kAllow);
  // Every jump stays inside the program and forward (the kernel refuses anything else).
  for (size_t i = 0; i < p.insns.size(); ++i) {
    if (BPF_CLASS(p.insns[i].code) != BPF_JMP) continue;
    EXPECT_LT(i + 1 + p.insns[i].jt, p.insns.size()) << "line " << i;
    EXPECT_LT(i + 1 + p.insns[i].jf, p.insns.size()) << "line " << i;
  }
}

TEST(SeccompPolicyTime, OnlyTransformedClocksStop) {
  const BpfProgram p =
      vsyscall_filter(VsyscallAction::kTrace, TimeCalls::kAbsolute, kRealtimeClocks);
  auto clock_call = [&](long nr, uint64_t clock) {
    return run_bpf(p, data(static_cast<int>(nr), kText, AUDIT_ARCH_X86_64, clock));
  };
  for (long nr : {SYS_clock_gettime, SYS_clock_nanosleep}) {
    for (int c : {CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_TAI, CLOCK_REALTIME_ALARM})
      EXPECT_EQ(clock_call(nr, static_cast<uint64_t>(c)), kTraceTime) << nr << " clock " << c;
    for (int c : {CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID,
                  CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME, 16, 31})
      EXPECT_EQ(clock_call(nr, static_cast<uint64_t>(c)), kAllow) << nr << " clock " << c;
    // A pid's CPU clock (negative ids; the kernel reads an int).
    EXPECT_EQ(clock_call(nr, static_cast<uint32_t>(-6)), kAllow);
  }
  // MONOTONIC not transformed: a monotonic futex deadline runs, a REALTIME one stops.
  EXPECT_EQ(run_bpf(p, futex_data(FUTEX_WAIT_BITSET_PRIVATE, 0x7100)), kAllow);
  EXPECT_EQ(run_bpf(p, futex_data(FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 0x7100)),
            kTraceTime);
  EXPECT_EQ(run_bpf(p, futex_data(FUTEX_LOCK_PI_PRIVATE, 0x7100)), kTraceTime);
  EXPECT_EQ(run_bpf(p, futex_data(13 | FUTEX_PRIVATE_FLAG, 0x7100)), kAllow);  // LOCK_PI2
  EXPECT_EQ(run_bpf(p, futex_data(13 | FUTEX_CLOCK_REALTIME, 0x7100)), kTraceTime);
}

// The calls that wait only when given a timeout stop only then: a NULL pointer (mq_receive,
// semop, an untimed io_getevents) runs, a pointer in either half of the register stops.
TEST(SeccompPolicyTime, TimeoutCallsStopOnlyWithATimeout) {
  const BpfProgram absolute =
      vsyscall_filter(VsyscallAction::kTrace, TimeCalls::kAbsolute, kAllClocks);
  const BpfProgram scaled = vsyscall_filter(VsyscallAction::kTrace, TimeCalls::kScaled, kAllClocks);
  auto with_timeout = [](const TimeoutCall& c, uint64_t pointer) {
    seccomp_data d = data(static_cast<int>(c.nr), kText);
    d.args[c.timeout_arg] = pointer;
    return d;
  };
  const std::vector<TimeoutCall> deadlines = timeout_call_numbers(TimeCalls::kAbsolute);
  const std::vector<TimeoutCall> all = timeout_call_numbers(TimeCalls::kScaled);
  EXPECT_EQ(deadlines.size(), 3u);
  EXPECT_EQ(all.size(), 7u);
  EXPECT_TRUE(timeout_call_numbers(TimeCalls::kNone).empty());
  for (const TimeoutCall& c : all) {
    const bool deadline = std::any_of(deadlines.begin(), deadlines.end(),
                                      [&](const TimeoutCall& d) { return d.nr == c.nr; });
    for (uint64_t pointer : {uint64_t{0x7ffc1000}, uint64_t{0x7ffc00000000}, ~uint64_t{0}}) {
      EXPECT_EQ(run_bpf(scaled, with_timeout(c, pointer)), kTraceTime) << syscall_name(c.nr);
      EXPECT_EQ(run_bpf(absolute, with_timeout(c, pointer)), deadline ? kTraceTime : kAllow)
          << syscall_name(c.nr);
    }
    EXPECT_EQ(run_bpf(scaled, with_timeout(c, 0)), kAllow) << syscall_name(c.nr);
    EXPECT_EQ(run_bpf(absolute, with_timeout(c, 0)), kAllow) << syscall_name(c.nr);
    // Another argument set does not count.
    seccomp_data other = with_timeout(c, 0);
    other.args[c.timeout_arg == 3 ? 4 : 3] = 0x7100;
    EXPECT_EQ(run_bpf(scaled, other), kAllow) << syscall_name(c.nr);
  }
  for (long nr :
       std::initializer_list<long>{SYS_mq_timedsend, SYS_mq_timedreceive, SYS_semtimedop,
                                   SYS_io_getevents, SYS_io_pgetevents, SYS_recvmmsg, 449L})
    EXPECT_TRUE(std::any_of(all.begin(), all.end(), [&](const TimeoutCall& c) {
      return c.nr == nr;
    })) << syscall_name(nr);
  const BpfProgram none = vsyscall_filter(VsyscallAction::kTrace, TimeCalls::kNone);
  for (const TimeoutCall& c : all)
    EXPECT_EQ(run_bpf(none, with_timeout(c, 0x7100)), kAllow) << syscall_name(c.nr);
}

// The number search (a binary tree of compares) finds exactly the listed calls: every
// number from 0 to 511, with a timeout pointer and clock 0 (REALTIME) in every argument, stops
// if and only if it is listed (futex: a timed FUTEX_WAIT_BITSET, op in argument 1 set apart).
TEST(SeccompPolicyTime, NumberSearchFindsExactlyTheListedCalls) {
  for (TimeCalls calls : {TimeCalls::kAbsolute, TimeCalls::kScaled}) {
    const BpfProgram p = vsyscall_filter(VsyscallAction::kTrace, calls, kAllClocks);
    std::vector<long> listed = time_call_numbers(calls);
    for (const TimeoutCall& c : timeout_call_numbers(calls)) listed.push_back(c.nr);
    listed.push_back(SYS_futex);
    for (int nr = 0; nr < 512; ++nr) {
      if (nr == SYS_getpid || nr == SYS_getcpu || nr == SYS_seccomp || nr == SYS_prctl ||
          nr == SYS_clone)
        continue;  // their own rules, tested above
      seccomp_data d = data(nr, kText);
      for (auto& arg : d.args) arg = 0x7100;
      d.args[0] = CLOCK_REALTIME;
      if (nr == SYS_futex) d.args[1] = FUTEX_WAIT_BITSET_PRIVATE;
      const bool is_listed = std::find(listed.begin(), listed.end(), nr) != listed.end();
      EXPECT_EQ(run_bpf(p, d), is_listed ? kTraceTime : kAllow)
          << syscall_name(nr) << (calls == TimeCalls::kScaled ? " scaled" : " absolute");
    }
  }
}

TEST(SeccompPolicyTime, KernelAcceptsTheFilterAndStopsAClockRead) {
  // No tracer: a TRACE result fails the call with ENOSYS, an ALLOW runs it.
  const BpfProgram scaled = vsyscall_filter(VsyscallAction::kTrace, TimeCalls::kScaled, kAllClocks);
  const int status = in_filtered_child(
      [] {
        timespec ts;
        if (syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts) != -1 || errno != ENOSYS) return 1;
        if (syscall(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) return 4;
        if (syscall(SYS_getppid) <= 0) return 2;
        int word = 0;
        if (syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0) != 0) return 3;
        return 0;
      },
      VsyscallAction::kTrace, nullptr, &scaled);
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace emulator
