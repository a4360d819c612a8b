// A busy multi-threaded program for the tests of vdsorun -p: it runs before vdsorun attaches,
// while it is attached, and after it has detached.
//   attach_loop [-n] [NTHREADS [SECONDS]]   (default 4 threads; with SECONDS, stdin is not read:
//                                           the threads run that long, then the totals)
// Prints `ready threads=N` once its threads run. Each thread loops over the three legacy
// calls (glibc's `mov $entry,%rax; call *%rax`, attach_loop.S) and an 8-byte read of the
// page, each under a SIGSEGV guard, and checks every answer it gets: gettimeofday and time
// never go backwards and are plausible, getcpu's cpu is below the CPU count, a read returns the
// page image. A fault is counted, not fatal: natively, calls fault on a none host and reads on
// none and xonly hosts; under vdsorun they may be emulated, and call sites it patched keep
// working after it has gone.
// Commands on stdin, one per line:
//   run PROGRAM [ARGS...]   fork, exec PROGRAM, wait for it; prints `child exit=N`
//   stats MARK              prints `MARK calls=C call_faults=F reads=R read_faults=G` so far
//   start PROGRAM [ARGS...] fork and exec PROGRAM (stdin /dev/null) without waiting; prints
//                           `started pid=N`; at the end of input it is waited for (`child exit=N`)
//   (end of input)          stop the threads, check them, print the totals, exit 0
// With ATTACH_LOOP_FILTER=1 in the environment it first installs a seccomp filter of its own
// that allows everything (as a container's profile would be there before vdsorun comes).
// Prints `OK attach_loop threads=N calls=C call_faults=F reads=R read_faults=G`.
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tracee.h"

long legacy_gettimeofday(struct timeval* tv, void* tz);
long legacy_time(long* t);
long legacy_getcpu(unsigned* cpu, unsigned* node, void* cache);

static volatile int g_stop;

struct worker {
  pthread_t thread;
  long ncpus;
  long calls, call_faults, reads, read_faults;
  const char* error;
};

static __thread sigjmp_buf t_env;
static __thread volatile int t_guarded;

static void on_sigsegv(int sig, siginfo_t* si, void* ctx) {
  (void)si;
  (void)ctx;
  if (t_guarded) siglongjmp(t_env, 1);
  signal(sig, SIG_DFL);
  raise(sig);
}

enum op { kGettimeofday, kTime, kGetcpu, kRead };

// Does `op` under the guard: 1 if it returned (its answer in *result, *tv, *cpu), 0 if it
// faulted.
static int guarded(enum op op, long* result, struct timeval* tv, unsigned* cpu) {
  if (sigsetjmp(t_env, 1) != 0) {
    t_guarded = 0;
    return 0;
  }
  t_guarded = 1;
  switch (op) {
    case kGettimeofday:
      *result = legacy_gettimeofday(tv, NULL);
      break;
    case kTime:
      *result = legacy_time(NULL);
      break;
    case kGetcpu:
      *result = legacy_getcpu(cpu, NULL, NULL);
      break;
    case kRead:
      *result = (long)*(volatile uint64_t*)VSYS_PAGE;
      break;
  }
  t_guarded = 0;
  return 1;
}

static void* run(void* arg) {
  struct worker* w = arg;
  long prev_us = 0, prev_t = 0;
  uint64_t image;
  tracee_image_copy(&image, 0, sizeof image);
  for (long k = 0; !g_stop; ++k) {
    struct timeval tv = {0, 0};
    long r = -1;
    if (guarded(kGettimeofday, &r, &tv, NULL)) {
      long us = (long)tv.tv_sec * 1000000 + (long)tv.tv_usec;
      if (r != 0) return w->error = "gettimeofday failed", NULL;
      if (tv.tv_usec < 0 || tv.tv_usec >= 1000000) return w->error = "tv_usec out of range", NULL;
      if (us < prev_us) return w->error = "gettimeofday went backwards", NULL;
      if (!tracee_time_plausible(tv.tv_sec)) return w->error = "gettimeofday implausible", NULL;
      prev_us = us;
      __atomic_add_fetch(&w->calls, 1, __ATOMIC_RELAXED);
    } else {
      __atomic_add_fetch(&w->call_faults, 1, __ATOMIC_RELAXED);
    }
    if (guarded(kTime, &r, NULL, NULL)) {
      if (r < prev_t) return w->error = "time went backwards", NULL;
      if (!tracee_time_plausible(r)) return w->error = "time implausible", NULL;
      prev_t = r;
      __atomic_add_fetch(&w->calls, 1, __ATOMIC_RELAXED);
    } else {
      __atomic_add_fetch(&w->call_faults, 1, __ATOMIC_RELAXED);
    }
    unsigned cpu = ~0u;
    if (guarded(kGetcpu, &r, NULL, &cpu)) {
      if (r != 0) return w->error = "getcpu failed", NULL;
      if (cpu >= (unsigned long)w->ncpus) return w->error = "getcpu cpu out of range", NULL;
      __atomic_add_fetch(&w->calls, 1, __ATOMIC_RELAXED);
    } else {
      __atomic_add_fetch(&w->call_faults, 1, __ATOMIC_RELAXED);
    }
    if (guarded(kRead, &r, NULL, NULL)) {
      if ((uint64_t)r != image) return w->error = "the read did not return the page image", NULL;
      __atomic_add_fetch(&w->reads, 1, __ATOMIC_RELAXED);
    } else {
      __atomic_add_fetch(&w->read_faults, 1, __ATOMIC_RELAXED);
    }
    if (k % 16 == 15) {
      struct timespec pause = {0, 1000000};
      nanosleep(&pause, NULL);
    }
  }
  return NULL;
}

static pid_t g_started[16];
static int g_nstarted;

static void wait_child(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status))
    tracee_say("child exit=%d", WEXITSTATUS(status));
  else
    tracee_say("child signal=%d", WTERMSIG(status));
}

static void run_child(char* line, int wait) {
  char* argv[16];
  int n = 0;
  for (char* tok = strtok(line, " \n"); tok && n < 15; tok = strtok(NULL, " \n")) argv[n++] = tok;
  argv[n] = NULL;
  if (n == 0) tracee_fail("attach_loop: run needs a program");
  pid_t pid = fork();
  if (pid < 0) tracee_fail("fork: %s", strerror(errno));
  if (pid == 0) {
    if (!wait) freopen("/dev/null", "r", stdin);
    execv(argv[0], argv);
    _exit(127);
  }
  if (wait) {
    wait_child(pid);
  } else {
    if (g_nstarted < 16) g_started[g_nstarted++] = pid;
    tracee_say("started pid=%d", (int)pid);
  }
}

int main(int argc, char** argv) {
  int i = tracee_init(argc, argv);
  long n = i < argc ? strtol(argv[i], NULL, 10) : 4;
  long seconds = i + 1 < argc ? strtol(argv[i + 1], NULL, 10) : 0;
  if (n < 1 || n > 64 || seconds < 0) tracee_usage("attach_loop [-n] [NTHREADS [SECONDS]]");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sigsegv;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, NULL);
  const char* filter = getenv("ATTACH_LOOP_FILTER");
  if (filter != NULL && strcmp(filter, "1") == 0) {
    struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog prog = {1, &allow};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
      tracee_fail("seccomp: %s", strerror(errno));
  }
  struct worker* w = calloc((size_t)n, sizeof *w);
  if (w == NULL) tracee_fail("calloc");
  for (long k = 0; k < n; ++k) {
    w[k].ncpus = tracee_ncpus();
    if (pthread_create(&w[k].thread, NULL, run, &w[k]) != 0) tracee_fail("pthread_create");
  }
  tracee_say("ready threads=%ld", n);
  char line[512];
  if (seconds > 0) {
    struct timespec run_for = {seconds, 0};
    while (nanosleep(&run_for, &run_for) != 0 && errno == EINTR) {
    }
  }
  while (seconds == 0 && fgets(line, sizeof line, stdin)) {
    if (strncmp(line, "run ", 4) == 0) run_child(line + 4, 1);
    if (strncmp(line, "start ", 6) == 0) run_child(line + 6, 0);
    if (strncmp(line, "stats ", 6) == 0) {
      long c = 0, cf = 0, r = 0, rf = 0;
      for (long k = 0; k < n; ++k) {
        c += __atomic_load_n(&w[k].calls, __ATOMIC_RELAXED);
        cf += __atomic_load_n(&w[k].call_faults, __ATOMIC_RELAXED);
        r += __atomic_load_n(&w[k].reads, __ATOMIC_RELAXED);
        rf += __atomic_load_n(&w[k].read_faults, __ATOMIC_RELAXED);
      }
      line[strcspn(line, "\n")] = '\0';
      tracee_say("%s calls=%ld call_faults=%ld reads=%ld read_faults=%ld", line + 6, c, cf, r, rf);
    }
  }
  for (int k = 0; k < g_nstarted; ++k) wait_child(g_started[k]);
  g_stop = 1;
  long calls = 0, call_faults = 0, reads = 0, read_faults = 0;
  for (long k = 0; k < n; ++k) {
    pthread_join(w[k].thread, NULL);
    if (w[k].error != NULL) tracee_fail("attach_loop thread=%ld %s", k, w[k].error);
    calls += w[k].calls;
    call_faults += w[k].call_faults;
    reads += w[k].reads;
    read_faults += w[k].read_faults;
  }
  tracee_say("OK attach_loop threads=%ld calls=%ld call_faults=%ld reads=%ld read_faults=%ld", n,
             calls, call_faults, reads, read_faults);
  free(w);
  return 0;
}
