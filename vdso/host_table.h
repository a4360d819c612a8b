// The per-process routing table of the injected vDSO: where each function goes for the answers
// the kernel's own vDSO gives best. The coarse clocks and time() go there directly (the
// kernel's own values, never a tick behind, at the kernel's speed), and every clock goes there
// while the vvar is not valid (never slower than the program would be without vdsorun).
// Freestanding: included by the vDSO, the injector and the tests.
//
// The table is a hidden object in the image's read-only data. The image is mapped MAP_PRIVATE,
// so the supervisor fills each process's copy at exec (a debugger-style write) with absolute
// addresses in that process: the kernel vDSO's functions, or, where the process has no kernel
// vDSO, the image's own syscall stubs; every slot is always callable. Readers load each slot
// with a volatile access so the compiler never folds the image's zero initialiser into code.
#pragma once

#include <stdint.h>

namespace vdso {

struct HostTable {
  // The kernel's answer: its vDSO's function, or the image's syscall stub.
  uint64_t clock_gettime;  // int (*)(clockid_t, struct timespec*)
  uint64_t gettimeofday;   // int (*)(struct timeval*, struct timezone*)
  uint64_t time;           // time_t (*)(time_t*)
  uint64_t getcpu;         // long (*)(unsigned*, unsigned*, void*)
  uint64_t clock_getres;   // int (*)(clockid_t, struct timespec*)
  // Where time() and clock_gettime() of a coarse clock go: the kernel's function above, or,
  // when the tree's clocks are transformed, the image's own path that transforms its answer.
  uint64_t time_route;
  uint64_t coarse_route;
};
static_assert(sizeof(HostTable) == 56);

// The hidden symbol of the table inside the image (found through .symtab by the injector).
inline constexpr const char kHostTableSymbol[] = "vdso_host_table";

// The kernel vDSO's names for the first five slots, in order, all at version LINUX_2.6, and
// the image's hidden stand-ins for a process without a kernel vDSO.
inline constexpr int kKernelFunctions = 5;
inline constexpr const char* kHostFunctionNames[kKernelFunctions] = {
    "__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time",
    "__vdso_getcpu",        "__vdso_clock_getres",
};
inline constexpr const char* kSyscallStubNames[kKernelFunctions] = {
    "vdso_sys_clock_gettime", "vdso_sys_gettimeofday", "vdso_sys_time",
    "vdso_sys_getcpu",        "vdso_sys_clock_getres",
};
// The image's transforming paths for time_route and coarse_route.
inline constexpr const char kTransformedTimeName[] = "vdso_transformed_time";
inline constexpr const char kTransformedCoarseName[] = "vdso_transformed_clock_gettime";

}  // namespace vdso
