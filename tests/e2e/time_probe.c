// The time-control probe: what a program sees of the clocks and of its timed waits under
// vdsorun --time/--offset/--rate/--freeze. Built against glibc (dynamic and static) and musl.
// Every measurement is printed as a `kind key=value ...` line (probe_support.h); the test
// (time_test.cc) decides. Usage: time_probe COMMAND [ARG]
//   now           every read path once: time(), gettimeofday(), clock_gettime(REALTIME,
//                 REALTIME_COARSE, MONOTONIC, BOOTTIME, PROCESS_CPUTIME) through libc (the
//                 vDSO) and as raw syscalls
//   t32 N         N lines of time() as a 32-bit time_t, one virtual second apart (sleep(1))
//   spin N        N clock_gettime(REALTIME) calls: the smallest and the largest value
//   sleep MS      nanosleep(MS): MONOTONIC and REALTIME before and after
//   waits MS      each absolute wait on virtual now + MS: clock_nanosleep(TIMER_ABSTIME) on
//                 REALTIME and MONOTONIC, timerfd and timer_settime ABSTIME on REALTIME, a
//                 pthread_cond_timedwait on REALTIME (futex FUTEX_CLOCK_REALTIME); and the
//                 relative ones scaled by --rate: poll, select, epoll_wait, FUTEX_WAIT,
//                 setitimer(ITIMER_REAL), alarm (MS a multiple of 1000); the message queue
//                 and futex_waitv deadlines on REALTIME, semtimedop and io_getevents timeouts;
//                 each line says the virtual time it took (a `skip` line for a call this
//                 kernel lacks)
//   fork          `now` here, then in a child that execs this program again
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ipc.h>
#include <sys/select.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probe_support.h"

// musl has no <linux/futex.h>.
#define PROBE_FUTEX_WAIT_PRIVATE (0 | 128)

static int64_t libc_ns(clockid_t c) {
  struct timespec ts;
  if (clock_gettime(c, &ts) != 0) return -1;
  return ts_ns(&ts);
}

static int64_t sys_ns(clockid_t c) {
  struct timespec ts;
  if (syscall(SYS_clock_gettime, c, &ts) != 0) return -1;
  return ts_ns(&ts);
}

static void now(const char* who) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  const int64_t t = (int64_t)time(NULL);
  const int64_t rt = libc_ns(CLOCK_REALTIME);
  struct timeval stv;
  syscall(SYS_gettimeofday, &stv, NULL);
  const int64_t st = (int64_t)syscall(SYS_time, NULL);
  emit(
      "now who=%s time=%lld gtod_us=%lld rt=%lld rt_coarse=%lld mono=%lld boot=%lld "
      "cpu=%lld sys_rt=%lld sys_gtod_us=%lld sys_time=%lld sys_mono=%lld",
      who, (long long)t, (long long)tv.tv_sec * 1000000 + tv.tv_usec, (long long)rt,
      (long long)libc_ns(CLOCK_REALTIME_COARSE), (long long)libc_ns(CLOCK_MONOTONIC),
      (long long)libc_ns(CLOCK_BOOTTIME), (long long)libc_ns(CLOCK_PROCESS_CPUTIME_ID),
      (long long)sys_ns(CLOCK_REALTIME), (long long)stv.tv_sec * 1000000 + stv.tv_usec,
      (long long)st, (long long)sys_ns(CLOCK_MONOTONIC));
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;

// One wait: how long it took on the virtual MONOTONIC clock, and what it returned.
#define WAIT(name, expr)                                                                      \
  do {                                                                                        \
    const int64_t before = libc_ns(CLOCK_MONOTONIC);                                          \
    const long ret = (long)(expr);                                                            \
    const int64_t after = libc_ns(CLOCK_MONOTONIC);                                           \
    emit("wait name=%s ms=%lld ret=%ld", name, (long long)((after - before) / 1000000), ret); \
  } while (0)

static struct timespec abs_after(clockid_t c, int ms) {
  const int64_t at = libc_ns(c) + (int64_t)ms * 1000000;
  struct timespec ts = {at / 1000000000, at % 1000000000};
  return ts;
}

static void waits(int ms) {
  struct timespec ts;
  WAIT("clock_nanosleep_abs_realtime", (ts = abs_after(CLOCK_REALTIME, ms),
                                        clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL)));
  WAIT("clock_nanosleep_abs_monotonic",
       (ts = abs_after(CLOCK_MONOTONIC, ms),
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)));

  int tfd = timerfd_create(CLOCK_REALTIME, 0);
  struct itimerspec its = {{0, 0}, {0, 0}};
  uint64_t expirations = 0;
  // Each wait is timed from before its deadline was read (arming a timer takes time too).
  WAIT("timerfd_abs_realtime", (its.it_value = abs_after(CLOCK_REALTIME, ms),
                                timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL),
                                read(tfd, &expirations, sizeof expirations)));
  close(tfd);

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGRTMIN);
  sigprocmask(SIG_BLOCK, &set, NULL);
  struct sigevent sev = {0};
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGRTMIN;
  timer_t timer;
  timer_create(CLOCK_REALTIME, &sev, &timer);
  int sig = 0;
  WAIT("timer_abs_realtime",
       (its.it_value = abs_after(CLOCK_REALTIME, ms),
        timer_settime(timer, TIMER_ABSTIME, &its, NULL), sigwait(&set, &sig), sig));
  timer_delete(timer);

  pthread_mutex_lock(&lock);
  WAIT("cond_timedwait_realtime",
       (ts = abs_after(CLOCK_REALTIME, ms), pthread_cond_timedwait(&cond, &lock, &ts)));
  pthread_mutex_unlock(&lock);

  WAIT("poll", poll(NULL, 0, ms));
  struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
  WAIT("select", select(0, NULL, NULL, NULL, &tv));
  int ep = epoll_create1(0);
  struct epoll_event ev;
  WAIT("epoll_wait", epoll_wait(ep, &ev, 1, ms));
  close(ep);
  int word = 0;
  struct timespec rel = {ms / 1000, (ms % 1000) * 1000000L};
  WAIT("futex_wait", syscall(SYS_futex, &word, PROBE_FUTEX_WAIT_PRIVATE, 0, &rel, NULL, 0));

  // SIGALRM from setitimer(ITIMER_REAL), and from alarm() (whole seconds only).
  sigset_t alrm;
  sigemptyset(&alrm);
  sigaddset(&alrm, SIGALRM);
  sigprocmask(SIG_BLOCK, &alrm, NULL);
  struct itimerval itv = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
  WAIT("setitimer", (setitimer(ITIMER_REAL, &itv, NULL), sigwait(&alrm, &sig), sig));
  if (ms >= 1000 && ms % 1000 == 0)
    WAIT("alarm", (alarm((unsigned)(ms / 1000)), sigwait(&alrm, &sig), sig));

  // POSIX message queues: an absolute REALTIME deadline on an empty queue.
  struct mq_attr attr = {0};
  attr.mq_maxmsg = 1;
  attr.mq_msgsize = 8;
  char qname[64];
  snprintf(qname, sizeof qname, "/vdsorun_time_probe_%d", (int)getpid());
  const mqd_t q = mq_open(qname, O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
  if (q == (mqd_t)-1) {
    emit("skip name=mq_timedreceive_abs_realtime errno=%d", errno);
  } else {
    mq_unlink(qname);
    char msg[8];
    WAIT("mq_timedreceive_abs_realtime",
         (ts = abs_after(CLOCK_REALTIME, ms), mq_timedreceive(q, msg, sizeof msg, NULL, &ts)));
    mq_close(q);
  }

  // futex_waitv (Linux 5.16) on a REALTIME deadline.
  struct {
    uint64_t val, uaddr;
    uint32_t flags, reserved;
  } waiter = {0, (uintptr_t)&word, 0x02 /* FUTEX2_SIZE_U32 */ | 128 /* FUTEX2_PRIVATE */, 0};
  if (syscall(449 /* futex_waitv */, NULL, 0, 0, NULL, 0) == -1 && errno == ENOSYS) {
    emit("skip name=futex_waitv_abs_realtime errno=%d", errno);
  } else {
    WAIT("futex_waitv_abs_realtime", (ts = abs_after(CLOCK_REALTIME, ms),
                                      syscall(449, &waiter, 1, 0, &ts, (long)CLOCK_REALTIME)));
  }

  // A System V semaphore at zero: semtimedop(-1) waits its relative timeout.
  const int sem = semget(IPC_PRIVATE, 1, 0600);
  struct sembuf down = {0, -1, 0};
  WAIT("semtimedop", semtimedop(sem, &down, 1, &rel));
  semctl(sem, 0, IPC_RMID);

  // Kernel AIO: io_getevents on a context with nothing submitted.
  unsigned long aio = 0;
  if (syscall(SYS_io_setup, 1, &aio) != 0) {
    emit("skip name=io_getevents errno=%d", errno);
  } else {
    uint64_t events[4];
    WAIT("io_getevents", syscall(SYS_io_getevents, aio, 1L, 1L, events, &rel));
    syscall(SYS_io_destroy, aio);
  }
}

int main(int argc, char** argv) {
  const char* cmd = argc > 1 ? argv[1] : "now";
  const long arg = argc > 2 ? atol(argv[2]) : 0;
  if (strcmp(cmd, "now") == 0) {
    now(argc > 2 ? argv[2] : "main");
  } else if (strcmp(cmd, "t32") == 0) {
    for (long i = 0; i < arg; ++i) {
      emit("t32 value=%d", (int32_t)time(NULL));
      if (i + 1 < arg) sleep(1);
    }
  } else if (strcmp(cmd, "spin") == 0) {
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (long i = 0; i < arg; ++i) {
      const int64_t v = libc_ns(CLOCK_REALTIME);
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    emit("spin min=%lld max=%lld mono=%lld", (long long)lo, (long long)hi,
         (long long)libc_ns(CLOCK_MONOTONIC));
  } else if (strcmp(cmd, "sleep") == 0) {
    const int64_t m0 = libc_ns(CLOCK_MONOTONIC), r0 = libc_ns(CLOCK_REALTIME);
    struct timespec d = {arg / 1000, (arg % 1000) * 1000000L};
    nanosleep(&d, NULL);
    emit("sleep mono_ms=%lld rt_ms=%lld", (long long)((libc_ns(CLOCK_MONOTONIC) - m0) / 1000000),
         (long long)((libc_ns(CLOCK_REALTIME) - r0) / 1000000));
  } else if (strcmp(cmd, "waits") == 0) {
    waits((int)arg);
  } else if (strcmp(cmd, "fork") == 0) {
    now("parent");
    const pid_t pid = fork();
    if (pid == 0) {
      usleep(100000);
      execl("/proc/self/exe", argv[0], "now", "child", (char*)NULL);
      _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    now("parent_after");
  } else {
    return 2;
  }
  return 0;
}
