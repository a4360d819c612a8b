// Clock arithmetic shared by the vDSO and the supervisor: TSC delta to (sec, nsec) and the time
// transform. Freestanding and division-free (the seconds carry is a bounded loop).
#pragma once

#include <stdint.h>

#include "vdso/abi.h"
#include "vdso/vvar.h"

namespace vdso {

__extension__ typedef unsigned __int128 u128;
__extension__ typedef __int128 s128;

// Cycles since the anchor. A TSC read before the anchor (a reader on a CPU whose TSC trails the
// writer's by a few cycles, or an anchor placed slightly ahead) counts as zero: the clock holds
// still rather than going backwards.
inline uint64_t cycle_delta(uint64_t tsc, uint64_t base_tsc) {
  const uint64_t d = tsc - base_tsc;
  return d & ~static_cast<uint64_t>(static_cast<int64_t>(d) >> 63);
}

// The clock after `delta` cycles from its anchor, in 64-bit arithmetic: the caller guarantees
// delta <= Vvar::max_delta_cycles, which the supervisor keeps small enough that
// base_snsec + delta * mult cannot overflow (see vvar.h) and the carry loop runs at most a
// couple of times. shift is below 64 (the supervisor writes 32).
inline KernelTimespec clock_after(uint64_t base_sec, uint64_t base_snsec, uint64_t mult,
                                  uint32_t shift, uint64_t delta) {
  uint64_t nsec = (base_snsec + delta * mult) >> (shift & 63);
  uint64_t sec = base_sec;
  while (nsec >= kNsPerSec) {
    nsec -= kNsPerSec;
    ++sec;
  }
  return KernelTimespec{static_cast<int64_t>(sec), static_cast<int64_t>(nsec)};
}

// The transform's inputs for one clock, copied inside the seqlock.
struct TransformParams {
  uint64_t rate_mult;
  uint32_t rate_shift;
  int64_t anchor_in;
  int64_t anchor_out;
};

inline int64_t transform_ns(int64_t v, const TransformParams& p) {
  // Rate 1 (--time, --offset): an addition, no 128-bit multiply (the kernel-answer path of a
  // kvm-clock machine runs this on every read).
  if (__builtin_expect(p.rate_mult == (uint64_t{1} << (p.rate_shift & 63)), 1)) {
    return p.anchor_out + (v - p.anchor_in);
  }
  const s128 scaled = static_cast<s128>(v - p.anchor_in) * static_cast<s128>(p.rate_mult);
  return p.anchor_out + static_cast<int64_t>(scaled >> p.rate_shift);
}

// Only on the (disabled by default) transform path: dividing by a constant compiles to a
// multiply, so readers still execute no divide instruction.
inline KernelTimespec transform_timespec(const KernelTimespec& ts, const TransformParams& p) {
  const int64_t v = ts.tv_sec * static_cast<int64_t>(kNsPerSec) + ts.tv_nsec;
  const int64_t out = transform_ns(v, p);
  int64_t sec = out / static_cast<int64_t>(kNsPerSec);
  int64_t nsec = out - sec * static_cast<int64_t>(kNsPerSec);
  if (nsec < 0) {
    nsec += static_cast<int64_t>(kNsPerSec);
    --sec;
  }
  return KernelTimespec{sec, nsec};
}

}  // namespace vdso
