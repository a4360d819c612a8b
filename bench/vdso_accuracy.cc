// vdso_accuracy: how far the injected vDSO's clocks are from the kernel's, for as long as you
// like (default 10 s per measurement): ordering against raw syscalls, and the bracketed error
// against the host vDSO (median, p99, max), plus the timekeeper's own view.
//   vdso_accuracy [SECONDS]
#include <time.h>

#include <cstdio>
#include <cstdlib>

#include "tests/vdso/injected_vdso.h"
#include "tests/vdso/measure.h"

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 10.0;
  const auto duration = std::chrono::nanoseconds(static_cast<int64_t>(seconds * 1e9));
  vdso_test::InjectedVdso injected;
  if (!injected.timekeeper().wait_until_valid(std::chrono::seconds(5))) {
    std::fprintf(stderr, "vdso_accuracy: %s\n", injected.timekeeper().status().c_str());
    return 1;
  }
  std::printf("%s\n\nordering: raw syscall <= injected vDSO <= raw syscall\n",
              injected.timekeeper().status().c_str());
  const std::vector<clockid_t> clocks = {CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME, CLOCK_TAI,
                                         CLOCK_MONOTONIC_RAW};
  bool ok = true;
  for (const auto& r : vdso_test::ordering_against_syscalls(injected.fn(), clocks, duration)) {
    std::printf("  %s\n", vdso_test::describe(r).c_str());
    ok = ok && r.violations == 0;
  }
  if (const auto host = vdso_test::host_vdso()) {
    std::printf("\nerror against the host vDSO's reading of the same clock (brackets <= 250 ns)\n");
    for (clockid_t c : clocks) {
      const auto r = vdso_test::error_against(injected.fn(), *host, c, duration / 5, 250);
      std::printf("  %s\n", vdso_test::describe(r).c_str());
      ok = ok && r.max_outside_ns < 1000;
    }
  }
  const auto s = injected.timekeeper().stats();
  std::printf(
      "\ntimekeeper: %llu updates, %llu rejected readings, %llu offset steps, %llu forward "
      "steps, %llu rate kicks; MONOTONIC error before each re-anchor: last %lld ns, max |%lld| "
      "ns\n",
      static_cast<unsigned long long>(s.updates),
      static_cast<unsigned long long>(s.rejected_readings),
      static_cast<unsigned long long>(s.realtime_steps),
      static_cast<unsigned long long>(s.forward_steps),
      static_cast<unsigned long long>(s.rate_kicks), static_cast<long long>(s.last_error_ns),
      static_cast<long long>(s.max_abs_error_ns));
  return ok ? 0 : 1;
}
