// Reading the TSC in the order the seqlock needs, and the spin-wait hint.
#pragma once

#include <stdint.h>

namespace vdso {

// lfence first, as the kernel's rdtsc_ordered(): the TSC is sampled only after the sequence
// counter and the flags were loaded, so it is never older than the snapshot it is paired with.
// The loads after it (clock fields, retry check) are covered by the retry check. A reader whose
// TSC was sampled a few cycles after the writer's switch point yet paired with the old formula
// sees a value that differs from the new formula's by far less than a nanosecond there (the new
// formula starts at the old one's value and their rates differ by at most the 500 ppm slew).
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
