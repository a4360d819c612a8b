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

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <map>
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

// Appends instructions whose jumps name labels, resolved once everything is placed (classic BPF
// jumps only forward, at most 255 instructions).
class Assembler {
 public:
  explicit Assembler(BpfProgram& p) : p_(p) {}
  void label(int l) { at_[l] = p_.insns.size(); }
  void stmt(sock_filter insn) { p_.insns.push_back(insn); }
  void jump(uint16_t code, uint32_t k, int if_true, int if_false) {
    fixups_.push_back({p_.insns.size(), if_true, if_false});
    p_.insns.push_back(BPF_JUMP(code, k, 0, 0));
  }
  ~Assembler() {
    for (const Fixup& f : fixups_) {
      sock_filter& insn = p_.insns[f.at];
      insn.jt = offset(f.at, f.if_true);
      insn.jf = offset(f.at, f.if_false);
    }
  }

 private:
  struct Fixup {
    size_t at;
    int if_true, if_false;  // labels; -1: the next instruction
  };
  // A programming error here would make the kernel refuse the filter: fail loudly instead.
  uint8_t offset(size_t from, int label) const {
    if (label < 0) return 0;
    const size_t target = at_.at(label);
    if (target <= from || target - from - 1 > 255) std::abort();
    return static_cast<uint8_t>(target - from - 1);
  }
  BpfProgram& p_;
  std::map<int, size_t> at_;
  std::vector<Fixup> fixups_;
};

// With A = nr: TRACE (kTraceDataTimeCall) for the clock syscalls TimeCalls names, ALLOW for
// everything else.
//  - clock_gettime, clock_nanosleep: only for a clock id in `clocks` (CPU-time and dynamic
//    clocks, never transformed, run without a stop);
//  - futex: only its waits with a timeout (args[3] not NULL): FUTEX_LOCK_PI (REALTIME
//    deadlines); FUTEX_WAIT_BITSET, FUTEX_WAIT_REQUEUE_PI and FUTEX_LOCK_PI2 (deadlines on
//    MONOTONIC, or REALTIME with FUTEX_CLOCK_REALTIME: the flag is checked when MONOTONIC is
//    not transformed); FUTEX_WAIT (relative) with kScaled;
//  - timeout_call_numbers: only with a timeout (its pointer not NULL).
void append_time_section(BpfProgram& p, TimeCalls time_calls, uint32_t clocks) {
  enum {
    kTrace,
    kClockArg,
    kFutex,
    kFutexHigh,
    kFutexOp,
    kAllowTimed,
    kRealtimeFlag,
    kTimeoutArg0
  };  // kTimeoutArg0 + N: argument N's high half, N's low half at + 6
  constexpr uint16_t kJeq = BPF_JMP | BPF_JEQ | BPF_K;
  constexpr uint32_t kArg1LowOffset = kArg0LowOffset + 8;
  constexpr uint32_t kArg3LowOffset = kArg0LowOffset + 24;
  const bool monotonic = (clocks >> CLOCK_MONOTONIC) & 1;
  Assembler a(p);
  // Every syscall of the tree runs through here: a binary search on the number (a few JGEs,
  // then at most kLeaf JEQs) rather than a compare per time call.
  std::vector<std::pair<uint32_t, int>> targets;  // number, label
  for (long nr : time_call_numbers(time_calls)) {
    const bool by_clock =
        nr == SYS_clock_gettime || nr == SYS_clock_nanosleep || nr == SYS_clock_settime;
    targets.emplace_back(static_cast<uint32_t>(nr), by_clock ? kClockArg : kTrace);
  }
  bool timeout_arg_used[6] = {};
  for (const TimeoutCall& c : timeout_call_numbers(time_calls)) {
    targets.emplace_back(static_cast<uint32_t>(c.nr), kTimeoutArg0 + 6 + c.timeout_arg);
    timeout_arg_used[c.timeout_arg] = true;
  }
  targets.emplace_back(SYS_futex, kFutex);
  std::sort(targets.begin(), targets.end());
  constexpr size_t kLeaf = 4;
  int next_label = kTimeoutArg0 + 12;
  auto dispatch = [&](auto& self, size_t lo, size_t hi) -> void {
    if (hi - lo <= kLeaf) {
      for (size_t i = lo; i < hi; ++i) a.jump(kJeq, targets[i].first, targets[i].second, -1);
      a.stmt(ret(SECCOMP_RET_ALLOW));
      return;
    }
    const size_t mid = lo + (hi - lo) / 2;
    const int upper = next_label++;
    a.jump(BPF_JMP | BPF_JGE | BPF_K, targets[mid].first, upper, -1);
    self(self, lo, mid);
    a.label(upper);
    self(self, mid, hi);
  };
  dispatch(dispatch, 0, targets.size());
  // A pointer argument: TRACE unless both halves are zero.
  for (int arg = 0; arg < 6; ++arg) {
    if (!timeout_arg_used[arg]) continue;
    const uint32_t low_offset = kArg0LowOffset + 8 * static_cast<uint32_t>(arg);
    a.label(kTimeoutArg0 + 6 + arg);
    a.stmt(load(low_offset));
    a.jump(kJeq, 0, kTimeoutArg0 + arg, kTrace);
    a.label(kTimeoutArg0 + arg);
    a.stmt(load(low_offset + 4));
    a.jump(kJeq, 0, kAllowTimed, kTrace);
  }
  // A clockid_t is an int: negative ids (CPU clocks of a pid, fd clocks) are never ours.
  a.label(kClockArg);
  a.stmt(load(kArg0LowOffset));
  for (uint32_t id = 0; id < 32; ++id) {
    if ((clocks >> id) & 1) a.jump(kJeq, id, kTrace, -1);
  }
  a.stmt(ret(SECCOMP_RET_ALLOW));
  a.label(kFutex);
  a.stmt(load(kArg3LowOffset));
  a.jump(kJeq, 0, kFutexHigh, kFutexOp);
  a.label(kFutexHigh);
  a.stmt(load(kArg3LowOffset + 4));
  a.jump(kJeq, 0, kAllowTimed, kFutexOp);
  a.label(kFutexOp);
  a.stmt(load(kArg1LowOffset));
  a.stmt(BPF_STMT(BPF_ALU | BPF_AND | BPF_K, static_cast<uint32_t>(FUTEX_CMD_MASK)));
  a.jump(kJeq, FUTEX_LOCK_PI, kTrace, -1);
  for (uint32_t cmd : {uint32_t{FUTEX_WAIT_BITSET}, uint32_t{FUTEX_WAIT_REQUEUE_PI},
                       uint32_t{13} /* FUTEX_LOCK_PI2 */})
    a.jump(kJeq, cmd, monotonic ? kTrace : kRealtimeFlag, -1);
  if (time_calls == TimeCalls::kScaled) a.jump(kJeq, FUTEX_WAIT, kTrace, -1);
  a.label(kAllowTimed);
  a.stmt(ret(SECCOMP_RET_ALLOW));
  a.label(kRealtimeFlag);
  a.stmt(load(kArg1LowOffset));
  a.jump(BPF_JMP | BPF_JSET | BPF_K, FUTEX_CLOCK_REALTIME, kTrace, -1);
  a.stmt(ret(SECCOMP_RET_ALLOW));
  a.label(kTrace);
  a.stmt(ret(SECCOMP_RET_TRACE | kTraceDataTimeCall));
}

}  // namespace

BpfProgram vsyscall_filter(VsyscallAction vsyscall, TimeCalls time_calls, uint32_t clocks) {
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
  at(kIsPrctlSetSeccomp, jeq(kIsPrctlSetSeccomp, PR_SET_SECCOMP, kRetSeccompInstall, kRetAllow));
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
  append_time_section(p, time_calls, clocks);
  return p;
}

std::vector<long> time_call_numbers(TimeCalls time) {
  std::vector<long> n;
  if (time == TimeCalls::kNone) return n;
  n = {SYS_clock_gettime,   SYS_gettimeofday,  SYS_time,          SYS_clock_nanosleep,
       SYS_timerfd_settime, SYS_timer_settime, SYS_clock_settime, SYS_settimeofday,
       SYS_adjtimex,        SYS_clock_adjtime};
  if (time == TimeCalls::kScaled) {
    for (long x : std::initializer_list<long>{
             SYS_nanosleep, SYS_poll, SYS_ppoll, SYS_select, SYS_pselect6, SYS_epoll_wait,
             SYS_epoll_pwait, 441L /* epoll_pwait2 */, SYS_alarm, SYS_setitimer, SYS_getitimer,
             SYS_timerfd_gettime, SYS_timer_gettime, SYS_rt_sigtimedwait})
      n.push_back(x);
  }
  return n;
}

std::vector<TimeoutCall> timeout_call_numbers(TimeCalls time) {
  std::vector<TimeoutCall> n;
  if (time == TimeCalls::kNone) return n;
  // Deadlines: mq_timedsend/mq_timedreceive (REALTIME, argument 4), futex_waitv (the clock
  // in argument 4, the deadline in 3).
  n = {{SYS_mq_timedsend, 4}, {SYS_mq_timedreceive, 4}, {449 /* futex_waitv */, 3}};
  // Relative timeouts.
  if (time == TimeCalls::kScaled) {
    for (TimeoutCall c : std::initializer_list<TimeoutCall>{
             {SYS_semtimedop, 3}, {SYS_io_getevents, 4}, {SYS_io_pgetevents, 4}, {SYS_recvmmsg, 4}})
      n.push_back(c);
  }
  return n;
}

std::string syscall_name(long nr) {
  std::unique_ptr<char, void (*)(void*)> name(
      seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, static_cast<int>(nr)), std::free);
  return name ? std::string(name.get()) : "syscall " + std::to_string(nr);
}

}  // namespace emulator
