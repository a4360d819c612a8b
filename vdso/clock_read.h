// The vDSO's readers: one consistent snapshot of the vvar per call, or "ask the kernel".
#pragma once

#include <stdint.h>

#include "vdso/abi.h"
#include "vdso/clock_math.h"
#include "vdso/seqlock.h"
#include "vdso/tsc.h"
#include "vdso/vvar.h"

namespace vdso {

inline TransformParams load_transform(const Vvar* v, uint32_t id) {
  return TransformParams{vvar_load(v->transform.rate_mult[id]), vvar_load(v->transform.rate_shift),
                         vvar_load(v->transform.anchor_in[id]),
                         vvar_load(v->transform.anchor_out[id])};
}

// The general readers: bounded retries while the supervisor writes, the TSC clamp. The hres
// clocks are published already transformed (vvar.h). False when the caller must ask the kernel. Kept out of line: the entry points
// try the single-attempt fast paths below first.
__attribute__((noinline)) inline bool read_hres(const Vvar* v, uint32_t id, KernelTimespec* ts) {
  const VvarClock& c = v->hres[id];
  for (uint32_t tries = 0; tries < kMaxReadTries; ++tries) {
    const uint64_t seq = seq_begin(v);
    if (seq & 1) {
      cpu_relax();
      continue;
    }
    const uint32_t flags = vvar_load(v->flags);
    const uint64_t tsc = rdtsc_ordered();
    const uint64_t max_delta = vvar_load(v->max_delta_cycles);
    const uint64_t base_tsc = vvar_load(c.base_tsc);
    const uint64_t base_sec = vvar_load(c.base_sec);
    const uint64_t base_snsec = vvar_load(c.base_snsec);
    const uint64_t mult = vvar_load(c.mult);
    const uint32_t shift = vvar_load(c.shift);
    if (seq_retry(v, seq)) continue;
    if (!(flags & kVvarClocksValid)) return false;
    const uint64_t delta = cycle_delta(tsc, base_tsc);
    if (delta > max_delta) return false;
    *ts = clock_after(base_sec, base_snsec, mult, shift, delta);
    return true;
  }
  return false;
}

// The fast path: one attempt, no clamp, no calls (so the entry points need no
// stack frame). False sends the caller to the general path, which decides properly; a torn
// value can only ever cause that. The TSC is sampled before the fields are loaded, which
// keeps few values live across rdtsc; the retry check after both still covers them.
__attribute__((always_inline)) inline bool try_hres(const Vvar* v, uint32_t id,
                                                    KernelTimespec* ts) {
  const uint64_t seq = seq_begin(v);
  const uint32_t flags = vvar_load(v->flags);
  if (__builtin_expect((seq & 1) != 0 || !(flags & kVvarClocksValid), 0)) {
    return false;
  }
  const uint64_t tsc = rdtsc_ordered();
  const VvarClock& c = v->hres[id];
  const uint64_t max_delta = vvar_load(v->max_delta_cycles);
  const uint64_t base_tsc = vvar_load(c.base_tsc);
  const uint64_t base_sec = vvar_load(c.base_sec);
  const uint64_t base_snsec = vvar_load(c.base_snsec);
  const uint64_t mult = vvar_load(c.mult);
  const uint32_t shift = vvar_load(c.shift);
  if (__builtin_expect(seq_retry(v, seq), 0)) return false;
  // A TSC before the anchor wraps to a huge delta: the general path clamps it.
  const uint64_t delta = tsc - base_tsc;
  if (__builtin_expect(delta > max_delta, 0)) return false;
  *ts = clock_after(base_sec, base_snsec, mult, shift, delta);
  return true;
}

// sys_tz as the supervisor last saw it; false if the caller must ask the kernel.
inline bool read_timezone(const Vvar* v, KernelTimezone* tz) {
  for (uint32_t tries = 0; tries < kMaxReadTries; ++tries) {
    const uint64_t seq = seq_begin(v);
    if (__builtin_expect(seq & 1, 0)) {
      cpu_relax();
      continue;
    }
    const uint32_t flags = vvar_load(v->flags);
    const int32_t minuteswest = vvar_load(v->tz_minuteswest);
    const int32_t dsttime = vvar_load(v->tz_dsttime);
    if (__builtin_expect(seq_retry(v, seq), 0)) continue;
    if (!(flags & kVvarClocksValid)) return false;
    tz->tz_minuteswest = minuteswest;
    tz->tz_dsttime = dsttime;
    return true;
  }
  return false;
}

// After a syscall answered for a clock the vDSO handles, applies the transform if one is on:
// a transformed tree must not see raw kernel time just because the vDSO fell back.
inline void transform_fallback(const Vvar* v, uint32_t id, KernelTimespec* ts) {
  for (uint32_t tries = 0; tries < kMaxReadTries; ++tries) {
    const uint64_t seq = seq_begin(v);
    if (__builtin_expect(seq & 1, 0)) {
      cpu_relax();
      continue;
    }
    const uint32_t transform = vvar_load(v->transform_enabled);
    if (__builtin_expect(transform == 0, 1)) return;
    const TransformParams tp = load_transform(v, id);
    if (seq_retry(v, seq)) continue;
    *ts = transform_timespec(*ts, tp);
    return;
  }
}

}  // namespace vdso
