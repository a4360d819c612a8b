// Bench program: N clock reads of one kind, prints `ns_per_call=X`. Run natively and under
// vdsorun with and without a time transform (bench/time_control.py).
//
// usage: bench_time_read_loop vdso_realtime|vdso_monotonic|vdso_gettimeofday|sys_clock_gettime|
//                             sys_getppid [CALLS]
//   vdso_*             libc's clock_gettime/gettimeofday: the vDSO (the host's or vdsorun's)
//   sys_clock_gettime  the raw syscall: vdsorun stops it while a transform is on
//   sys_getppid        a raw syscall no filter stops, for comparison
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "bench_clock.h"

int main(int argc, char** argv) {
  const char* kind = argc >= 2 ? argv[1] : "";
  long n = bench_count_arg(argc - 1, argv + 1, 1000000);
  int k = -1;
  const char* kinds[] = {"vdso_realtime", "vdso_monotonic", "vdso_gettimeofday",
                         "sys_clock_gettime", "sys_getppid"};
  for (int i = 0; i < 5; ++i)
    if (strcmp(kind, kinds[i]) == 0) k = i;
  if (k < 0 || n < 0) {
    fprintf(stderr,
            "usage: %s vdso_realtime|vdso_monotonic|vdso_gettimeofday|sys_clock_gettime|"
            "sys_getppid [CALLS]\n",
            argv[0]);
    return 2;
  }
  struct timespec ts;
  struct timeval tv;
  long sink = 0;
  // vdsorun's timekeeper calibrates for the first tens of milliseconds (the vDSO asks the
  // kernel meanwhile): let it finish before the timed loop. Raw syscalls need no warm-up.
  if (k < 3) {
    const int64_t until = bench_now_ns() + 150000000;
    while (bench_now_ns() < until) clock_gettime(CLOCK_REALTIME, &ts);
  }
  const int64_t start = bench_now_ns();
  for (long i = 0; i < n; ++i) {
    switch (k) {
      case 0:
        clock_gettime(CLOCK_REALTIME, &ts);
        sink += ts.tv_nsec;
        break;
      case 1:
        clock_gettime(CLOCK_MONOTONIC, &ts);
        sink += ts.tv_nsec;
        break;
      case 2:
        gettimeofday(&tv, NULL);
        sink += tv.tv_usec;
        break;
      case 3:
        syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts);
        sink += ts.tv_nsec;
        break;
      case 4:
        sink += syscall(SYS_getppid);
        break;
    }
  }
  const int64_t elapsed = bench_now_ns() - start;
  printf("ns_per_call=%.2f sink=%ld\n", (double)elapsed / (double)n, sink & 1);
  return 0;
}
