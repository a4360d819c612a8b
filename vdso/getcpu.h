// The three instructions that read the kernel's per-CPU (node << 12) | cpu word. Shared with
// the supervisor, which probes which of them works before the vDSO may use it.
#pragma once

#include <stdint.h>

#include "vdso/vvar.h"

namespace vdso {

// Needs CPUID.7.0:ECX.RDPID and a kernel that loads IA32_TSC_AUX.
inline uint32_t cpunode_rdpid() {
  uint64_t p;
  asm volatile("rdpid %0" : "=r"(p));
  return static_cast<uint32_t>(p);
}

// Needs CPUID.80000001:EDX.RDTSCP and a kernel that loads IA32_TSC_AUX.
inline uint32_t cpunode_rdtscp() {
  uint32_t lo;
  uint32_t hi;
  uint32_t aux;
  asm volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
  return aux;
}

// lsl never faults: an unusable selector only clears ZF, reported here as false.
inline bool cpunode_lsl(uint32_t* out) {
  uint32_t p;
  bool ok;
  asm volatile("lsl %[sel], %[p]" : [p] "=r"(p), "=@ccz"(ok) : [sel] "r"(kCpunodeSelector));
  *out = p;
  return ok;
}

inline uint32_t cpunode_cpu(uint32_t p) {
  return p & ((1u << kCpunodeCpuBits) - 1);
}
inline uint32_t cpunode_node(uint32_t p) {
  return p >> kCpunodeCpuBits;
}

}  // namespace vdso
