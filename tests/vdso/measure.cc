// Measurements of a vDSO's clocks against the kernel's (see measure.h).
#include "tests/vdso/measure.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace vdso_test {

int64_t to_ns(const timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int sys_clock_gettime(clockid_t clock, timespec* ts) {
  return static_cast<int>(syscall(SYS_clock_gettime, clock, ts));
}

std::chrono::nanoseconds env_duration(const char* name, double fallback_seconds) {
  double seconds = fallback_seconds;
  if (const char* v = std::getenv(name); v != nullptr && *v != '\0') seconds = std::atof(v);
  return std::chrono::nanoseconds(static_cast<int64_t>(seconds * 1e9));
}

const char* clock_name(clockid_t clock) {
  switch (clock) {
    case CLOCK_REALTIME:
      return "REALTIME";
    case CLOCK_MONOTONIC:
      return "MONOTONIC";
    case CLOCK_MONOTONIC_RAW:
      return "MONOTONIC_RAW";
    case CLOCK_REALTIME_COARSE:
      return "REALTIME_COARSE";
    case CLOCK_MONOTONIC_COARSE:
      return "MONOTONIC_COARSE";
    case CLOCK_BOOTTIME:
      return "BOOTTIME";
    case CLOCK_TAI:
      return "TAI";
    default:
      return "clock";
  }
}

std::vector<OrderingResult> ordering_against_syscalls(const VdsoFunctions& fn,
                                                      const std::vector<clockid_t>& clocks,
                                                      std::chrono::nanoseconds duration) {
  std::vector<OrderingResult> out;
  for (clockid_t c : clocks) out.push_back(OrderingResult{c, 0, 0, 0});
  timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  const int64_t end = to_ns(start) + duration.count();
  for (uint64_t i = 0;; ++i) {
    OrderingResult& r = out[i % out.size()];
    timespec a, b, c;
    sys_clock_gettime(r.clock, &a);
    fn.clock_gettime(r.clock, &b);
    sys_clock_gettime(r.clock, &c);
    ++r.samples;
    const int64_t before = to_ns(a), value = to_ns(b), after = to_ns(c);
    if (value < before || value > after) {
      ++r.violations;
      r.worst_ns = std::max(r.worst_ns, std::max(before - value, value - after));
    }
    if ((i & 1023) == 0) {
      timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      if (to_ns(now) >= end) break;
    }
  }
  return out;
}

ErrorResult error_against(const VdsoFunctions& fn, const VdsoFunctions& reference, clockid_t clock,
                          std::chrono::nanoseconds duration, int64_t max_bracket_ns) {
  ErrorResult r;
  r.clock = clock;
  std::vector<int64_t> errors;
  std::vector<int64_t> brackets;
  timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  const int64_t end = to_ns(start) + duration.count();
  for (uint64_t i = 0;; ++i) {
    timespec a, b, c;
    reference.clock_gettime(clock, &a);
    fn.clock_gettime(clock, &b);
    reference.clock_gettime(clock, &c);
    const int64_t before = to_ns(a), value = to_ns(b), after = to_ns(c);
    if (after - before > max_bracket_ns || after < before) {
      ++r.discarded;
    } else {
      ++r.kept;
      // Halves of both ends separately: the midpoint of two 64-bit values without overflow.
      const int64_t mid = before + (after - before) / 2;
      errors.push_back(value - mid);
      brackets.push_back(after - before);
      r.max_outside_ns = std::max(r.max_outside_ns, std::max(before - value, value - after));
    }
    if ((i & 1023) == 0) {
      timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      if (to_ns(now) >= end) break;
    }
  }
  if (errors.empty()) return r;
  std::vector<int64_t> sorted = errors;
  std::sort(sorted.begin(), sorted.end());
  r.median_ns = sorted[sorted.size() / 2];
  std::vector<int64_t> abs_errors;
  for (int64_t e : errors) abs_errors.push_back(e < 0 ? -e : e);
  std::sort(abs_errors.begin(), abs_errors.end());
  r.p99_abs_ns = abs_errors[abs_errors.size() * 99 / 100];
  r.max_abs_ns = abs_errors.back();
  std::sort(brackets.begin(), brackets.end());
  r.median_bracket_ns = brackets[brackets.size() / 2];
  return r;
}

std::string describe(const OrderingResult& r) {
  char line[200];
  std::snprintf(line, sizeof line, "%-16s %10llu samples, %llu ordering violations (worst %lld ns)",
                clock_name(r.clock), static_cast<unsigned long long>(r.samples),
                static_cast<unsigned long long>(r.violations), static_cast<long long>(r.worst_ns));
  return line;
}

std::string describe(const ErrorResult& r) {
  char line[260];
  std::snprintf(line, sizeof line,
                "%-16s error vs kernel: median %+lld ns, p99 |%lld| ns, max |%lld| ns; outside "
                "bracket by at most %lld ns; %llu kept, %llu discarded (bracket median %lld ns)",
                clock_name(r.clock), static_cast<long long>(r.median_ns),
                static_cast<long long>(r.p99_abs_ns), static_cast<long long>(r.max_abs_ns),
                static_cast<long long>(r.max_outside_ns), static_cast<unsigned long long>(r.kept),
                static_cast<unsigned long long>(r.discarded),
                static_cast<long long>(r.median_bracket_ns));
  return line;
}

}  // namespace vdso_test
