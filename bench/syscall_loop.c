// Bench program: makes N getppid syscalls (never traced by vdsorun), prints ns per call.
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench_clock.h"

int main(int argc, char** argv) {
  long n = bench_count_arg(argc, argv, 1000000);
  if (n < 0) {
    fprintf(stderr, "usage: %s [CALLS]\n", argv[0]);
    return 2;
  }
  // syscall(), not getppid(): some libcs cached pids; this must enter the kernel every time
  // and pass through vdsorun's seccomp filter, which lets it run without a stop.
  long parent = syscall(SYS_getppid);
  long mismatches = 0;
  int64_t start = bench_now_ns();
  for (long i = 0; i < n; ++i) mismatches += syscall(SYS_getppid) != parent;
  int64_t elapsed = bench_now_ns() - start;

  if (mismatches != 0) {
    fprintf(stderr, "getppid changed %ld times during the loop\n", mismatches);
    return 1;
  }
  printf("ns_per_call=%.1f calls=%ld elapsed_ns=%lld\n", (double)elapsed / (double)n, n,
         (long long)elapsed);
  return 0;
}
