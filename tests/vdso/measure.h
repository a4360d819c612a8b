// Measurements of a vDSO's clocks against the kernel's, shared by the tests (which assert on
// them) and the bench tools (which print them).
#pragma once

#include <time.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/vdso/injected_vdso.h"

namespace vdso_test {

int64_t to_ns(const timespec& ts);
// The raw clock_gettime syscall, bypassing every vDSO.
int sys_clock_gettime(clockid_t clock, timespec* ts);
// A duration from the environment variable `name` (seconds, may be fractional), else `fallback`.
std::chrono::nanoseconds env_duration(const char* name, double fallback_seconds);
const char* clock_name(clockid_t clock);

// syscall <= vdso <= syscall, alternating over `clocks` for `duration`.
struct OrderingResult {
  clockid_t clock = 0;
  uint64_t samples = 0;
  uint64_t violations = 0;
  int64_t worst_ns = 0;  // the largest amount by which a vDSO value left its bracket
};
std::vector<OrderingResult> ordering_against_syscalls(const VdsoFunctions& fn,
                                                      const std::vector<clockid_t>& clocks,
                                                      std::chrono::nanoseconds duration);

// The vDSO's error against a reference reading of the same clock taken just before and just
// after it (the host kernel's vDSO: the kernel's clock at ~30 ns cost). Samples whose
// reference bracket is wider than max_bracket_ns (an interrupt, a preemption) are discarded.
struct ErrorResult {
  clockid_t clock = 0;
  uint64_t kept = 0;
  uint64_t discarded = 0;
  int64_t median_ns = 0;   // of vdso - bracket midpoint (signed)
  int64_t p99_abs_ns = 0;  // of |vdso - bracket midpoint|
  int64_t max_abs_ns = 0;
  int64_t max_outside_ns = 0;  // the farthest a vDSO value lay outside its bracket: a lower
                               // bound of the true error, immune to bracket noise
  int64_t median_bracket_ns = 0;
};
ErrorResult error_against(const VdsoFunctions& fn, const VdsoFunctions& reference, clockid_t clock,
                          std::chrono::nanoseconds duration, int64_t max_bracket_ns);

std::string describe(const OrderingResult& r);
std::string describe(const ErrorResult& r);

}  // namespace vdso_test
