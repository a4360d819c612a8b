// Where the injected vDSO's high-resolution clocks come from on this machine: a pure function
// of what the machine says, so that every path is unit-tested whichever machine runs the tests.
//
//   tsc           the vvar, computed from the TSC (the supervisor's calibration);
//   kernel vDSO   the kernel's own vDSO function (the vvar is marked not valid);
//   syscall       neither: the process has no kernel vDSO.
//
// The TSC path needs a TSC whose rate never changes (constant_tsc, nonstop_tsc) and the kernel's
// clocksource to be that TSC: then the kernel's clocks are a piecewise-linear function of it,
// which the supervisor's calibration follows to a few nanoseconds (and the kernel vouches for
// the TSC across CPUs). Paravirtual clocksources (kvm-clock, the Hyper-V TSC page, xen) are
// TSC-driven too, but the hypervisor rewrites their parameters at moments userspace cannot
// see: on a kvm-clock VM under load the kernel's MONOTONIC moved up to 200 ns off any
// TSC-linear prediction within one 4 ms update interval, which a calibrated vvar turns into
// ordering violations against the kernel. There the kernel's own vDSO (which reads the
// pvclock page itself) is both exact and fast, so the injected vDSO calls it.
#pragma once

#include <string>
#include <string_view>

namespace emulator {

enum class ClockPath { kTsc, kKernelVdso, kSyscall };

struct ClockFacts {
  std::string_view clocksource;  // current_clocksource (a trailing newline is ignored)
  std::string_view cpu_flags;    // the "flags" line of /proc/cpuinfo
  bool kernel_vdso = true;       // vdsorun found a kernel vDSO with the clock functions
};

struct ClockChoice {
  ClockPath path = ClockPath::kSyscall;
  // Whether programs read the high-resolution clocks without a syscall on this path.
  bool fast = false;
  std::string why;  // one line for -v, the status and the tests
};

ClockChoice choose_clock(const ClockFacts& facts);

// Clocksources the kernel's own x86 vDSO reads without a syscall (its vclock modes).
bool kernel_vdso_reads_fast(std::string_view clocksource);

const char* clock_path_name(ClockPath path);

}  // namespace emulator
