// Bench program: THREADS threads each make CALLS legacy vsyscall gettimeofday calls; every call
// is timed (CLOCK_MONOTONIC through a raw syscall, so the clock under test is not the one
// doing the timing). Prints the slowest single call, the 99.9th percentile and how many calls
// took longer than 2 s. Under vdsorun each call is a ptrace stop: the slowest call says how
// long the unluckiest thread waited for the tracer to serve it (issue 10, defect 6).
//
// usage: bench_vsyscall_latency [THREADS [CALLS]]   (default 1000 x 200)
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef long (*vsyscall_gettimeofday_fn)(struct timeval*, struct timezone*);
#define VSYSCALL_GETTIMEOFDAY 0xffffffffff600000UL

static long g_calls;
static int64_t* g_ns;  // [thread * g_calls + call]
static pthread_barrier_t g_start;

static int64_t now_ns(void) {
  struct timespec ts;
  syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void* worker(void* arg) {
  const long t = (long)arg;
  vsyscall_gettimeofday_fn volatile entry = (vsyscall_gettimeofday_fn)VSYSCALL_GETTIMEOFDAY;
  struct timeval tv;
  pthread_barrier_wait(&g_start);
  for (long i = 0; i < g_calls; ++i) {
    const int64_t before = now_ns();
    if (entry(&tv, NULL) != 0) {
      fprintf(stderr, "vsyscall gettimeofday failed\n");
      exit(1);
    }
    g_ns[t * g_calls + i] = now_ns() - before;
  }
  return NULL;
}

static int cmp(const void* a, const void* b) {
  const int64_t x = *(const int64_t*)a, y = *(const int64_t*)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char** argv) {
  const long threads = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
  g_calls = argc > 2 ? strtol(argv[2], NULL, 10) : 200;
  if (threads <= 0 || g_calls <= 0) {
    fprintf(stderr, "usage: %s [THREADS [CALLS]]\n", argv[0]);
    return 2;
  }
  const long n = threads * g_calls;
  g_ns = calloc((size_t)n, sizeof *g_ns);
  pthread_t* tids = calloc((size_t)threads, sizeof *tids);
  if (!g_ns || !tids) return 1;
  pthread_barrier_init(&g_start, NULL, (unsigned)threads + 1);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  for (long t = 0; t < threads; ++t) {
    if (pthread_create(&tids[t], &attr, worker, (void*)t) != 0) {
      fprintf(stderr, "pthread_create failed at thread %ld\n", t);
      return 1;
    }
  }
  const int64_t start = now_ns();
  pthread_barrier_wait(&g_start);
  for (long t = 0; t < threads; ++t) pthread_join(tids[t], NULL);
  const int64_t wall = now_ns() - start;
  long over_2s = 0;
  for (long i = 0; i < n; ++i) over_2s += g_ns[i] > 2000000000;
  qsort(g_ns, (size_t)n, sizeof *g_ns, cmp);
  printf("threads=%ld calls=%ld wall_ms=%.0f max_ms=%.1f p999_ms=%.1f median_us=%.1f over_2s=%ld\n",
         threads, g_calls, wall / 1e6, g_ns[n - 1] / 1e6, g_ns[(n * 999) / 1000] / 1e6,
         g_ns[n / 2] / 1e3, over_2s);
  return 0;
}
