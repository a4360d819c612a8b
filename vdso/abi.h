// The slice of the x86-64 Linux kernel ABI the vDSO speaks: clock ids, syscall numbers, errnos,
// and the layouts of timespec/timeval/timezone. Freestanding: no libc headers.
#pragma once

#include <stdint.h>

namespace vdso {

// uapi/linux/time.h clock ids.
inline constexpr int32_t kClockRealtime = 0;
inline constexpr int32_t kClockMonotonic = 1;
inline constexpr int32_t kClockProcessCputime = 2;
inline constexpr int32_t kClockThreadCputime = 3;
inline constexpr int32_t kClockMonotonicRaw = 4;
inline constexpr int32_t kClockRealtimeCoarse = 5;
inline constexpr int32_t kClockMonotonicCoarse = 6;
inline constexpr int32_t kClockBoottime = 7;
inline constexpr int32_t kClockTai = 11;

// Clocks the vDSO computes from the TSC; every other id goes to the kernel.
inline constexpr uint32_t kHresClockMask = (1u << kClockRealtime) | (1u << kClockMonotonic) |
                                           (1u << kClockMonotonicRaw) | (1u << kClockBoottime) |
                                           (1u << kClockTai);
// Clocks the vDSO answers from the supervisor's last snapshot (no TSC read).
inline constexpr uint32_t kCoarseClockMask =
    (1u << kClockRealtimeCoarse) | (1u << kClockMonotonicCoarse);

// x86-64 syscall numbers.
inline constexpr long kSysGettimeofday = 96;
inline constexpr long kSysTime = 201;
inline constexpr long kSysClockGettime = 228;
inline constexpr long kSysClockGetres = 229;
inline constexpr long kSysGetcpu = 309;

inline constexpr uint64_t kNsPerSec = 1000000000;

// The kernel's x86-64 layouts (64-bit longs).
struct KernelTimespec {
  int64_t tv_sec;
  int64_t tv_nsec;
};
struct KernelTimeval {
  int64_t tv_sec;
  int64_t tv_usec;
};
struct KernelTimezone {
  int32_t tz_minuteswest;
  int32_t tz_dsttime;
};

}  // namespace vdso
