// vdso_bench: nanoseconds per call of the injected vDSO (mapped as the injector maps it, with
// a running Timekeeper) against the host kernel's vDSO, for the calls libc routes to them.
// Reports the median of several interleaved runs and the ratio injected/host.
//   vdso_bench [RUNS] [CALLS_PER_RUN]
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "emulator/clock/timekeeper_probe.h"
#include "tests/vdso/injected_vdso.h"
#include "tests/vdso/measure.h"

namespace {

using vdso_test::VdsoFunctions;

// One benchmarked loop: `calls` calls of one function of `fn`, timed as a whole. Each loop
// calls the function pointer directly, so the harness adds one indirect call, as libc does.
using Loop = double (*)(const VdsoFunctions& fn, long calls, long& sink);

double elapsed_ns(const timespec& a, const timespec& b) {
  return static_cast<double>(vdso_test::to_ns(b) - vdso_test::to_ns(a));
}

template <clockid_t kClock>
double clock_gettime_loop(const VdsoFunctions& fn, long calls, long& sink) {
  const auto f = fn.clock_gettime;
  timespec a, b, ts;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < calls; ++i) {
    f(kClock, &ts);
    sink += ts.tv_nsec;
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  return elapsed_ns(a, b) / static_cast<double>(calls);
}

double gettimeofday_loop(const VdsoFunctions& fn, long calls, long& sink) {
  const auto f = fn.gettimeofday;
  timespec a, b;
  timeval tv;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < calls; ++i) {
    f(&tv, nullptr);
    sink += tv.tv_usec;
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  return elapsed_ns(a, b) / static_cast<double>(calls);
}

double time_loop(const VdsoFunctions& fn, long calls, long& sink) {
  const auto f = fn.time;
  timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < calls; ++i) sink += f(nullptr);
  clock_gettime(CLOCK_MONOTONIC, &b);
  return elapsed_ns(a, b) / static_cast<double>(calls);
}

double getcpu_loop(const VdsoFunctions& fn, long calls, long& sink) {
  const auto f = fn.getcpu;
  timespec a, b;
  unsigned cpu = 0;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < calls; ++i) {
    f(&cpu, nullptr, nullptr);
    sink += cpu;
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  return elapsed_ns(a, b) / static_cast<double>(calls);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 9;
  const long calls = argc > 2 ? std::max(1L, std::atol(argv[2])) : 2000000;
  const auto host = vdso_test::host_vdso();
  if (!host) {
    std::fprintf(stderr, "vdso_bench: this process has no host vDSO to compare with\n");
    return 1;
  }
  vdso_test::InjectedVdso injected;
  // Not valid is a path too (any clocksource but tsc: the injected vDSO calls the kernel's):
  // measure whichever this machine takes, and say which.
  injected.timekeeper().wait_until_valid(std::chrono::seconds(5));
  std::printf("clocksource %s; %s\n", emulator::current_clocksource().c_str(),
              injected.timekeeper().status().c_str());
  std::printf("%d runs of %ld calls each, median ns per call\n\n", runs, calls);
  std::printf("%-28s %10s %10s %8s\n", "call", "injected", "host", "ratio");

  const struct {
    const char* name;
    Loop loop;
  } cases[] = {
      {"clock_gettime(MONOTONIC)", clock_gettime_loop<CLOCK_MONOTONIC>},
      {"clock_gettime(REALTIME)", clock_gettime_loop<CLOCK_REALTIME>},
      {"clock_gettime(MONO_COARSE)", clock_gettime_loop<CLOCK_MONOTONIC_COARSE>},
      {"clock_gettime(BOOTTIME)", clock_gettime_loop<CLOCK_BOOTTIME>},
      {"gettimeofday", gettimeofday_loop},
      {"time", time_loop},
      {"getcpu", getcpu_loop},
  };
  long sink = 0;
  for (const auto& c : cases) {
    std::vector<double> ours, theirs;
    c.loop(injected.fn(), calls / 10, sink);  // warm up both
    c.loop(*host, calls / 10, sink);
    for (int r = 0; r < runs; ++r) {
      ours.push_back(c.loop(injected.fn(), calls, sink));
      theirs.push_back(c.loop(*host, calls, sink));
    }
    const double o = median(ours), h = median(theirs);
    std::printf("%-28s %10.2f %10.2f %8.3f\n", c.name, o, h, o / h);
  }
  return sink == 42 ? 2 : 0;
}
