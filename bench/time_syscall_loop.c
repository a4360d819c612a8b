// Bench program: makes N raw time, gettimeofday or getcpu syscalls (syscall(2), not libc's
// vDSO path) and prints ns per call. vdsorun's filter must let them run without a stop: only
// the same numbers made from the vsyscall page are traced (issue 7, item 1).
//
// usage: bench_time_syscall_loop time|gettimeofday|getcpu [CALLS]
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "bench_clock.h"

int main(int argc, char** argv) {
  long nr = -1;
  if (argc >= 2 && strcmp(argv[1], "time") == 0) nr = SYS_time;
  if (argc >= 2 && strcmp(argv[1], "gettimeofday") == 0) nr = SYS_gettimeofday;
  if (argc >= 2 && strcmp(argv[1], "getcpu") == 0) nr = SYS_getcpu;
  long n = bench_count_arg(argc - 1, argv + 1, 1000000);
  if (nr < 0 || n < 0) {
    fprintf(stderr, "usage: %s time|gettimeofday|getcpu [CALLS]\n", argv[0]);
    return 2;
  }
  struct timeval tv;
  unsigned cpu = 0;
  long failures = 0;
  int64_t start = bench_now_ns();
  for (long i = 0; i < n; ++i) {
    long r;
    if (nr == SYS_time)
      r = syscall(SYS_time, NULL) > 0 ? 0 : -1;
    else if (nr == SYS_gettimeofday)
      r = syscall(SYS_gettimeofday, &tv, NULL);
    else
      r = syscall(SYS_getcpu, &cpu, NULL, NULL);
    failures += r != 0;
  }
  int64_t elapsed = bench_now_ns() - start;
  if (failures != 0) {
    fprintf(stderr, "%ld of %ld %s syscalls failed\n", failures, n, argv[1]);
    return 1;
  }
  printf("ns_per_call=%.1f calls=%ld elapsed_ns=%lld\n", (double)elapsed / (double)n, n,
         (long long)elapsed);
  return 0;
}
