// Where the injected vDSO's high-resolution clocks come from on this machine: a pure function
// of what the machine says, so that every path is unit-tested whichever machine runs the tests.
//
//   tsc           the vvar, computed from the TSC (the supervisor's calibration);
//   kernel vDSO   the kernel's own vDSO function (the vvar is marked not valid);
//   syscall       neither: the process has no kernel vDSO.
//
// The TSC path needs a TSC whose rate never changes (constant_tsc, nonstop_tsc) and that agrees
// across CPUs. With clocksource=tsc the kernel itself vouches for both (its TSC sync check and
// clocksource watchdog). Paravirtual clocksources built on the TSC (kvm-clock, the Hyper-V TSC
// page, xen) are what the kernel's own vDSO reads fast too, but the kernel may have refused the
// raw TSC (tsc=unstable, a failed sync check at boot), so vdsorun checks the cross-CPU agreement
// itself first, and falls back to the kernel's vDSO meanwhile and whenever it fails.
#pragma once

#include <string>
#include <string_view>

namespace emulator {

enum class ClockPath { kTsc, kKernelVdso, kSyscall };
enum class CrossCpu { kUnchecked, kAgree, kDisagree };

struct ClockFacts {
  std::string_view clocksource;  // current_clocksource (a trailing newline is ignored)
  std::string_view cpu_flags;    // the "flags" line of /proc/cpuinfo
  CrossCpu cross_cpu = CrossCpu::kUnchecked;
  bool kernel_vdso = true;  // vdsorun found a kernel vDSO with the clock functions
};

struct ClockChoice {
  ClockPath path = ClockPath::kSyscall;
  // Run the cross-CPU TSC check, then choose again with its result.
  bool check_cross_cpu = false;
  // Whether programs read the high-resolution clocks without a syscall on this path.
  bool fast = false;
  std::string why;  // one line for -v, the status and the tests
};

ClockChoice choose_clock(const ClockFacts& facts);

// Clocksources the kernel's own x86 vDSO reads without a syscall (its vclock modes).
bool kernel_vdso_reads_fast(std::string_view clocksource);
// Clocksources driven by the TSC behind a paravirtual interface.
bool tsc_driven_paravirt(std::string_view clocksource);

const char* clock_path_name(ClockPath path);

}  // namespace emulator
