// The vDSO's exported functions (LINUX_2.6) and their plain weak aliases, as the kernel's x86-64
// vDSO exports them. Each either answers from the vvar or makes the real syscall, so errors and
// results for everything it does not compute are the kernel's own.
#include <stdint.h>

#include "vdso/abi.h"
#include "vdso/clock_read.h"
#include "vdso/getcpu.h"
#include "vdso/syscall.h"
#include "vdso/vvar.h"
#include "vdso/vvar_access.h"

namespace {

using vdso::KernelTimespec;
using vdso::KernelTimeval;
using vdso::KernelTimezone;

bool handled_clock(uint32_t id) {
  return id < vdso::kClockSlots &&
         (((vdso::kHresClockMask | vdso::kCoarseClockMask) >> id) & 1) != 0;
}

// The general paths (bounded retries, transform, clamp) and then the kernel. The exported
// functions tail-call these when their single fast attempt does not settle the call.
__attribute__((noinline)) int clock_gettime_slow(int32_t clock, KernelTimespec* ts) {
  const uint32_t id = static_cast<uint32_t>(clock);
  if (id < vdso::kClockSlots && ts != nullptr) {
    if ((vdso::kHresClockMask >> id) & 1) {
      if (vdso::read_hres(vdso::vvar(), id, ts)) return 0;
    } else if ((vdso::kCoarseClockMask >> id) & 1) {
      if (vdso::read_coarse(vdso::vvar(), id, ts)) return 0;
    }
  }
  // NULL goes to the kernel too, which answers -EFAULT (or -EINVAL for a bad id).
  const long ret = vdso::raw_syscall2(vdso::kSysClockGettime, clock, reinterpret_cast<long>(ts));
  if (ret == 0 && handled_clock(id)) vdso::transform_fallback(vdso::vvar(), id, ts);
  return static_cast<int>(ret);
}

int gettimeofday_syscall(KernelTimeval* tv, KernelTimezone* tz) {
  const long ret = vdso::raw_syscall2(vdso::kSysGettimeofday, reinterpret_cast<long>(tv),
                                      reinterpret_cast<long>(tz));
  if (ret == 0 && tv != nullptr) {
    KernelTimespec ts{tv->tv_sec, tv->tv_usec * 1000};
    vdso::transform_fallback(vdso::vvar(), vdso::kClockRealtime, &ts);
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
  }
  return static_cast<int>(ret);
}

__attribute__((noinline)) int gettimeofday_slow(KernelTimeval* tv, KernelTimezone* tz) {
  if (tv != nullptr) {
    KernelTimespec ts;
    if (!vdso::read_hres(vdso::vvar(), vdso::kClockRealtime, &ts)) {
      return gettimeofday_syscall(tv, tz);
    }
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
  }
  if (tz != nullptr && !vdso::read_timezone(vdso::vvar(), tz)) return gettimeofday_syscall(tv, tz);
  return 0;
}

__attribute__((noinline)) int64_t time_slow(int64_t* t) {
  KernelTimespec ts;
  if (vdso::read_coarse(vdso::vvar(), vdso::kClockRealtimeCoarse, &ts)) {
    if (t != nullptr) *t = ts.tv_sec;
    return ts.tv_sec;
  }
  const long ret = vdso::raw_syscall1(vdso::kSysTime, reinterpret_cast<long>(t));
  if (ret < 0 && ret > -4096) return ret;  // -EFAULT for a bad t
  ts = KernelTimespec{ret, 0};
  vdso::transform_fallback(vdso::vvar(), vdso::kClockRealtimeCoarse, &ts);
  if (t != nullptr) *t = ts.tv_sec;
  return ts.tv_sec;
}

}  // namespace

// Built with -fvisibility=hidden: only these are visible, and vdso.version keeps only them.
#define VDSO_EXPORT __attribute__((visibility("default")))

extern "C" {

VDSO_EXPORT int __vdso_clock_gettime(int32_t clock, KernelTimespec* ts) {
  const uint32_t id = static_cast<uint32_t>(clock);
  if (__builtin_expect(id < vdso::kClockSlots && ts != nullptr, 1)) {
    const uint32_t bit = 1u << id;
    if (bit & vdso::kHresClockMask) {
      if (__builtin_expect(vdso::try_hres(vdso::vvar(), id, ts), 1)) return 0;
    } else if (bit & vdso::kCoarseClockMask) {
      if (__builtin_expect(vdso::try_coarse(vdso::vvar(), id, ts), 1)) return 0;
    }
  }
  return clock_gettime_slow(clock, ts);
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

// Like the kernel, the seconds of the coarse realtime clock (the value at the last update),
// which can trail gettimeofday()'s seconds by up to one update.
VDSO_EXPORT int64_t __vdso_time(int64_t* t) {
  KernelTimespec ts;
  if (__builtin_expect(vdso::try_coarse(vdso::vvar(), vdso::kClockRealtimeCoarse, &ts), 1)) {
    if (t != nullptr) *t = ts.tv_sec;
    return ts.tv_sec;
  }
  return time_slow(t);
}

VDSO_EXPORT long __vdso_getcpu(uint32_t* cpu, uint32_t* node, void* tcache) {
  uint32_t p;
  const uint32_t method = vdso::vvar_load(vdso::vvar()->getcpu_method);
  if (__builtin_expect(method == vdso::kGetcpuRdpid, 1)) {
    p = vdso::cpunode_rdpid();
  } else if (method == vdso::kGetcpuRdtscp) {
    p = vdso::cpunode_rdtscp();
  } else if (method != vdso::kGetcpuLsl || !vdso::cpunode_lsl(&p)) {
    return vdso::raw_syscall3(vdso::kSysGetcpu, reinterpret_cast<long>(cpu),
                              reinterpret_cast<long>(node), reinterpret_cast<long>(tcache));
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
  return static_cast<int>(
      vdso::raw_syscall2(vdso::kSysClockGetres, clock, reinterpret_cast<long>(res)));
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
