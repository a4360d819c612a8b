// Threads calling the three vsyscall entries concurrently.
//   threads [-n] [NTHREADS [ITERATIONS]]   (default 8 threads x 2000 iterations)
// Each iteration calls gettimeofday, time and getcpu. Per thread, gettimeofday and time must
// never go backwards, tv_usec must be in range, time must not trail gettimeofday by more than
// a second (time reads the coarse clock), and getcpu's cpu must be below the CPU count.
// Everything must lie between the kernel's CLOCK_REALTIME before and after the run.
// Prints `OK threads n=N calls=<3*N*ITERATIONS>`.
#include <pthread.h>
#include <stdlib.h>
#include <sys/time.h>

#include "tracee.h"

typedef int (*gettimeofday_fn)(struct timeval*, struct timezone*);
typedef long (*time_fn)(long*);
typedef long (*getcpu_fn)(unsigned*, unsigned*, void*);

static gettimeofday_fn volatile vgettimeofday = (gettimeofday_fn)VSYS_GETTIMEOFDAY;
static time_fn volatile vtime = (time_fn)VSYS_TIME;
static getcpu_fn volatile vgetcpu = (getcpu_fn)VSYS_GETCPU;

struct worker {
  pthread_t thread;
  long iterations;
  long ncpus;
  long min_sec, max_sec;
  long calls;
  const char* error;
};

static void* run(void* arg) {
  struct worker* w = arg;
  long prev_us = 0, prev_t = 0;
  w->min_sec = -1;
  for (long k = 0; k < w->iterations; ++k) {
    struct timeval tv;
    if (vgettimeofday(&tv, NULL) != 0) return w->error = "gettimeofday failed", NULL;
    long us = (long)tv.tv_sec * 1000000 + (long)tv.tv_usec;
    if (tv.tv_usec < 0 || tv.tv_usec >= 1000000) return w->error = "tv_usec out of range", NULL;
    if (us < prev_us) return w->error = "gettimeofday went backwards", NULL;
    prev_us = us;
    long t = vtime(NULL);
    if (t < prev_t) return w->error = "time went backwards", NULL;
    if (t < (long)tv.tv_sec - 1) return w->error = "time trails gettimeofday", NULL;
    prev_t = t;
    unsigned cpu = ~0u;
    if (vgetcpu(&cpu, NULL, NULL) != 0) return w->error = "getcpu failed", NULL;
    if (cpu >= (unsigned long)w->ncpus) return w->error = "getcpu cpu out of range", NULL;
    if (w->min_sec < 0) w->min_sec = tv.tv_sec;
    w->max_sec = t > tv.tv_sec ? t : tv.tv_sec;
    w->calls += 3;
  }
  return NULL;
}

int main(int argc, char** argv) {
  int i = tracee_init(argc, argv);
  long n = i < argc ? strtol(argv[i], NULL, 10) : 8;
  long iterations = i + 1 < argc ? strtol(argv[i + 1], NULL, 10) : 2000;
  if (n < 1 || n > 256 || iterations < 1) tracee_usage("threads [-n] [NTHREADS [ITERATIONS]]");
  struct worker* w = calloc((size_t)n, sizeof *w);
  if (w == NULL) tracee_fail("calloc");
  long before = tracee_realtime_sec();
  for (long k = 0; k < n; ++k) {
    w[k].iterations = iterations;
    w[k].ncpus = tracee_ncpus();
    if (pthread_create(&w[k].thread, NULL, run, &w[k]) != 0) tracee_fail("pthread_create");
  }
  long calls = 0;
  for (long k = 0; k < n; ++k) pthread_join(w[k].thread, NULL);
  long after = tracee_realtime_sec();
  for (long k = 0; k < n; ++k) {
    if (w[k].error != NULL) tracee_fail("threads thread=%ld %s", k, w[k].error);
    // One second of slack each side: time() reads the coarse clock.
    if (w[k].min_sec < before - 1 || w[k].max_sec > after + 1) {
      tracee_fail("threads thread=%ld times %ld..%ld outside %ld..%ld", k, w[k].min_sec,
                  w[k].max_sec, before, after);
    }
    calls += w[k].calls;
  }
  tracee_say("OK threads n=%ld calls=%ld", n, calls);
  free(w);
  return 0;
}
