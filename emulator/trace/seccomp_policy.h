// vdsorun's seccomp filter: which syscalls stop the tracee (policy, a pure builder of a
// classic BPF program) and the values that tell its stops apart. Installing it happens in
// the spawned child (spawn.cc).
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <vector>

#include "vsyscall/mode.h"

namespace emulator {

// SECCOMP_RET_DATA of our SECCOMP_RET_TRACE results: PTRACE_GETEVENTMSG at the
// PTRACE_EVENT_SECCOMP stop returns it, so the engine knows which rule stopped the thread.
inline constexpr uint32_t kTraceDataVsyscall = 0x7673;        // "vs": a call of the legacy page
inline constexpr uint32_t kTraceDataInjectDone = 0x696a;      // "ij": the injection stub is done
inline constexpr uint32_t kTraceDataSeccompInstall = 0x7366;  // "sf": the program adds a filter
inline constexpr uint32_t kTraceDataUntracedClone = 0x7563;   // "uc": clone(CLONE_UNTRACED)
inline constexpr uint32_t kTraceDataTimeCall = 0x7463;        // "tc": a clock read or wait
// getpid(kInjectDoneMagic) is the injection stub's "done" marker (vdso_injector.cc). getpid
// ignores its arguments, so a program that happens to pass this value loses nothing: the
// engine lets that call run.
inline constexpr uint64_t kInjectDoneMagic = 0x76647372756e2121;  // "vdsrun!!"

// A compiled filter, ready for seccomp(SECCOMP_SET_MODE_FILTER).
struct BpfProgram {
  std::vector<sock_filter> insns;
  sock_fprog fprog() const {
    return sock_fprog{static_cast<unsigned short>(insns.size()),
                      const_cast<sock_filter*>(insns.data())};
  }
};

// What the filter returns for a call of the legacy page.
enum class VsyscallAction {
  // SECCOMP_RET_TRACE: a PTRACE_EVENT_SECCOMP stop, where the engine decides.
  kTrace,
  // SECCOMP_RET_TRAP: the kernel emulates the `ret` and forces SIGSYS (si_call_addr = the
  // entry), which the engine turns into the instruction-fetch fault of a none kernel. TRAP
  // outranks the program's own ERRNO and TRACE results, which would otherwise complete the
  // call without any stop; only the program's KILL outranks it.
  kTrap,
};

// TRAP exactly when emulating `none` on a host that emulates the page (xonly/emulate): there
// every call must fault, whatever the program's own filters say. A none host never consults
// seccomp for the page, and every other mode needs the TRACE stop to answer the call.
constexpr VsyscallAction vsyscall_action(vsyscall::Mode emulated, vsyscall::HostMode host) {
  return emulated == vsyscall::Mode::kNone && host != vsyscall::HostMode::kNone
             ? VsyscallAction::kTrap
             : VsyscallAction::kTrace;
}

// Which clock syscalls stop, for a tree whose clocks are transformed (--time, --rate...).
enum class TimeCalls {
  kNone,  // no transform: none (no cost)
  // Reads (clock_gettime, gettimeofday, time), waits on absolute deadlines (clock_nanosleep,
  // timerfd_settime, timer_settime, futex waits with a timeout), and attempts to set the
  // clock (clock_settime, settimeofday, adjtimex, clock_adjtime); mq_timedsend,
  // mq_timedreceive (REALTIME deadlines) and futex_waitv with a timeout.
  kAbsolute,
  // Also every relative timeout, scaled by the rate: nanosleep, poll, ppoll, select,
  // pselect6, epoll_wait, epoll_pwait, epoll_pwait2, alarm, setitimer, getitimer,
  // timerfd_gettime, timer_gettime, rt_sigtimedwait; semtimedop, io_getevents,
  // io_pgetevents and recvmmsg with a timeout.
  kScaled,
};

// The filter (DESIGN.md 3.1):
//  - x86-64 gettimeofday (96), time (201), getcpu (309) made from the vsyscall page
//    (instruction_pointer in 0xffffffffff600000..0xffffffffff600fff: the kernel's
//    emulate_vsyscall() runs seccomp with rip still at the entry) → TRACE (or TRAP, see
//    VsyscallAction), data kTraceDataVsyscall;
//  - x86-64 getpid(kInjectDoneMagic) → TRACE, kTraceDataInjectDone;
//  - x86-64 seccomp() and prctl(PR_SET_SECCOMP) → TRACE, kTraceDataSeccompInstall;
//  - x86-64 clone with CLONE_UNTRACED in its flags → TRACE, kTraceDataUntracedClone;
//  - with TimeCalls other than kNone, the clock syscalls it names made from anywhere but the
//    page → TRACE, kTraceDataTimeCall (clock_gettime and clock_nanosleep only for the clocks
//    in `clocks`, futex only for its timed waits: append_time_section in the .cc);
//  - everything else, every other architecture (i386 `int $0x80`) and x32 → ALLOW.
// libseccomp cannot compare the instruction pointer: the program is written by hand.
// `clocks`: a bit per clock id the transform changes (ClockTransform::transforms).
BpfProgram vsyscall_filter(VsyscallAction vsyscall = VsyscallAction::kTrace,
                           TimeCalls time = TimeCalls::kNone, uint32_t clocks = 0);

// The syscalls TimeCalls stops whatever their arguments (x86-64 numbers).
std::vector<long> time_call_numbers(TimeCalls time);

// The syscalls TimeCalls stops only when their timeout pointer (argument `timeout_arg`, from
// 0) is not NULL: without one they wait for ever, or not at all, on no clock. futex (its
// timeout is read per operation) is in neither list.
struct TimeoutCall {
  long nr;
  int timeout_arg;
};
std::vector<TimeoutCall> timeout_call_numbers(TimeCalls time);

// The x86-64 name of a syscall number ("time"), from libseccomp's tables; "syscall N" if it
// has none. For log messages.
std::string syscall_name(long nr);

}  // namespace emulator
