// Bench program for call-site patching: one legacy call site, called in a loop.
//
// usage: bench_hot_site legacy|legacy-threaded|vdso [CALLS]
// legacy: the site old static glibc had, `mov $0xffffffffff600000,%rax; call *%rax` (the
//   kernel emulates it natively; vdsorun patches it after its first call).
// legacy-threaded: the same while a second thread sleeps (a patched site then counts with a
//   locked increment).
// vdso: libc's gettimeofday, i.e. the vDSO's (the anchor: what a modern program pays).
// Prints `ns_per_call=N calls=N first_call_ns=N`.
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>
#include <sys/time.h>

#include "bench_clock.h"

static long legacy_gettimeofday(struct timeval* tv) {
  long ret;
  __asm__ volatile("mov $0xffffffffff600000, %%rax\n\tcall *%%rax"
                   : "=a"(ret)
                   : "D"(tv), "S"(0L)
                   : "rcx", "rdx", "r8", "r9", "r10", "r11", "memory", "cc");
  return ret;
}

static void* sleeper(void* arg) {
  (void)arg;
  pause();
  return NULL;
}

int main(int argc, char** argv) {
  const int threaded = argc >= 2 && strcmp(argv[1], "legacy-threaded") == 0;
  if (argc < 2 || argc > 3 ||
      (strcmp(argv[1], "legacy") != 0 && strcmp(argv[1], "vdso") != 0 && !threaded)) {
    fprintf(stderr, "usage: %s legacy|legacy-threaded|vdso [CALLS]\n", argv[0]);
    return 2;
  }
  const int legacy = strcmp(argv[1], "vdso") != 0;
  pthread_t th;
  if (threaded && pthread_create(&th, NULL, sleeper, NULL) != 0) {
    fprintf(stderr, "pthread_create failed\n");
    return 1;
  }
  long n = bench_count_arg(argc - 1, argv + 1, 1000000);
  if (n < 0) {
    fprintf(stderr, "bad call count\n");
    return 2;
  }
  struct timeval tv = {0, 0};
  long failures = 0;
  // The first call (the one that stops under vdsorun, and is patched) is timed on its own.
  int64_t first = bench_now_ns();
  failures += legacy ? legacy_gettimeofday(&tv) != 0 : gettimeofday(&tv, NULL) != 0;
  first = bench_now_ns() - first;
  int64_t start = bench_now_ns();
  if (legacy) {
    for (long i = 0; i < n; ++i) failures += legacy_gettimeofday(&tv) != 0;
  } else {
    for (long i = 0; i < n; ++i) failures += gettimeofday(&tv, NULL) != 0;
  }
  int64_t elapsed = bench_now_ns() - start;
  if (failures || tv.tv_sec == 0) {
    fprintf(stderr, "gettimeofday failed %ld times\n", failures);
    return 1;
  }
  printf("ns_per_call=%.1f calls=%ld first_call_ns=%lld\n", (double)elapsed / (double)n, n,
         (long long)first);
  return 0;
}
