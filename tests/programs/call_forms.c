// Call-site patching (vsyscall/call_site.h): each legacy call form as its own call site,
// called in loops, with bad pointers, from threads, across fork, under a timer signal and
// after the program installs its own seccomp filter.
//   call_forms [-n] loop FORM N     N calls from FORM's site: `OK loop FORM calls=N`
//   call_forms [-n] regs N          N calls of probe_regs: every register but rax and the
//                                   flags come back as they went in
//   call_forms [-n] bad CASE        one good call from a site, then the same site with a bad
//                                   pointer (the SIGNAL line of tracee.h, or RETURNED)
//   call_forms [-n] fork N          N calls, fork, N more in each process
//   call_forms [-n] threads T N     N calls in each of T threads, same site
//   call_forms [-n] hammer T N      T threads started together make N calls each from two
//                                   sites, which are patched while they run
//   call_forms [-n] signals N       N calls while a 200 us timer signal interrupts them
//   call_forms [-n] seccomp         calls, then a filter of its own makes gettimeofday EPERM:
//                                   `RETURNED rax=-1` as on a real kernel
// FORM: mov_rax mov_rbx mov_r12 movabs word call_mem rel32 tail_mov_rax tail_rel32
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tracee.h"

long form_mov_rax(struct timeval* tv, struct timezone* tz);
long form_mov_rbx(long* t);
long form_mov_r12(unsigned* cpu, unsigned* node);
long form_movabs(struct timeval* tv, struct timezone* tz);
long form_word(struct timeval* tv, struct timezone* tz);
long form_call_mem(long* t);
long form_rel32(struct timeval* tv, struct timezone* tz);
long form_tail(int rel32, long* t);
void probe_regs(uint64_t* out);

// One call from FORM's site; fails the program if the result is wrong.
static void call_form(const char* form) {
  struct timeval tv = {0, -1};
  long t = 0;
  unsigned cpu = ~0u, node = ~0u;
  long r;
  if (strcmp(form, "mov_rax") == 0) {
    r = form_mov_rax(&tv, NULL);
  } else if (strcmp(form, "movabs") == 0) {
    r = form_movabs(&tv, NULL);
  } else if (strcmp(form, "word") == 0) {
    r = form_word(&tv, NULL);
  } else if (strcmp(form, "rel32") == 0) {
    r = form_rel32(&tv, NULL);
  } else if (strcmp(form, "mov_rbx") == 0 || strcmp(form, "call_mem") == 0 ||
             strcmp(form, "tail_mov_rax") == 0 || strcmp(form, "tail_rel32") == 0) {
    if (strcmp(form, "mov_rbx") == 0)
      r = form_mov_rbx(&t);
    else if (strcmp(form, "call_mem") == 0)
      r = form_call_mem(&t);
    else
      r = form_tail(strcmp(form, "tail_rel32") == 0, &t);
    if (r != t || !tracee_time_plausible(r)) tracee_fail("%s time r=%ld t=%ld", form, r, t);
    return;
  } else if (strcmp(form, "mov_r12") == 0) {
    r = form_mov_r12(&cpu, &node);
    if (r != 0 || cpu >= (unsigned long)tracee_ncpus() || node == ~0u)
      tracee_fail("%s getcpu r=%ld cpu=%u node=%u", form, r, cpu, node);
    return;
  } else {
    tracee_usage("unknown form");
  }
  if (r != 0 || !tracee_time_plausible(tv.tv_sec) || tv.tv_usec < 0 || tv.tv_usec >= 1000000)
    tracee_fail("%s gettimeofday r=%ld sec=%ld usec=%ld", form, r, (long)tv.tv_sec, (long)tv.tv_usec);
}

static long count_arg(const char* s) {
  char* end = NULL;
  long n = strtol(s, &end, 10);
  if (end == s || *end != '\0' || n <= 0) tracee_usage("N must be a positive number");
  return n;
}

static void* thread_main(void* arg) {
  long n = *(long*)arg;
  for (long i = 0; i < n; ++i) call_form("mov_rax");
  return NULL;
}

static pthread_barrier_t g_start;
static void* hammer_main(void* arg) {
  long n = *(long*)arg;
  pthread_barrier_wait(&g_start);
  for (long i = 0; i < n; ++i) {
    call_form("mov_rax");
    call_form("mov_rbx");
  }
  return NULL;
}

static volatile long g_ticks;
static void on_alarm(int sig) {
  (void)sig;
  ++g_ticks;
}

int main(int argc, char** argv) {
  int i = tracee_init(argc, argv);
  if (i >= argc) tracee_usage("call_forms [-n] loop|regs|bad|fork|threads|signals|seccomp ...");
  const char* what = argv[i];
  if (strcmp(what, "loop") == 0 && i + 2 < argc) {
    long n = count_arg(argv[i + 2]);
    for (long k = 0; k < n; ++k) call_form(argv[i + 1]);
    tracee_say("OK loop %s calls=%ld", argv[i + 1], n);
  } else if (strcmp(what, "regs") == 0 && i + 1 < argc) {
    long n = count_arg(argv[i + 1]);
    static const uint64_t want[14] = {0, 0x1111111111111111, 0x2222222222222222, 0x3333333333333333,
                                      0, 0, 0x8888888888888888, 0x9999999999999999,
                                      0xaaaaaaaaaaaaaaaa, 0xbbbbbbbbbbbbbbbb, 0xcccccccccccccccc,
                                      0xdddddddddddddddd, 0xeeeeeeeeeeeeeeee, 0x7777777777777777};
    static const char* names[14] = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8",
                                    "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
    for (long k = 0; k < n; ++k) {
      uint64_t out[16];
      probe_regs(out);
      for (int r = 0; r < 14; ++r)
        if (out[r] != want[r])
          tracee_fail("regs call %ld: %s=%#lx, want %#lx", k, names[r], (unsigned long)out[r],
                      (unsigned long)want[r]);
      // The arithmetic flags and DF; TF/RF/IF and the rest are the kernel's.
      const uint64_t mask = 0xcd5 | 0x400;
      if ((out[14] & mask) != (out[15] & mask))
        tracee_fail("regs call %ld: rflags %#lx after %#lx", k, (unsigned long)out[15],
                    (unsigned long)out[14]);
    }
    tracee_say("OK regs calls=%ld", n);
  } else if (strcmp(what, "bad") == 0 && i + 1 < argc) {
    const char* c = argv[i + 1];
    void* ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ro == MAP_FAILED) tracee_fail("mmap");
    struct timeval tv;
    long t;
    unsigned cpu;
    // Twice with good pointers: the first call stops, the second goes through the patch.
    for (int k = 0; k < 2; ++k) {
      form_mov_rax(&tv, NULL);
      form_mov_rbx(&t);
      form_mov_r12(&cpu, NULL);
    }
    long r;
    if (strcmp(c, "gtod_kernel_tv") == 0)
      r = form_mov_rax((struct timeval*)KERNEL_POINTER, NULL);
    else if (strcmp(c, "gtod_kernel_tz") == 0)
      r = form_mov_rax(&tv, (struct timezone*)KERNEL_POINTER);
    else if (strcmp(c, "gtod_unmapped") == 0)
      r = form_mov_rax((struct timeval*)UNMAPPED_POINTER, NULL);
    else if (strcmp(c, "gtod_readonly") == 0)
      r = form_mov_rax((struct timeval*)ro, NULL);
    else if (strcmp(c, "time_kernel") == 0)
      r = form_mov_rbx((long*)KERNEL_POINTER);
    else if (strcmp(c, "time_readonly") == 0)
      r = form_mov_rbx((long*)ro);
    else if (strcmp(c, "getcpu_unmapped") == 0)
      r = form_mov_r12((unsigned*)UNMAPPED_POINTER, NULL);
    else if (strcmp(c, "getcpu_kernel_node") == 0)
      r = form_mov_r12(&cpu, (unsigned*)KERNEL_POINTER);
    else
      tracee_usage("unknown bad case");
    tracee_say("RETURNED rax=%ld", r);
  } else if (strcmp(what, "fork") == 0 && i + 1 < argc) {
    long n = count_arg(argv[i + 1]);
    for (long k = 0; k < n; ++k) call_form("mov_rax");
    pid_t child = fork();
    if (child < 0) tracee_fail("fork");
    for (long k = 0; k < n; ++k) call_form("mov_rax");
    if (child == 0) _exit(0);
    int st = 0;
    if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
      tracee_fail("child status %#x", st);
    tracee_say("OK fork calls=%ld", 3 * n);
  } else if (strcmp(what, "threads") == 0 && i + 2 < argc) {
    long nt = count_arg(argv[i + 1]), n = count_arg(argv[i + 2]);
    if (nt > 64) tracee_usage("at most 64 threads");
    pthread_t th[64];
    call_form("mov_rax");  // patched before the threads exist
    for (long k = 0; k < nt; ++k)
      if (pthread_create(&th[k], NULL, thread_main, &n) != 0) tracee_fail("pthread_create");
    for (long k = 0; k < nt; ++k) pthread_join(th[k], NULL);
    tracee_say("OK threads calls=%ld", nt * n + 1);
  } else if (strcmp(what, "hammer") == 0 && i + 2 < argc) {
    long nt = count_arg(argv[i + 1]), n = count_arg(argv[i + 2]);
    if (nt > 2000) tracee_usage("at most 2000 threads");
    pthread_t* th = calloc((size_t)nt, sizeof *th);
    if (!th || pthread_barrier_init(&g_start, NULL, (unsigned)nt + 1) != 0) tracee_fail("barrier");
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    for (long k = 0; k < nt; ++k)
      if (pthread_create(&th[k], &attr, hammer_main, &n) != 0) tracee_fail("pthread_create %ld", k);
    pthread_barrier_wait(&g_start);
    for (long k = 0; k < nt; ++k) pthread_join(th[k], NULL);
    free(th);
    tracee_say("OK hammer calls=%ld", 2 * nt * n);
  } else if (strcmp(what, "signals") == 0 && i + 1 < argc) {
    long n = count_arg(argv[i + 1]);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 200}, {0, 200}};
    setitimer(ITIMER_REAL, &it, NULL);
    for (long k = 0; k < n; ++k) {
      call_form("mov_rax");
      call_form("mov_rbx");
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    if (g_ticks == 0) tracee_fail("the timer never fired");
    tracee_say("OK signals calls=%ld", 2 * n);
  } else if (strcmp(what, "seccomp") == 0) {
    struct timeval tv;
    for (int k = 0; k < 3; ++k) form_mov_rax(&tv, NULL);
    struct sock_filter insns[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_gettimeofday, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof insns / sizeof insns[0], insns};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) tracee_fail("no_new_privs");
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) tracee_fail("seccomp");
    long r = form_mov_rax(&tv, NULL);
    tracee_say("RETURNED rax=%ld", r);
  } else {
    tracee_usage("unknown case");
  }
  return 0;
}
