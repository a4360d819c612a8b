// The hand-written classic BPF filter. Classic BPF has a 32-bit accumulator, so every 64-bit
// field of seccomp_data (instruction_pointer, args[]) is compared as two 32-bit halves; x86-64
// is little-endian: the low half is at the field's offset, the high half 4 bytes above.
#include "emulator/trace/seccomp_policy.h"

#include <linux/audit.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <cstddef>
#include <cstdlib>
#include <memory>

#include "vsyscall/page.h"

namespace emulator {
namespace {

// Every line of the program, in order: jumps are computed from these positions, so a line
// added in the middle cannot silently break an offset.
enum Line : uint8_t {
  kLoadArch,
  kIsX86_64,
  kLoadNr,
  kIsGettimeofday,
  kIsTime,
  kIsGetcpu,
  kIsGetpid,
  kIsSeccomp,
  kIsPrctl,
  kLoadPrctlOption,
  kIsPrctlSetSeccomp,
  kRetSeccompInstall,
  kIsClone,
  kLoadCloneFlags,
  kIsCloneUntraced,
  kRetUntracedClone,
  kLoadArg0Low,
  kIsMagicLow,
  kLoadArg0High,
  kIsMagicHigh,
  kRetInjectDone,
  kLoadIpHigh,
  kIsIpHighAllOnes,
  kLoadIpLow,
  kIsIpAtOrAbovePage,
  kIsIpAtOrAbovePageEnd,
  kRetVsyscall,
  kRetAllowOther,  // another architecture
  kRetAllow,       // x86-64: ALLOW, or with TimeCalls `A = nr` and the time section follows
  kLineCount
};

// A conditional jump's offset: lines skipped after `from` to land on `to` (forward only).
constexpr uint8_t to(Line from, Line target) {
  return static_cast<uint8_t>(target - from - 1);
}

constexpr uint32_t low(uint64_t v) {
  return static_cast<uint32_t>(v);
}
constexpr uint32_t high(uint64_t v) {
  return static_cast<uint32_t>(v >> 32);
}

constexpr uint32_t kNrOffset = offsetof(seccomp_data, nr);
constexpr uint32_t kArchOffset = offsetof(seccomp_data, arch);
constexpr uint32_t kIpLowOffset = offsetof(seccomp_data, instruction_pointer);
constexpr uint32_t kIpHighOffset = kIpLowOffset + 4;
constexpr uint32_t kArg0LowOffset = offsetof(seccomp_data, args);
constexpr uint32_t kArg0HighOffset = kArg0LowOffset + 4;

sock_filter load(uint32_t offset) {
  return BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offset);
}
sock_filter jeq(Line at, uint32_t k, Line if_equal, Line otherwise) {
  return BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, k, to(at, if_equal), to(at, otherwise));
}
sock_filter jset(Line at, uint32_t k, Line if_any_set, Line otherwise) {
  return BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, k, to(at, if_any_set), to(at, otherwise));
}
sock_filter jge(Line at, uint32_t k, Line if_greater_or_equal, Line otherwise) {
  return BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, k, to(at, if_greater_or_equal), to(at, otherwise));
}
sock_filter ret(uint32_t action) {
  return BPF_STMT(BPF_RET | BPF_K, action);
}

}  // namespace

BpfProgram vsyscall_filter(VsyscallAction vsyscall, TimeCalls time_calls) {
  using vsyscall::Entry;
  using vsyscall::syscall_number;
  static_assert(high(vsyscall::kPageBase) == high(vsyscall::kPageEnd - 1),
                "the page must not straddle a 4 GiB boundary for the two-half compare");
  BpfProgram p;
  p.insns.resize(kLineCount);
  auto at = [&](Line l, sock_filter insn) { p.insns[l] = insn; };
  // A = seccomp_data.arch.
  at(kLoadArch, load(kArchOffset));
  // i386 (`int $0x80`, 32-bit programs) has no vsyscall page: allow. x32 shares
  // AUDIT_ARCH_X86_64 but its numbers carry __X32_SYSCALL_BIT, so they match nothing below.
  at(kIsX86_64, jeq(kIsX86_64, AUDIT_ARCH_X86_64, kLoadNr, kRetAllowOther));
  // A = seccomp_data.nr.
  at(kLoadNr, load(kNrOffset));
  // The three numbers the kernel's vsyscall emulation consults seccomp with: check where the
  // call came from.
  at(kIsGettimeofday,
     jeq(kIsGettimeofday, static_cast<uint32_t>(syscall_number(Entry::kGettimeofday)), kLoadIpHigh,
         kIsTime));
  at(kIsTime,
     jeq(kIsTime, static_cast<uint32_t>(syscall_number(Entry::kTime)), kLoadIpHigh, kIsGetcpu));
  at(kIsGetcpu,
     jeq(kIsGetcpu, static_cast<uint32_t>(syscall_number(Entry::kGetcpu)), kLoadIpHigh, kIsGetpid));
  // getpid: maybe the injection stub's marker.
  at(kIsGetpid, jeq(kIsGetpid, SYS_getpid, kLoadArg0Low, kIsSeccomp));
  // seccomp(2), and prctl(PR_SET_SECCOMP, ...): the program installs a filter of its own, and
  // patched call sites must go back to the page for it to apply. Rare: one stop each.
  at(kIsSeccomp, jeq(kIsSeccomp, SYS_seccomp, kRetSeccompInstall, kIsPrctl));
  at(kIsPrctl, jeq(kIsPrctl, SYS_prctl, kLoadPrctlOption, kIsClone));
  // prctl's option is an int: the kernel reads only the low half of the register.
  at(kLoadPrctlOption, load(kArg0LowOffset));
  at(kIsPrctlSetSeccomp,
     jeq(kIsPrctlSetSeccomp, PR_SET_SECCOMP, kRetSeccompInstall, kRetAllow));
  at(kRetSeccompInstall, ret(SECCOMP_RET_TRACE | kTraceDataSeccompInstall));
  // clone(CLONE_UNTRACED): its child would keep this filter without a tracer, and every
  // vsyscall it made would fail with ENOSYS; stop so the engine can clear the flag. (clone3
  // keeps its flags in memory, out of a filter's reach.) Anything else is allowed.
  at(kIsClone, jeq(kIsClone, SYS_clone, kLoadCloneFlags, kRetAllow));
  // A = low half of args[0], the flags (CLONE_UNTRACED is bit 23).
  at(kLoadCloneFlags, load(kArg0LowOffset));
  at(kIsCloneUntraced, jset(kIsCloneUntraced, CLONE_UNTRACED, kRetUntracedClone, kRetAllow));
  at(kRetUntracedClone, ret(SECCOMP_RET_TRACE | kTraceDataUntracedClone));
  // getpid's args[0]: A = its low half; must be the magic's.
  at(kLoadArg0Low, load(kArg0LowOffset));
  at(kIsMagicLow, jeq(kIsMagicLow, low(kInjectDoneMagic), kLoadArg0High, kRetAllow));
  // A = high half of args[0]; must be the magic's too.
  at(kLoadArg0High, load(kArg0HighOffset));
  at(kIsMagicHigh, jeq(kIsMagicHigh, high(kInjectDoneMagic), kRetInjectDone, kRetAllow));
  // The stub is done: stop so the engine can collect its results.
  at(kRetInjectDone, ret(SECCOMP_RET_TRACE | kTraceDataInjectDone));
  // A = high half of instruction_pointer: 0xffffffff for the page, anything else is an
  // ordinary call of the same syscall (libc's fallback, a program's own syscall()).
  at(kLoadIpHigh, load(kIpHighOffset));
  at(kIsIpHighAllOnes, jeq(kIsIpHighAllOnes, high(vsyscall::kPageBase), kLoadIpLow, kRetAllow));
  // A = low half of instruction_pointer: inside [0xff600000, 0xff601000)?
  at(kLoadIpLow, load(kIpLowOffset));
  at(kIsIpAtOrAbovePage,
     jge(kIsIpAtOrAbovePage, low(vsyscall::kPageBase), kIsIpAtOrAbovePageEnd, kRetAllow));
  at(kIsIpAtOrAbovePageEnd,
     jge(kIsIpAtOrAbovePageEnd, low(vsyscall::kPageEnd), kRetAllow, kRetVsyscall));
  // A vsyscall: stop (or SIGSYS). Off-entry addresses never get here on a real kernel (they fault
  // first), but they are the engine's to judge, not the filter's.
  at(kRetVsyscall, ret((vsyscall == VsyscallAction::kTrap ? SECCOMP_RET_TRAP : SECCOMP_RET_TRACE) |
                       kTraceDataVsyscall));
  at(kRetAllowOther, ret(SECCOMP_RET_ALLOW));
  if (time_calls == TimeCalls::kNone) {
    at(kRetAllow, ret(SECCOMP_RET_ALLOW));
    return p;
  }
  // The time section: A = nr again (the lines above leave other things in A).
  at(kRetAllow, load(kNrOffset));
  const std::vector<long> numbers = time_call_numbers(time_calls);
  // Layout after kRetAllow: one jeq per number (to kTrace), jeq futex (to the futex part),
  // ret ALLOW, the futex part, ret TRACE.
  //   futex: A = args[3] low; jeq 0 → high; else → op. high: A = args[3] high; jeq 0 → its
  //   ALLOW. op: A = args[1] low; A &= FUTEX_CMD_MASK; jeq each timed wait → TRACE; ret ALLOW.
  std::vector<uint32_t> cmds = {FUTEX_WAIT_BITSET, FUTEX_LOCK_PI, FUTEX_WAIT_REQUEUE_PI,
                                13 /* FUTEX_LOCK_PI2 */};
  if (time_calls == TimeCalls::kScaled) cmds.push_back(FUTEX_WAIT);
  const size_t base = p.insns.size();
  const size_t n = numbers.size();
  const size_t futex_at = base + n + 2;  // after the number checks, jeq futex, ret ALLOW
  const size_t futex_len = 6 + cmds.size() + 1;
  const size_t trace_at = futex_at + futex_len;
  const size_t futex_allow_at = futex_at + 6 + cmds.size();  // (BPF jumps only forward)
  auto jump = [](size_t from, size_t target) { return static_cast<uint8_t>(target - from - 1); };
  for (size_t i = 0; i < n; ++i) {
    const size_t here = base + i;
    p.insns.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(numbers[i]),
                               jump(here, trace_at), 0));
  }
  p.insns.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_futex, jump(base + n, futex_at), 0));
  p.insns.push_back(ret(SECCOMP_RET_ALLOW));
  constexpr uint32_t kArg1LowOffset = kArg0LowOffset + 8;
  constexpr uint32_t kArg3LowOffset = kArg0LowOffset + 24;
  // futex_at + 0: A = timeout's low half; non-zero → op check (futex_at + 3).
  p.insns.push_back(load(kArg3LowOffset));
  p.insns.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, jump(futex_at + 1, futex_at + 4)));
  // futex_at + 2: low half zero: the high half decides.
  p.insns.push_back(load(kArg3LowOffset + 4));
  p.insns.push_back(
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, jump(futex_at + 3, futex_allow_at), 0));
  // futex_at + 4: the command, without FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME.
  p.insns.push_back(load(kArg1LowOffset));
  p.insns.push_back(BPF_STMT(BPF_ALU | BPF_AND | BPF_K, static_cast<uint32_t>(FUTEX_CMD_MASK)));
  for (size_t i = 0; i < cmds.size(); ++i) {
    const size_t here = futex_at + 6 + i;
    p.insns.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, cmds[i], jump(here, trace_at), 0));
  }
  p.insns.push_back(ret(SECCOMP_RET_ALLOW));
  p.insns.push_back(ret(SECCOMP_RET_TRACE | kTraceDataTimeCall));
  return p;
}

std::vector<long> time_call_numbers(TimeCalls time) {
  std::vector<long> n;
  if (time == TimeCalls::kNone) return n;
  n = {SYS_clock_gettime, SYS_gettimeofday, SYS_time, SYS_clock_nanosleep, SYS_timerfd_settime,
       SYS_timer_settime};
  if (time == TimeCalls::kScaled) {
    for (long x : std::initializer_list<long>{SYS_nanosleep, SYS_poll, SYS_ppoll, SYS_select, SYS_pselect6, SYS_epoll_wait,
                   SYS_epoll_pwait, 441L /* epoll_pwait2 */, SYS_alarm, SYS_setitimer,
                   SYS_getitimer, SYS_timerfd_gettime, SYS_timer_gettime, SYS_rt_sigtimedwait})
      n.push_back(x);
  }
  return n;
}

std::string syscall_name(long nr) {
  std::unique_ptr<char, void (*)(void*)> name(
      seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, static_cast<int>(nr)), std::free);
  return name ? std::string(name.get()) : "syscall " + std::to_string(nr);
}

}  // namespace emulator
