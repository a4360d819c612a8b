// Calls the three vsyscall entries from C through function pointers and checks the results.
//   call_entries [-n] gettimeofday|time|getcpu|null|getcpu_cache [COUNT]
// gettimeofday/time/getcpu: calls that entry COUNT times (default 1), checks each result,
//   prints `OK <entry> calls=COUNT`.
// null: all three with NULL pointers (nothing is written), `OK null_args`.
// getcpu_cache: getcpu with a kernel-half third argument, which the kernel ignores,
//   `OK getcpu_cache_ignored`.
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "tracee.h"

typedef int (*gettimeofday_fn)(struct timeval*, struct timezone*);
typedef long (*time_fn)(long*);
typedef long (*getcpu_fn)(unsigned*, unsigned*, void*);

static gettimeofday_fn volatile vgettimeofday = (gettimeofday_fn)VSYS_GETTIMEOFDAY;
static time_fn volatile vtime = (time_fn)VSYS_TIME;
static getcpu_fn volatile vgetcpu = (getcpu_fn)VSYS_GETCPU;

static void check_gettimeofday(void) {
  struct timeval tv = {-1, -1};
  struct timezone tz = {-12345, -12345};
  int r = vgettimeofday(&tv, &tz);
  if (r != 0) tracee_fail("gettimeofday returned %d", r);
  if (!tracee_time_plausible(tv.tv_sec)) tracee_fail("gettimeofday tv_sec=%ld", (long)tv.tv_sec);
  if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
    tracee_fail("gettimeofday tv_usec=%ld", (long)tv.tv_usec);
  if (tz.tz_minuteswest == -12345 || tz.tz_dsttime == -12345)
    tracee_fail("gettimeofday left tz unwritten");
}

static void check_time(void) {
  long t = -1;
  long r = vtime(&t);
  if (r != t) tracee_fail("time returned %ld but stored %ld", r, t);
  if (!tracee_time_plausible(r)) tracee_fail("time=%ld", r);
}

static void check_getcpu(void* cache) {
  unsigned cpu = ~0u, node = ~0u;
  long r = vgetcpu(&cpu, &node, cache);
  if (r != 0) tracee_fail("getcpu returned %ld", r);
  if (cpu >= (unsigned long)tracee_ncpus())
    tracee_fail("getcpu cpu=%u ncpus=%ld", cpu, tracee_ncpus());
  if (node == ~0u) tracee_fail("getcpu left node unwritten");
}

int main(int argc, char** argv) {
  int i = tracee_init(argc, argv);
  if (i >= argc)
    tracee_usage("call_entries [-n] gettimeofday|time|getcpu|null|getcpu_cache [COUNT]");
  const char* what = argv[i];
  long count = i + 1 < argc ? strtol(argv[i + 1], NULL, 10) : 1;
  if (strcmp(what, "gettimeofday") == 0) {
    for (long k = 0; k < count; ++k) check_gettimeofday();
  } else if (strcmp(what, "time") == 0) {
    for (long k = 0; k < count; ++k) check_time();
  } else if (strcmp(what, "getcpu") == 0) {
    for (long k = 0; k < count; ++k) check_getcpu(NULL);
  } else if (strcmp(what, "null") == 0) {
    int r = vgettimeofday(NULL, NULL);
    if (r != 0) tracee_fail("gettimeofday(NULL, NULL) returned %d", r);
    long t = vtime(NULL);
    if (!tracee_time_plausible(t)) tracee_fail("time(NULL)=%ld", t);
    long c = vgetcpu(NULL, NULL, NULL);
    if (c != 0) tracee_fail("getcpu(NULL, NULL, NULL) returned %ld", c);
    tracee_say("OK null_args");
    return 0;
  } else if (strcmp(what, "getcpu_cache") == 0) {
    check_getcpu((void*)KERNEL_POINTER);
    tracee_say("OK getcpu_cache_ignored");
    return 0;
  } else {
    tracee_usage("unknown case");
  }
  tracee_say("OK %s calls=%ld", what, count);
  return 0;
}
