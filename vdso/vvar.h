// The vvar page layout, shared by the injected vDSO (reader) and the supervisor (writer).
// Freestanding: included by the vDSO, the timekeeper and the tests alike.
//
// Protocol (a seqlock with a 64-bit counter): the writer makes `seq` odd, fences, writes the
// fields, fences (release), makes `seq` even. A reader loads `seq` (acquire), reads every field
// it needs and the TSC, then checks that `seq` is unchanged and even; otherwise it retries a
// bounded number of times and then asks the kernel. All fields are accessed with atomic
// (relaxed) loads and stores so that a torn read is detected, never undefined.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace vdso {

inline constexpr uint32_t kVvarMagic = 0x72617676;  // "vvar" in memory order
// 2: no copy of the coarse clocks (the vDSO reads the kernel's own through host_table.h).
// 3: a rate per clock in the time transform; the hres clocks are published transformed.
inline constexpr uint32_t kVvarVersion = 3;

inline constexpr size_t kPageSize = 4096;
// Pages of vvar directly below the image. vdso.lds places `vvar_page` this many pages below the
// ELF header; the image checker verifies the two agree.
inline constexpr size_t kVvarPages = 1;
inline constexpr size_t kVvarSize = kVvarPages * kPageSize;

// One slot per kernel clock id below this bound (ids 0..15).
inline constexpr uint32_t kClockSlots = 16;

// Vvar::flags.
inline constexpr uint32_t kVvarClocksValid = 1u << 0;  // hres + coarse clocks may be computed

// Vvar::getcpu_method: which instruction yields the kernel's (node << 12) | cpu word.
enum GetcpuMethod : uint32_t {
  kGetcpuSyscall = 0,  // none is usable: ask the kernel
  kGetcpuRdpid = 1,    // rdpid reads IA32_TSC_AUX
  kGetcpuRdtscp = 2,   // rdtscp also reads IA32_TSC_AUX (into ecx)
  kGetcpuLsl = 3,      // lsl on the per-CPU GDT segment (kCpunodeSelector)
};
// GDT_ENTRY_CPUNODE (15) * 8 + RPL 3: the segment whose limit holds (node << 12) | cpu.
inline constexpr uint32_t kCpunodeSelector = 15 * 8 + 3;
inline constexpr uint32_t kCpunodeCpuBits = 12;

// A TSC-driven clock. Its value in nanoseconds since the clock's epoch is
//   base_sec * 1e9 + ((base_snsec + max(tsc - base_tsc, 0) * mult) >> shift)
// where base_snsec is the nanoseconds within base_sec scaled by 2^shift (sub-ns precision
// survives re-anchoring). No division: the seconds carry is a bounded subtraction loop.
struct VvarClock {
  uint64_t base_tsc;
  uint64_t base_sec;
  uint64_t base_snsec;
  uint64_t mult;
  uint32_t shift;
  uint32_t reserved0;
  uint64_t reserved1[3];
};
static_assert(sizeof(VvarClock) == 64);

// The tree's time transform (--time, --offset, --rate, --freeze), per clock id. For a kernel
// clock value v in nanoseconds:
//   v' = anchor_out[clock] + (((v - anchor_in[clock]) * rate_mult[clock]) >> rate_shift)
// (signed; rate_mult == 1 << rate_shift is rate 1, 0 a frozen clock). The supervisor publishes
// the hres clocks already transformed (the fold costs readers nothing); readers apply these
// fields only to what they get from the kernel (coarse clocks, time(), syscall fallbacks)
// when Vvar::transform_enabled is non-zero. A clock whose rate_mult is 1 << rate_shift and
// whose anchors are equal is untouched (CPU-time clocks always are).
struct TimeTransform {
  uint32_t rate_shift;
  uint32_t reserved;
  uint64_t rate_mult[kClockSlots];
  int64_t anchor_in[kClockSlots];
  int64_t anchor_out[kClockSlots];
};

struct alignas(64) Vvar {
  // Cache line 0: everything every reader touches.
  uint32_t magic;    // kVvarMagic once the supervisor initialised the page
  uint32_t version;  // kVvarVersion
  uint64_t seq;      // seqlock counter: odd while the supervisor writes
  uint32_t flags;    // kVvarClocksValid ...
  uint32_t getcpu_method;
  // A TSC delta beyond this means a stalled supervisor: readers ask the kernel. The writer
  // keeps it small enough that base_snsec + max_delta_cycles * mult < 2^64 for every clock,
  // so readers multiply in 64 bits.
  uint64_t max_delta_cycles;
  int32_t tz_minuteswest;  // the kernel's sys_tz, for gettimeofday's second argument
  int32_t tz_dsttime;
  uint32_t transform_enabled;
  uint32_t reserved0;
  uint64_t reserved1[2];

  VvarClock hres[kClockSlots];  // indexed by clock id; only kHresClockMask ids are used
  int64_t res_ns[kClockSlots];  // the kernel's clock_getres in ns; 0 = ask the kernel
  TimeTransform transform;
};
static_assert(offsetof(Vvar, hres) == 64);
static_assert(sizeof(Vvar) <= kVvarSize);

// Atomic field access shared by both sides (plain moves on x86-64).
template <typename T>
inline T vvar_load(const T& field) {
  return __atomic_load_n(&field, __ATOMIC_RELAXED);
}
template <typename T>
inline void vvar_store(T& field, T value) {
  __atomic_store_n(&field, value, __ATOMIC_RELAXED);
}

}  // namespace vdso
