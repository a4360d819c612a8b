// The one clock every bench program times itself with: CLOCK_MONOTONIC read by a raw syscall.
#pragma once

#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

// A raw syscall, not libc's clock_gettime: under vdsorun libc would run the injected vDSO,
// and a timing that depends on the code under test would measure it twice. Two syscalls per
// run cost far less than the loops they bracket.
static inline int64_t bench_now_ns(void) {
  struct timespec ts;
  syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

// Parses argv[1] as a positive call count, or returns `fallback` when it is absent.
// Returns -1 when it is present but not a positive number.
static inline long bench_count_arg(int argc, char** argv, long fallback) {
  if (argc < 2) return fallback;
  char* end = 0;
  long n = strtol(argv[1], &end, 10);
  if (end == argv[1] || *end != '\0' || n <= 0) return -1;
  return n;
}
