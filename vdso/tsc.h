// Reading the TSC in the order the seqlock needs, and the spin-wait hint.
#pragma once

#include <stdint.h>

namespace vdso {

// lfence first: the TSC is sampled only after every earlier load (the sequence counter and the
// clock fields) has completed, as the kernel's rdtsc_ordered() does. A later load (the retry
// check) cannot complete before this sample is taken, so a reader that passes the retry check
// sampled the TSC before the writer's next update became visible.
inline uint64_t rdtsc_ordered() {
  uint32_t lo;
  uint32_t hi;
  asm volatile("lfence\n\trdtsc" : "=a"(lo), "=d"(hi) : : "memory");
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

inline void cpu_relax() {
  asm volatile("pause" : : : "memory");
}

}  // namespace vdso
