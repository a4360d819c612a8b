// Bench program: calls the legacy vsyscall gettimeofday entry N times, prints ns per call.
//
// usage: bench_vsyscall_loop [CALLS [CPU]]
// With CPU, the program pins itself there first: run vdsorun under `taskset -c OTHER` and the
// tracer and this tracee are kept on different CPUs, the slow case of DESIGN.md section 7.
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

#include "bench_clock.h"

// The entry old static glibc called for gettimeofday (DESIGN.md 3.4): on this host either the
// kernel emulates it (native run) or vdsorun's seccomp stop catches it first.
typedef long (*vsyscall_gettimeofday_fn)(struct timeval*, struct timezone*);
#define BENCH_VSYSCALL_GETTIMEOFDAY 0xffffffffff600000UL

int main(int argc, char** argv) {
  long n = bench_count_arg(argc, argv, 1000000);
  if (n < 0 || argc > 3) {
    fprintf(stderr, "usage: %s [CALLS [CPU]]\n", argv[0]);
    return 2;
  }
  if (argc == 3) {
    char* end = 0;
    long cpu = strtol(argv[2], &end, 10);
    if (end == argv[2] || *end != '\0' || cpu < 0 || cpu >= CPU_SETSIZE) {
      fprintf(stderr, "bad CPU number: %s\n", argv[2]);
      return 2;
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((int)cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
      perror("sched_setaffinity");
      return 2;
    }
  }
  // volatile: the compiler must neither hoist the call out of the loop nor assume the
  // pointer's target; each iteration is one real call through the page.
  vsyscall_gettimeofday_fn volatile entry = (vsyscall_gettimeofday_fn)BENCH_VSYSCALL_GETTIMEOFDAY;
  struct timeval tv = {0, 0};

  // One untimed call first, so a mode where calls fail shows up as an error, not a number.
  long rc = entry(&tv, NULL);
  if (rc != 0 || tv.tv_sec == 0) {
    fprintf(stderr, "vsyscall gettimeofday failed: rc=%ld tv_sec=%ld\n", rc, (long)tv.tv_sec);
    return 1;
  }

  long failures = 0;
  int64_t start = bench_now_ns();
  for (long i = 0; i < n; ++i) failures += entry(&tv, NULL) != 0;
  int64_t elapsed = bench_now_ns() - start;

  if (failures != 0) {
    fprintf(stderr, "vsyscall gettimeofday failed %ld of %ld times\n", failures, n);
    return 1;
  }
  printf("ns_per_call=%.1f calls=%ld elapsed_ns=%lld\n", (double)elapsed / (double)n, n,
         (long long)elapsed);
  return 0;
}
