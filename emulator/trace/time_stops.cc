// Clock reads and timed waits of a tree with virtual clocks (--time, --offset, --rate,
// --freeze). The filter stops them only while a transform is on (seccomp_policy.h, TimeCalls).
// Reads are answered at the seccomp stop (one stop, the syscall skipped). Waits are made by
// the kernel with the real deadline or duration: the converted argument goes into scratch
// space below the thread's red zone, the argument register points there, and at the
// syscall-exit stop the registers are put back and whatever the kernel wrote (a remaining
// time, an old timer value) is converted into the program's own struct in virtual time. A
// restarted call (ERESTARTSYS, ERESTARTNOHAND) then starts from the program's registers and is
// stopped and converted again.
#include <linux/futex.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <time.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "emulator/log.h"
#include "emulator/trace/engine.h"
#include "emulator/trace/process_memory.h"
#include "emulator/trace/ptrace_ops.h"
#include "emulator/trace/seccomp_policy.h"
#include "vdso/clock_read.h"

namespace emulator {
namespace {

using vsyscall::Gpr;

constexpr int64_t kNs = 1000000000;
constexpr int64_t kUs = 1000;
// A deadline that never comes (a frozen clock's future): the kernel clamps it to KTIME_MAX.
constexpr int64_t kNeverSec = INT64_MAX / kNs;
// Below the 128-byte red zone, 16-byte aligned, room for an itimerspec.
constexpr uint64_t kScratchBelowSp = 128 + 64;
constexpr long kEpollPwait2 = 441;
constexpr long kFutexWaitv = 449;
constexpr long kErestartsys = 512, kErestartnointr = 513, kErestartnohand = 514,
               kErestartRestartblock = 516;

enum OutKind : int { kNoOut = 0, kTimespec, kTimeval, kItimerspec, kItimerval, kAlarmSeconds };

int64_t ns_of(const timespec& ts) {
  return ts.tv_sec * kNs + ts.tv_nsec;
}
timespec timespec_of(int64_t ns) {
  if (ns < 0) ns = 0;
  return timespec{ns / kNs, ns % kNs};
}
int64_t ns_of(const timeval& tv) {
  return tv.tv_sec * kNs + tv.tv_usec * kUs;
}
timeval timeval_of(int64_t ns) {
  if (ns < 0) ns = 0;
  // Round up: a remaining time is never shown as zero while some remains.
  const int64_t us = (ns + kUs - 1) / kUs;
  return timeval{us / 1000000, us % 1000000};
}

template <typename T>
bool read_struct(ProcessMemory& mem, uint64_t addr, T& out) {
  return addr != 0 &&
         mem.read(addr, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&out), sizeof out));
}
template <typename T>
bool write_struct(ProcessMemory& mem, uint64_t addr, const T& in) {
  return mem.write(addr,
                   std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&in), sizeof in));
}

// A timespec's value is valid for the kernel (else it answers EINVAL itself: leave it alone).
bool valid(const timespec& ts) {
  return ts.tv_sec >= 0 && ts.tv_nsec >= 0 && ts.tv_nsec < kNs;
}

// The clock of a timerfd (/proc/PID/fdinfo/FD "clockid:") or a POSIX timer (/proc/PID/timers
// "ClockID:" under its "ID:" line); nullopt if unknown.
std::optional<int> timerfd_clock(pid_t pid, uint64_t fd) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/fdinfo/" + std::to_string(fd));
  std::string key;
  while (in >> key) {
    if (key == "clockid:") {
      int c;
      if (in >> c) return c;
    }
  }
  return std::nullopt;
}

std::optional<int> posix_timer_clock(pid_t pid, uint64_t id) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/timers");
  std::string key;
  bool ours = false;
  while (in >> key) {
    if (key == "ID:") {
      uint64_t v;
      ours = static_cast<bool>(in >> v) && v == static_cast<uint32_t>(id);
    } else if (key == "ClockID:" && ours) {
      int c;
      if (in >> c) return c;
    }
  }
  return std::nullopt;
}

}  // namespace

Resume Engine::on_time_call(Tracee& t, const Gpr& regs) {
  const Process& proc = process(tgid_of(t));
  // The injected vDSO's own fallbacks transform their answers themselves.
  if (regs.rip >= proc.vdso_begin && regs.rip < proc.vdso_end) return Resume::cont();
  const ClockTransform& tf = opts_.time;
  ProcessMemory mem(t.tid);
  const long nr = static_cast<long>(regs.orig_rax);

  auto answer = [&](long value) {
    Gpr w = regs;
    w.orig_rax = static_cast<uint64_t>(-1);
    w.rax = static_cast<uint64_t>(value);
    set_regs(t.tid, w);
    return Resume::cont();
  };
  // The clock `clock` reads now, as the tree sees it.
  auto now = [&](int clock) -> std::optional<int64_t> {
    vdso::KernelTimespec k{};
    if (opts_.vvar && clock >= 0 && clock < static_cast<int>(vdso::kClockSlots) &&
        ((vdso::kHresClockMask >> clock) & 1) && vdso::read_hres(opts_.vvar, clock, &k)) {
      return k.tv_sec * kNs + k.tv_nsec;  // published transformed: what the vDSO says
    }
    timespec ts{};
    if (clock_gettime(clock, &ts) != 0) return std::nullopt;
    return tf.to_virtual(clock, ns_of(ts));
  };
  // From here: a wait whose arguments change. `scratch` receives the converted struct.
  const uint64_t scratch = ((regs.rsp - kScratchBelowSp) & ~uint64_t{15}) - 32;
  auto wait_with = [&](Gpr changed, OutKind kind, uint64_t kernel_out, uint64_t program_out,
                       int clock) {
    Tracee::TimeExit e;
    e.nr = nr;
    e.regs = regs;
    e.out_kind = kind;
    e.kernel_out = kernel_out;
    e.program_out = program_out;
    e.clock = clock;
    t.time_exit = e;
    set_regs(t.tid, changed);
    return Resume{Resume::Kind::kSyscall, 0};
  };
  // A real deadline for a virtual one on `clock` (never: the far future).
  auto real_deadline = [&](int clock, const timespec& v) {
    const auto r = tf.to_real(clock, ns_of(v));
    return r ? timespec_of(*r) : timespec{kNeverSec, 0};
  };

  switch (nr) {
    case SYS_clock_gettime: {
      const int clock = static_cast<int>(regs.rdi);
      if (!tf.transforms(clock) || regs.rsi == 0) break;
      const auto v = now(clock);
      if (!v) break;
      const timespec ts = timespec_of(*v);
      return answer(write_struct(mem, regs.rsi, ts) ? 0 : -EFAULT);
    }
    case SYS_gettimeofday: {
      auto source = time_source(t.tid);
      if (regs.rdi != 0) {
        const timespec ts = source->realtime();
        const timeval tv{ts.tv_sec, ts.tv_nsec / 1000};
        if (!write_struct(mem, regs.rdi, tv)) return answer(-EFAULT);
      }
      if (regs.rsi != 0) {
        const struct timezone tz = source->timezone();
        if (!write_struct(mem, regs.rsi, tz)) return answer(-EFAULT);
      }
      return answer(0);
    }
    case SYS_time: {
      const int64_t sec = time_source(t.tid)->realtime_coarse().tv_sec;
      if (regs.rdi != 0 && !write_struct(mem, regs.rdi, sec)) return answer(-EFAULT);
      return answer(sec);
    }
    case SYS_clock_nanosleep: {
      const int clock = static_cast<int>(regs.rdi);
      timespec req{};
      if (!tf.transforms(clock) || !read_struct(mem, regs.rdx, req) || !valid(req)) break;
      Gpr w = regs;
      w.rdx = scratch;
      if (regs.rsi & TIMER_ABSTIME) {
        if (!write_struct(mem, scratch, real_deadline(clock, req))) break;
        return wait_with(w, kNoOut, 0, 0, clock);
      }
      if (!tf.scales(clock)) break;
      if (!write_struct(mem, scratch, timespec_of(tf.real_duration(clock, ns_of(req))))) break;
      return wait_with(w, regs.r10 ? kTimespec : kNoOut, regs.r10, regs.r10, clock);
    }
    case SYS_nanosleep: {
      timespec req{};
      if (!tf.scales(CLOCK_MONOTONIC) || !read_struct(mem, regs.rdi, req) || !valid(req)) break;
      Gpr w = regs;
      w.rdi = scratch;
      if (!write_struct(mem, scratch, timespec_of(tf.real_duration(CLOCK_MONOTONIC, ns_of(req)))))
        break;
      return wait_with(w, regs.rsi ? kTimespec : kNoOut, regs.rsi, regs.rsi, CLOCK_MONOTONIC);
    }
    case SYS_futex: {
      const int op = static_cast<int>(regs.rsi);
      const int cmd = op & FUTEX_CMD_MASK;
      const bool realtime = (op & FUTEX_CLOCK_REALTIME) != 0 || cmd == FUTEX_LOCK_PI;
      const int clock = realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC;
      timespec ts{};
      if (!read_struct(mem, regs.r10, ts) || !valid(ts)) break;
      Gpr w = regs;
      w.r10 = scratch;
      if (cmd == FUTEX_WAIT) {  // relative
        if (!tf.scales(clock)) break;
        if (!write_struct(mem, scratch, timespec_of(tf.real_duration(clock, ns_of(ts))))) break;
      } else {  // WAIT_BITSET, LOCK_PI, LOCK_PI2, WAIT_REQUEUE_PI: absolute
        if (!tf.transforms(clock)) break;
        if (!write_struct(mem, scratch, real_deadline(clock, ts))) break;
      }
      return wait_with(w, kNoOut, 0, 0, clock);
    }
    case SYS_mq_timedsend:
    case SYS_mq_timedreceive:
    case kFutexWaitv: {
      // An absolute deadline: the message queue calls' 5th argument (r8), on REALTIME;
      // futex_waitv's 4th (r10) on the clock in its 5th (r8), REALTIME or MONOTONIC (any
      // other the kernel refuses).
      const bool waitv = nr == kFutexWaitv;
      const int clock = waitv ? static_cast<int>(regs.r8) : CLOCK_REALTIME;
      decltype(Gpr::r8) Gpr::*arg = waitv ? &Gpr::r10 : &Gpr::r8;
      timespec ts{};
      if ((clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC) || !tf.transforms(clock) ||
          !read_struct(mem, regs.*arg, ts) || !valid(ts))
        break;
      Gpr w = regs;
      w.*arg = scratch;
      if (!write_struct(mem, scratch, real_deadline(clock, ts))) break;
      return wait_with(w, kNoOut, 0, 0, clock);
    }
    case SYS_timerfd_settime:
    case SYS_timer_settime: {
      const auto clock = nr == SYS_timerfd_settime ? timerfd_clock(tgid_of(t), regs.rdi)
                                                   : posix_timer_clock(tgid_of(t), regs.rdi);
      itimerspec its{};
      if (!clock || !tf.transforms(*clock) || !read_struct(mem, regs.rdx, its) ||
          !valid(its.it_value) || !valid(its.it_interval))
        break;
      const bool absolute = (regs.rsi & TIMER_ABSTIME) != 0;  // == TFD_TIMER_ABSTIME
      if (!absolute && !tf.scales(*clock)) break;
      itimerspec real = its;
      real.it_interval = timespec_of(tf.real_duration(*clock, ns_of(its.it_interval)));
      if (ns_of(its.it_value) != 0) {  // zero disarms, in either form
        real.it_value = absolute ? real_deadline(*clock, its.it_value)
                                 : timespec_of(tf.real_duration(*clock, ns_of(its.it_value)));
        if (ns_of(real.it_value) == 0) real.it_value.tv_nsec = 1;  // due: still armed
      }
      Gpr w = regs;
      w.rdx = scratch;
      if (!write_struct(mem, scratch, real)) break;
      const bool convert_old = regs.r10 != 0 && tf.scales(*clock);
      return wait_with(w, convert_old ? kItimerspec : kNoOut, regs.r10, regs.r10, *clock);
    }
    case SYS_timerfd_gettime:
    case SYS_timer_gettime: {
      const auto clock = nr == SYS_timerfd_gettime ? timerfd_clock(tgid_of(t), regs.rdi)
                                                   : posix_timer_clock(tgid_of(t), regs.rdi);
      if (!clock || !tf.scales(*clock) || regs.rsi == 0) break;
      return wait_with(regs, kItimerspec, regs.rsi, regs.rsi, *clock);
    }
    case SYS_poll:
    case SYS_epoll_wait:
    case SYS_epoll_pwait: {
      // A timeout in milliseconds in a register: rdx for poll, r10 for the epoll calls.
      const bool is_poll = nr == SYS_poll;
      const int ms = static_cast<int>(is_poll ? regs.rdx : regs.r10);
      if (ms <= 0 || !tf.scales(CLOCK_MONOTONIC)) break;
      const int64_t real_ns = tf.real_duration(CLOCK_MONOTONIC, ms * int64_t{1000000});
      const int64_t real_ms = std::max<int64_t>(1, (real_ns + 999999) / 1000000);
      Gpr w = regs;
      (is_poll ? w.rdx : w.r10) = static_cast<uint64_t>(std::min<int64_t>(real_ms, INT32_MAX));
      return wait_with(w, kNoOut, 0, 0, CLOCK_MONOTONIC);
    }
    case SYS_ppoll:
    case SYS_pselect6:
    case SYS_rt_sigtimedwait:
    case kEpollPwait2:
    case SYS_semtimedop:
    case SYS_io_getevents:
    case SYS_io_pgetevents:
    case SYS_recvmmsg: {
      // A relative timespec: ppoll's and rt_sigtimedwait's 3rd argument (rdx), epoll_pwait2's
      // and semtimedop's 4th (r10), the others' 5th (r8). ppoll, pselect6 and recvmmsg write
      // the time left back.
      decltype(Gpr::rdx) Gpr::*arg = nr == SYS_ppoll || nr == SYS_rt_sigtimedwait ? &Gpr::rdx
                                     : nr == kEpollPwait2 || nr == SYS_semtimedop ? &Gpr::r10
                                                                                  : &Gpr::r8;
      timespec ts{};
      if (!tf.scales(CLOCK_MONOTONIC) || !read_struct(mem, regs.*arg, ts) || !valid(ts)) break;
      Gpr w = regs;
      w.*arg = scratch;
      if (!write_struct(mem, scratch, timespec_of(tf.real_duration(CLOCK_MONOTONIC, ns_of(ts)))))
        break;
      const bool writes_back = nr == SYS_ppoll || nr == SYS_pselect6 || nr == SYS_recvmmsg;
      return wait_with(w, writes_back ? kTimespec : kNoOut, scratch, regs.*arg, CLOCK_MONOTONIC);
    }
    case SYS_select: {
      timeval tv{};
      if (!tf.scales(CLOCK_MONOTONIC) || !read_struct(mem, regs.r8, tv) || tv.tv_sec < 0 ||
          tv.tv_usec < 0)
        break;
      Gpr w = regs;
      w.r8 = scratch;
      if (!write_struct(mem, scratch, timeval_of(tf.real_duration(CLOCK_MONOTONIC, ns_of(tv)))))
        break;
      return wait_with(w, kTimeval, scratch, regs.r8, CLOCK_MONOTONIC);
    }
    case SYS_alarm: {
      // alarm() counts whole seconds, too coarse for a scaled one (alarm(2) at rate 10 is
      // 0.2 s): it becomes setitimer(ITIMER_REAL) (the kernel's alarm is that timer), with the
      // old value written below the new one for the seconds alarm returns.
      if (!tf.scales(CLOCK_MONOTONIC)) break;
      const uint32_t sec = static_cast<uint32_t>(regs.rdi);
      itimerval it{};
      it.it_value = timeval_of(tf.real_duration(CLOCK_MONOTONIC, int64_t{sec} * kNs));
      const uint64_t old = scratch - 32;
      if (!write_struct(mem, scratch, it)) break;
      Gpr w = regs;
      w.orig_rax = SYS_setitimer;  // seccomp runs the filters again: our TRACE then allows
      w.rdi = ITIMER_REAL;
      w.rsi = scratch;
      w.rdx = old;
      return wait_with(w, kAlarmSeconds, old, 0, CLOCK_MONOTONIC);
    }
    case SYS_setitimer:
    case SYS_getitimer: {
      // ITIMER_REAL only: the others count CPU time.
      if (regs.rdi != ITIMER_REAL || !tf.scales(CLOCK_MONOTONIC)) break;
      const uint64_t old = nr == SYS_setitimer ? regs.rdx : regs.rsi;
      Gpr w = regs;
      if (nr == SYS_setitimer) {
        itimerval it{};
        if (!read_struct(mem, regs.rsi, it)) break;
        itimerval real{};
        real.it_interval = timeval_of(tf.real_duration(CLOCK_MONOTONIC, ns_of(it.it_interval)));
        real.it_value = timeval_of(tf.real_duration(CLOCK_MONOTONIC, ns_of(it.it_value)));
        if (!write_struct(mem, scratch, real)) break;
        w.rsi = scratch;
      }
      return wait_with(w, old ? kItimerval : kNoOut, old, old, CLOCK_MONOTONIC);
    }
    case SYS_clock_settime:
    case SYS_settimeofday:
    case SYS_adjtimex:
    case SYS_clock_adjtime: {
      // The tree's timeline is fixed: setting the clock would set the host's real one with a
      // virtual value. Refused as for a process without CAP_SYS_TIME; reading adjtimex's state
      // (modes 0) and setting only the timezone run as usual.
      timex tx{};
      const uint64_t tx_addr = nr == SYS_adjtimex        ? regs.rdi
                               : nr == SYS_clock_adjtime ? regs.rsi
                                                         : 0;
      if (nr == SYS_clock_adjtime && !tf.transforms(static_cast<int>(regs.rdi))) break;
      if (tx_addr != 0 && read_struct(mem, tx_addr, tx) && tx.modes == 0) break;
      if (nr == SYS_settimeofday && regs.rdi == 0) break;
      if (!warned_clock_set_) {
        warned_clock_set_ = true;
        VDSORUN_LOG(kWarn,
                    "pid %d: %s refused (EPERM): the clocks are virtual (--time, --offset, "
                    "--rate, --freeze) and the host's are not the program's to set",
                    t.tid, syscall_name(nr).c_str());
      }
      return answer(-EPERM);
    }
    default:
      break;
  }
  return Resume::cont();
}

Resume Engine::on_time_call_exit(Tracee& t) {
  const Tracee::TimeExit e = *std::exchange(t.time_exit, std::nullopt);
  auto regs = get_regs(t.tid);
  if (!regs) return Resume::cont();
  Gpr w = *regs;
  // The arguments as the program passed them (a restart starts from these).
  w.rdi = e.regs.rdi;
  w.rsi = e.regs.rsi;
  w.rdx = e.regs.rdx;
  w.r10 = e.regs.r10;
  w.r8 = e.regs.r8;
  w.r9 = e.regs.r9;
  const long ret = static_cast<long>(w.rax);
  const bool interrupted = ret == -EINTR || ret == -kErestartsys || ret == -kErestartnointr ||
                           ret == -kErestartnohand || ret == -kErestartRestartblock;
  const ClockTransform& tf = opts_.time;
  ProcessMemory mem(t.tid);
  auto back = [&](int64_t real_ns) { return tf.virtual_duration(e.clock, real_ns); };
  switch (e.out_kind) {
    case kTimespec: {
      // nanosleep's remaining time (only when interrupted); ppoll/pselect6's time left (also
      // when interrupted); recvmmsg's (only when it received a datagram).
      const bool written = e.nr == SYS_nanosleep || e.nr == SYS_clock_nanosleep ? interrupted
                           : e.nr == SYS_recvmmsg                               ? ret > 0
                                                  : ret >= 0 || interrupted;
      timespec ts{};
      if (written && read_struct(mem, e.kernel_out, ts))
        write_struct(mem, e.program_out, timespec_of(back(ns_of(ts))));
      break;
    }
    case kTimeval: {
      timeval tv{};
      if ((ret >= 0 || interrupted) && read_struct(mem, e.kernel_out, tv))
        write_struct(mem, e.program_out, timeval_of(back(ns_of(tv))));
      break;
    }
    case kItimerspec: {
      itimerspec its{};
      if (ret == 0 && read_struct(mem, e.kernel_out, its)) {
        its.it_value = timespec_of(back(ns_of(its.it_value)));
        its.it_interval = timespec_of(back(ns_of(its.it_interval)));
        write_struct(mem, e.program_out, its);
      }
      break;
    }
    case kItimerval: {
      itimerval it{};
      if (ret == 0 && read_struct(mem, e.kernel_out, it)) {
        it.it_value = timeval_of(back(ns_of(it.it_value)));
        it.it_interval = timeval_of(back(ns_of(it.it_interval)));
        write_struct(mem, e.program_out, it);
      }
      break;
    }
    case kAlarmSeconds: {
      // What alarm() returns: the old timer's seconds, rounded to the nearest, at least 1 if
      // it was armed (kernel/time/itimer.c, alarm_setitimer).
      w.orig_rax = SYS_alarm;
      itimerval it{};
      if (ret == 0 && read_struct(mem, e.kernel_out, it)) {
        const timeval left = timeval_of(back(ns_of(it.it_value)));
        int64_t secs = left.tv_sec + (left.tv_usec >= 500000 ? 1 : 0);
        if (secs == 0 && (left.tv_sec != 0 || left.tv_usec != 0)) secs = 1;
        w.rax = static_cast<uint64_t>(secs);
      }
      break;
    }
    default:
      break;
  }
  set_regs(t.tid, w);
  return Resume::cont();
}

}  // namespace emulator
