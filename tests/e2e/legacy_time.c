// An old statically linked program's clock reads, as glibc <= 2.13 made them: time() and
// gettimeofday() by calling the legacy vsyscall page (0xffffffffff600400, ...600000), never
// the vDSO. Each is called from one site a few times, so that under vdsorun the later calls go
// through a patched site. Prints `legacy time=T gtod_s=S gtod_us=U` (the last call's values).
#include <stdint.h>
#include <stdio.h>
#include <sys/time.h>

typedef long (*time_fn)(long*);
typedef int (*gettimeofday_fn)(struct timeval*, void*);

int main(void) {
  const time_fn vtime = (time_fn)0xffffffffff600400UL;
  const gettimeofday_fn vgtod = (gettimeofday_fn)0xffffffffff600000UL;
  struct timeval tv;
  long t = 0;
  for (int i = 0; i < 5; ++i) {
    t = vtime(0);
    vgtod(&tv, 0);
  }
  printf("legacy time=%ld gtod_s=%ld gtod_us=%ld\n", t, (long)tv.tv_sec, (long)tv.tv_usec);
  return 0;
}
