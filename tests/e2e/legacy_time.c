// An old statically linked program's clock reads, as glibc <= 2.13 made them: time() and
// gettimeofday() by calling the legacy vsyscall page (0xffffffffff600400, ...600000), never
// the vDSO. Each is called from one site several times, so that under vdsorun the later calls
// go through a patched site.
//   legacy_time          prints `legacy time=T gtod_s=S gtod_us=U` (the last call's values)
//   legacy_time t32 N    N lines `t32 value=V`: time() as a 32-bit time_t, one second apart
//                        (nanosleep, as such programs slept)
//   legacy_time spin N   N gettimeofday calls: `spin min_us=A max_us=B`
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

typedef long (*time_fn)(long*);
typedef int (*gettimeofday_fn)(struct timeval*, void*);

static const time_fn vtime = (time_fn)0xffffffffff600400UL;
static const gettimeofday_fn vgtod = (gettimeofday_fn)0xffffffffff600000UL;

int main(int argc, char** argv) {
  const long n = argc > 2 ? atol(argv[2]) : 0;
  if (argc > 1 && strcmp(argv[1], "t32") == 0) {
    for (long i = 0; i < n; ++i) {
      printf("t32 value=%d\n", (int32_t)vtime(0));
      fflush(stdout);
      const struct timespec second = {1, 0};
      if (i + 1 < n) nanosleep(&second, NULL);
    }
    return 0;
  }
  if (argc > 1 && strcmp(argv[1], "spin") == 0) {
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (long i = 0; i < n; ++i) {
      struct timeval tv;
      vgtod(&tv, 0);
      const int64_t us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
      if (us < lo) lo = us;
      if (us > hi) hi = us;
    }
    printf("spin min_us=%lld max_us=%lld\n", (long long)lo, (long long)hi);
    return 0;
  }
  struct timeval tv;
  long t = 0;
  for (int i = 0; i < 5; ++i) {
    t = vtime(0);
    vgtod(&tv, 0);
  }
  printf("legacy time=%ld gtod_s=%ld gtod_us=%ld\n", t, (long)tv.tv_sec, (long)tv.tv_usec);
  return 0;
}
