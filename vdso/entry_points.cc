// The vDSO's exported functions (LINUX_2.6) and their plain weak aliases, as the kernel's x86-64
// vDSO exports them. The high-resolution clocks are computed from the vvar; the coarse clocks
// and time() are the kernel's own, through its vDSO (host_table.h); anything the vvar cannot
// answer goes to the kernel's vDSO too, and only without one to the syscall. Results and errors
// for everything not computed here are therefore the kernel's own.
#include <stdint.h>

#include "vdso/abi.h"
#include "vdso/clock_read.h"
#include "vdso/getcpu.h"
#include "vdso/host_table.h"
#include "vdso/syscall.h"
#include "vdso/vvar.h"
#include "vdso/vvar_access.h"

// Zero in the image; the supervisor fills each process's private copy at exec.
extern "C" {
__attribute__((visibility("hidden"))) extern const vdso::HostTable vdso_host_table;
__attribute__((section(".rodata.vdsorun_host"), aligned(64)))
const vdso::HostTable vdso_host_table = {};
}

namespace {

using vdso::KernelTimespec;
using vdso::KernelTimeval;
using vdso::KernelTimezone;

using ClockGettimeFn = int(int32_t, KernelTimespec*);
using GettimeofdayFn = int(KernelTimeval*, KernelTimezone*);
using TimeFn = int64_t(int64_t*);
using GetcpuFn = long(uint32_t*, uint32_t*, void*);

// One slot of this process's table, loaded once (host_table.h).
template <typename F>
F* route(const uint64_t& slot) {
  return reinterpret_cast<F*>(*static_cast<const volatile uint64_t*>(&slot));
}

// The vvar is not valid and no transform is on: whatever the kernel says is the answer.
bool kernel_answers_as_is() {
  const vdso::Vvar* v = vdso::vvar();
  return (vdso::vvar_load(v->flags) & vdso::kVvarClocksValid) == 0 &&
         vdso::vvar_load(v->transform_enabled) == 0;
}

bool handled_clock(uint32_t id) {
  return id < vdso::kClockSlots &&
         (((vdso::kHresClockMask | vdso::kCoarseClockMask) >> id) & 1) != 0;
}

// The kernel's answers (its vDSO, or the syscall stubs below).
int kernel_clock_gettime(int32_t clock, KernelTimespec* ts) {
  return route<ClockGettimeFn>(vdso_host_table.clock_gettime)(clock, ts);
}

int kernel_gettimeofday(KernelTimeval* tv, KernelTimezone* tz) {
  return route<GettimeofdayFn>(vdso_host_table.gettimeofday)(tv, tz);
}

int gettimeofday_kernel_transformed(KernelTimeval* tv, KernelTimezone* tz) {
  const int ret = kernel_gettimeofday(tv, tz);
  if (ret == 0 && tv != nullptr) {
    KernelTimespec ts{tv->tv_sec, tv->tv_usec * 1000};
    vdso::transform_fallback(vdso::vvar(), vdso::kClockRealtime, &ts);
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
  }
  return ret;
}

__attribute__((noinline)) int gettimeofday_slow(KernelTimeval* tv, KernelTimezone* tz) {
  if (kernel_answers_as_is()) return kernel_gettimeofday(tv, tz);
  if (tv != nullptr) {
    KernelTimespec ts;
    if (!vdso::read_hres(vdso::vvar(), vdso::kClockRealtime, &ts)) {
      return gettimeofday_kernel_transformed(tv, tz);
    }
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
  }
  if (tz != nullptr && !vdso::read_timezone(vdso::vvar(), tz)) {
    return gettimeofday_kernel_transformed(tv, tz);
  }
  return 0;
}

}  // namespace

// Hidden functions the supervisor links into each process's table (host_table.h): it finds
// them through .symtab, so they keep C names.
#define VDSO_HIDDEN extern "C" __attribute__((visibility("hidden"), used))

// Stand-ins for the kernel's vDSO in a process that has none: the raw syscalls.
VDSO_HIDDEN int vdso_sys_clock_gettime(int32_t clock, KernelTimespec* ts) {
  return static_cast<int>(
      vdso::raw_syscall2(vdso::kSysClockGettime, clock, reinterpret_cast<long>(ts)));
}

VDSO_HIDDEN int vdso_sys_gettimeofday(KernelTimeval* tv, KernelTimezone* tz) {
  return static_cast<int>(vdso::raw_syscall2(vdso::kSysGettimeofday, reinterpret_cast<long>(tv),
                                             reinterpret_cast<long>(tz)));
}

VDSO_HIDDEN int64_t vdso_sys_time(int64_t* t) {
  return vdso::raw_syscall1(vdso::kSysTime, reinterpret_cast<long>(t));
}

VDSO_HIDDEN long vdso_sys_getcpu(uint32_t* cpu, uint32_t* node, void* tcache) {
  return vdso::raw_syscall3(vdso::kSysGetcpu, reinterpret_cast<long>(cpu),
                            reinterpret_cast<long>(node), reinterpret_cast<long>(tcache));
}

VDSO_HIDDEN int vdso_sys_clock_getres(int32_t clock, KernelTimespec* res) {
  return static_cast<int>(
      vdso::raw_syscall2(vdso::kSysClockGetres, clock, reinterpret_cast<long>(res)));
}

// The general clock_gettime path: bounded retries, transform, clamp; then the kernel's answer,
// transformed too. Also the coarse route of a transformed tree.
VDSO_HIDDEN __attribute__((noinline)) int vdso_transformed_clock_gettime(int32_t clock,
                                                                         KernelTimespec* ts) {
  const uint32_t id = static_cast<uint32_t>(clock);
  // Where the vvar computes nothing (any clocksource but tsc) and nothing is transformed, the
  // kernel's vDSO answers at once: no TSC read, no retries.
  if (kernel_answers_as_is()) return kernel_clock_gettime(clock, ts);
  if (id < vdso::kClockSlots && ts != nullptr && ((vdso::kHresClockMask >> id) & 1)) {
    if (vdso::read_hres(vdso::vvar(), id, ts)) return 0;
  }
  // NULL goes to the kernel too, which answers -EFAULT (or -EINVAL for a bad id).
  const int ret = kernel_clock_gettime(clock, ts);
  if (ret == 0 && handled_clock(id)) vdso::transform_fallback(vdso::vvar(), id, ts);
  return ret;
}

// time() in a transformed tree: the kernel's coarse REALTIME (nanoseconds included, so that a
// rate other than 1 scales the whole instant), transformed, in seconds.
VDSO_HIDDEN int64_t vdso_transformed_time(int64_t* t) {
  KernelTimespec ts{};
  if (kernel_clock_gettime(vdso::kClockRealtimeCoarse, &ts) != 0) {
    ts = KernelTimespec{route<TimeFn>(vdso_host_table.time)(nullptr), 0};
  }
  vdso::transform_fallback(vdso::vvar(), vdso::kClockRealtimeCoarse, &ts);
  if (t != nullptr) *t = ts.tv_sec;
  return ts.tv_sec;
}

// Built with -fvisibility=hidden: only these are visible, and vdso.version keeps only them.
#define VDSO_EXPORT __attribute__((visibility("default")))

extern "C" {

VDSO_EXPORT int __vdso_clock_gettime(int32_t clock, KernelTimespec* ts) {
  // The coarse clocks first, in as few instructions as possible: they cost the kernel's vDSO
  // only a few nanoseconds. The kernel makes them a copy at each tick that only its own vDSO
  // can read without ever trailing it; it also answers a NULL `ts` as the kernel's vDSO does.
  static_assert(vdso::kCoarseClockMask == 3u << vdso::kClockRealtimeCoarse);
  if (static_cast<uint32_t>(clock - vdso::kClockRealtimeCoarse) < 2) {
    return route<ClockGettimeFn>(vdso_host_table.coarse_route)(clock, ts);
  }
  const uint32_t id = static_cast<uint32_t>(clock);
  if (__builtin_expect(id < vdso::kClockSlots && ts != nullptr, 1) &&
      ((vdso::kHresClockMask >> id) & 1) != 0 &&
      __builtin_expect(vdso::try_hres(vdso::vvar(), id, ts), 1)) {
    return 0;
  }
  return vdso_transformed_clock_gettime(clock, ts);
}

VDSO_EXPORT int __vdso_gettimeofday(KernelTimeval* tv, KernelTimezone* tz) {
  KernelTimespec ts;
  if (__builtin_expect(tv != nullptr && tz == nullptr, 1) &&
      __builtin_expect(vdso::try_hres(vdso::vvar(), vdso::kClockRealtime, &ts), 1)) {
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;  // a constant divisor: compiled to a multiply
    return 0;
  }
  return gettimeofday_slow(tv, tz);
}

// Like the kernel's: the seconds of its coarse realtime clock, which can trail gettimeofday()'s
// seconds by up to one tick. Read through the kernel's own vDSO so that it equals the kernel's.
VDSO_EXPORT int64_t __vdso_time(int64_t* t) {
  return route<TimeFn>(vdso_host_table.time_route)(t);
}

VDSO_EXPORT long __vdso_getcpu(uint32_t* cpu, uint32_t* node, void* tcache) {
  uint32_t p;
  const uint32_t method = vdso::vvar_load(vdso::vvar()->getcpu_method);
  if (__builtin_expect(method == vdso::kGetcpuRdpid, 1)) {
    p = vdso::cpunode_rdpid();
  } else if (method == vdso::kGetcpuRdtscp) {
    p = vdso::cpunode_rdtscp();
  } else if (method != vdso::kGetcpuLsl || !vdso::cpunode_lsl(&p)) {
    return route<GetcpuFn>(vdso_host_table.getcpu)(cpu, node, tcache);
  }
  if (cpu != nullptr) *cpu = vdso::cpunode_cpu(p);
  if (node != nullptr) *node = vdso::cpunode_node(p);
  return 0;
}

VDSO_EXPORT int __vdso_clock_getres(int32_t clock, KernelTimespec* res) {
  const uint32_t id = static_cast<uint32_t>(clock);
  if (handled_clock(id)) {
    // The supervisor copied the kernel's answer (always below one second) at start.
    const int64_t ns = vdso::vvar_load(vdso::vvar()->res_ns[id]);
    if (ns > 0) {
      if (res != nullptr) *res = KernelTimespec{0, ns};
      return 0;
    }
  }
  return route<ClockGettimeFn>(vdso_host_table.clock_getres)(clock, res);
}

VDSO_EXPORT int clock_gettime(int32_t, KernelTimespec*)
    __attribute__((weak, alias("__vdso_clock_gettime")));
VDSO_EXPORT int gettimeofday(KernelTimeval*, KernelTimezone*)
    __attribute__((weak, alias("__vdso_gettimeofday")));
VDSO_EXPORT int64_t time(int64_t*) __attribute__((weak, alias("__vdso_time")));
VDSO_EXPORT long getcpu(uint32_t*, uint32_t*, void*) __attribute__((weak, alias("__vdso_getcpu")));
VDSO_EXPORT int clock_getres(int32_t, KernelTimespec*)
    __attribute__((weak, alias("__vdso_clock_getres")));

}  // extern "C"
