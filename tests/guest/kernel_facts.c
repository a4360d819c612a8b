// tests/guest/kernel_facts.c: prints, one line per case, what the running kernel (or vdsorun)
// does with the legacy vsyscall page: calls, bad pointers, reads, writes, seccomp, single-step.
//
// The output is deterministic (no times, no raw stack addresses), so the output of a native run
// in a vsyscall=X guest can be compared line by line with `vdsorun --vsyscall=X` on any host.
// Addresses are printed symbolically: page+0xNNN, target (the address called), ret (the return
// address), insn (the faulting load/store), ptr (the bad pointer passed), 0.
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#define PAGE 0xffffffffff600000UL
#define KERNEL_PTR 0xffff888000000000UL
#define NONCANONICAL_PTR 0x8000000000000000UL
#define UNMAPPED_PTR 0x1000UL

// What probe_call hands to the call and gets back. Offsets are used by the assembly below.
struct call_state {
  uint64_t target;      // 0
  uint64_t arg[3];      // 8, 16, 24
  uint64_t rax;         // 32
  uint64_t rcx;         // 40
  uint64_t r11;         // 48
  uint64_t rdx;         // 56
  uint64_t flags;       // 64
  uint64_t rsp_before;  // 72: rsp just before the call instruction
  uint64_t rsp_after;   // 80: rsp right after the call returned
  uint64_t ret_addr;    // 88: the return address the call pushed
};

#define RCX_CANARY 0x1c1c1c1c1c1c1c1cUL
#define R11_CANARY 0x1b1b1b1b1b1b1b1bUL

void probe_call(struct call_state* state);
void probe_jump_with_stack(uint64_t target, uint64_t rsp);
uint64_t probe_read8(uint64_t addr);
uint64_t probe_read64(uint64_t addr);
void probe_read128(uint64_t addr, void* out);
void probe_read256(uint64_t addr, void* out);
void probe_write8(uint64_t addr);

// Calls state->target like legacy glibc did (`call *%rax`), with canaries in rcx and r11,
// rdx = third argument and CF set, and records what comes back.
__asm__(
    ".text\n"
    ".globl probe_call\n"
    ".type probe_call,@function\n"
    "probe_call:\n"
    "  push %rbx\n"
    "  push %rbp\n"
    "  push %r12\n"
    "  push %r13\n"
    "  push %r14\n"
    "  push %r15\n"
    "  mov %rdi, %rbx\n"
    "  lea 1f(%rip), %rax\n"
    "  mov %rax, 88(%rbx)\n"
    "  mov 8(%rbx), %rdi\n"
    "  mov 16(%rbx), %rsi\n"
    "  mov 24(%rbx), %rdx\n"
    "  movabs $0x1c1c1c1c1c1c1c1c, %rcx\n"
    "  movabs $0x1b1b1b1b1b1b1b1b, %r11\n"
    "  mov 0(%rbx), %rax\n"
    "  mov %rsp, 72(%rbx)\n"
    "  stc\n"
    "  call *%rax\n"
    "1:\n"
    "  mov %rsp, 80(%rbx)\n"
    "  mov %rax, 32(%rbx)\n"
    "  mov %rcx, 40(%rbx)\n"
    "  mov %r11, 48(%rbx)\n"
    "  mov %rdx, 56(%rbx)\n"
    "  pushfq\n"
    "  pop %rax\n"
    "  mov %rax, 64(%rbx)\n"
    "  pop %r15\n"
    "  pop %r14\n"
    "  pop %r13\n"
    "  pop %r12\n"
    "  pop %rbp\n"
    "  pop %rbx\n"
    "  ret\n"
    ".size probe_call, .-probe_call\n"
    // Jumps to rdi with rsp = rsi; only a signal handler (on the alternate stack) comes back.
    ".globl probe_jump_with_stack\n"
    ".type probe_jump_with_stack,@function\n"
    "probe_jump_with_stack:\n"
    "  mov %rsi, %rsp\n"
    "  jmp *%rdi\n"
    ".size probe_jump_with_stack, .-probe_jump_with_stack\n"
    // Each load/store is the first instruction of its function, so rip == the function.
    ".globl probe_read8\n"
    "probe_read8:\n"
    "  movzbl (%rdi), %eax\n"
    "  ret\n"
    ".globl probe_read64\n"
    "probe_read64:\n"
    "  mov (%rdi), %rax\n"
    "  ret\n"
    ".globl probe_read128\n"
    "probe_read128:\n"
    "  movdqu (%rdi), %xmm0\n"
    "  movdqu %xmm0, (%rsi)\n"
    "  ret\n"
    ".globl probe_read256\n"
    "probe_read256:\n"
    "  vmovdqu (%rdi), %ymm0\n"
    "  vmovdqu %ymm0, (%rsi)\n"
    "  vzeroupper\n"
    "  ret\n"
    ".globl probe_write8\n"
    "probe_write8:\n"
    "  movb $0x90, (%rdi)\n"
    "  ret\n");

// --- signal capture -------------------------------------------------------------------------

struct caught {
  int signo;
  int code;
  int errno_field;
  uint64_t addr;
  uint64_t rip;
  uint64_t rsp;
  uint64_t err;
  uint64_t trapno;
  uint64_t rax;
  uint64_t rcx;
  uint64_t r11;
  int syscall_nr;
  uint64_t call_addr;
};

static sigjmp_buf g_jump;
static volatile struct caught g_caught;
static volatile int g_counting_steps;
static volatile int g_steps_in_page;

static void on_signal(int sig, siginfo_t* si, void* uc_void) {
  ucontext_t* uc = (ucontext_t*)uc_void;
  greg_t* gregs = uc->uc_mcontext.gregs;
  if (sig == SIGTRAP && g_counting_steps) {
    if ((((uint64_t)gregs[REG_RIP]) & ~0xfffUL) == PAGE) g_steps_in_page++;
    return;
  }
  g_caught.signo = sig;
  g_caught.code = si->si_code;
  g_caught.errno_field = si->si_errno;
  g_caught.addr = (uint64_t)si->si_addr;
  g_caught.rip = (uint64_t)gregs[REG_RIP];
  g_caught.rsp = (uint64_t)gregs[REG_RSP];
  g_caught.err = (uint64_t)gregs[REG_ERR];
  g_caught.trapno = (uint64_t)gregs[REG_TRAPNO];
  g_caught.rax = (uint64_t)gregs[REG_RAX];
  g_caught.rcx = (uint64_t)gregs[REG_RCX];
  g_caught.r11 = (uint64_t)gregs[REG_R11];
  if (sig == SIGSYS) {
    g_caught.syscall_nr = si->si_syscall;
    g_caught.call_addr = (uint64_t)si->si_call_addr;
  }
  siglongjmp(g_jump, 1);
}

static void install_handlers(void) {
  static char altstack[64 * 1024];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  if (sigaltstack(&ss, NULL) != 0) {
    perror("kernel_facts: sigaltstack");
    exit(2);
  }
  const int signals[] = {SIGSEGV, SIGBUS, SIGTRAP, SIGILL, SIGSYS, SIGFPE};
  for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaction(signals[i], &sa, NULL) != 0) {
      perror("kernel_facts: sigaction");
      exit(2);
    }
  }
}

// --- symbolic printing ----------------------------------------------------------------------

// Names an address relative to what the case knows about.
struct context {
  uint64_t target;
  uint64_t ret;
  uint64_t insn;
  uint64_t ptr;
};

static const char* sym(uint64_t value, const struct context* ctx, char* buf, size_t size) {
  if (value == 0) return "0";
  if (ctx->target && value == ctx->target) return "target";
  if (ctx->ret && value == ctx->ret) return "ret";
  if (ctx->insn && value == ctx->insn) return "insn";
  if (ctx->ptr && value == ctx->ptr) return "ptr";
  if ((value & ~0xfffUL) == PAGE) {
    snprintf(buf, size, "page+0x%03" PRIx64, value - PAGE);
    return buf;
  }
  return "other";
}

static const char* signal_name(int sig) {
  switch (sig) {
    case SIGSEGV:
      return "SIGSEGV";
    case SIGBUS:
      return "SIGBUS";
    case SIGTRAP:
      return "SIGTRAP";
    case SIGILL:
      return "SIGILL";
    case SIGSYS:
      return "SIGSYS";
    case SIGFPE:
      return "SIGFPE";
    default:
      return "SIG?";
  }
}

static const char* code_name(int sig, int code, char* buf, size_t size) {
  if (code == SI_KERNEL) return "SI_KERNEL";
  if (code == SI_USER) return "SI_USER";
  if (code == SI_TKILL) return "SI_TKILL";
  if (sig == SIGSEGV && code == SEGV_MAPERR) return "SEGV_MAPERR";
  if (sig == SIGSEGV && code == SEGV_ACCERR) return "SEGV_ACCERR";
  if (sig == SIGSEGV && code == SEGV_PKUERR) return "SEGV_PKUERR";
  if (sig == SIGTRAP && code == TRAP_TRACE) return "TRAP_TRACE";
  if (sig == SIGTRAP && code == TRAP_BRKPT) return "TRAP_BRKPT";
  if (sig == SIGSYS && code == 1) return "SYS_SECCOMP";
  snprintf(buf, size, "%d", code);
  return buf;
}

static void print_signal(const char* name, const struct context* ctx, uint64_t rsp_before) {
  char b1[32], b2[32], b3[32], b4[32];
  const char* rsp = "other";
  if (rsp_before) {
    if (g_caught.rsp == rsp_before - 8) rsp = "retaddr";  // the call's push, nothing popped
    if (g_caught.rsp == rsp_before) rsp = "caller";       // as if the call had returned
  }
  printf("%s: signal=%s code=%s addr=%s rip=%s rsp=%s err=0x%" PRIx64 " trapno=%" PRIu64
         " rcx=%s\n",
         name, signal_name(g_caught.signo), code_name(g_caught.signo, g_caught.code, b1, sizeof b1),
         sym(g_caught.addr, ctx, b2, sizeof b2), sym(g_caught.rip, ctx, b3, sizeof b3), rsp,
         g_caught.err, g_caught.trapno,
         g_caught.rcx == RCX_CANARY ? "kept" : sym(g_caught.rcx, ctx, b4, sizeof b4));
}

// --- calls ----------------------------------------------------------------------------------

enum check { kCheckNone, kCheckGtod, kCheckTime, kCheckGetcpu };

static struct timeval g_tv;
static struct timezone g_tz;
static time_t g_time;
static unsigned g_cpu, g_node;

static const char* verdict_of(enum check check, uint64_t rax) {
  if ((int64_t)rax < 0 && (int64_t)rax > -4096) return "error";
  switch (check) {
    case kCheckGtod: {
      struct timeval after;
      struct timezone tz;
      syscall(SYS_gettimeofday, &after, &tz);
      if (g_tv.tv_sec == -1) return "untouched";
      bool ok = g_tv.tv_sec > 1000000000 && g_tv.tv_sec <= after.tv_sec &&
                g_tz.tz_minuteswest == tz.tz_minuteswest && g_tz.tz_dsttime == tz.tz_dsttime;
      return ok ? "plausible" : "implausible";
    }
    case kCheckTime: {
      time_t now = (time_t)syscall(SYS_time, NULL);
      if (g_time == -1) return "untouched";
      return (g_time > 1000000000 && g_time <= now && (time_t)rax == g_time) ? "plausible"
                                                                             : "implausible";
    }
    case kCheckGetcpu: {
      unsigned cpu = 0, node = 0;
      syscall(SYS_getcpu, &cpu, &node, NULL);
      if (g_cpu == ~0U) return "untouched";
      return (g_cpu == cpu && g_node == node) ? "plausible" : "implausible";
    }
    case kCheckNone:
      break;
  }
  return "-";
}

static void format_rax(uint64_t rax, char* buf, size_t size) {
  int64_t value = (int64_t)rax;
  if (value > -4096 && value < 4096)
    snprintf(buf, size, "%" PRId64, value);
  else if (value > 1000000000 && value < 100000000000)
    snprintf(buf, size, "now");
  else
    snprintf(buf, size, "other");
}

// Calls `target` with three arguments and prints what happened. `ptr` names a bad pointer among
// the arguments (or 0).
static void run_call(const char* name, uint64_t target, uint64_t a0, uint64_t a1, uint64_t a2,
                     uint64_t ptr, enum check check) {
  static struct call_state state;
  memset(&state, 0, sizeof state);
  state.target = target;
  state.arg[0] = a0;
  state.arg[1] = a1;
  state.arg[2] = a2;
  g_tv.tv_sec = -1;
  g_time = -1;
  g_cpu = ~0U;
  fflush(stdout);
  struct context ctx = {.target = target, .ret = 0, .insn = 0, .ptr = ptr};
  if (sigsetjmp(g_jump, 1) == 0) {
    probe_call(&state);
    char rax[32];
    format_rax(state.rax, rax, sizeof rax);
    printf("%s: returned rax=%s data=%s rcx=%s r11=%s rdx=%s cf=%s rsp=%s\n", name, rax,
           verdict_of(check, state.rax), state.rcx == RCX_CANARY ? "kept" : "changed",
           state.r11 == R11_CANARY ? "kept" : "changed", state.rdx == a2 ? "kept" : "changed",
           (state.flags & 1) ? "kept" : "cleared",
           state.rsp_after == state.rsp_before ? "balanced" : "unbalanced");
  } else {
    ctx.ret = state.ret_addr;
    print_signal(name, &ctx, state.rsp_before);
  }
}

static void run_call_with_bad_stack(const char* name, uint64_t target, uint64_t bad_rsp) {
  fflush(stdout);
  struct context ctx = {.target = target, .ret = 0, .insn = 0, .ptr = bad_rsp};
  if (sigsetjmp(g_jump, 1) == 0) {
    probe_jump_with_stack(target, bad_rsp);
    printf("%s: impossible return\n", name);
  } else {
    char b1[32], b2[32], b3[32];
    printf("%s: signal=%s code=%s addr=%s rip=%s rsp=%s err=0x%" PRIx64 " trapno=%" PRIu64 "\n",
           name, signal_name(g_caught.signo),
           code_name(g_caught.signo, g_caught.code, b1, sizeof b1),
           sym(g_caught.addr, &ctx, b2, sizeof b2), sym(g_caught.rip, &ctx, b3, sizeof b3),
           g_caught.rsp == bad_rsp ? "ptr" : "other", g_caught.err, g_caught.trapno);
  }
}

// --- reads and writes -----------------------------------------------------------------------

static void print_bytes(const char* name, const uint8_t* bytes, size_t n) {
  printf("%s: value=", name);
  for (size_t i = 0; i < n; i++) printf("%02x", bytes[i]);
  printf("\n");
}

static void run_read(const char* name, uint64_t addr, int width) {
  uint8_t out[32];
  uint64_t insn = width == 1    ? (uint64_t)probe_read8
                  : width == 8  ? (uint64_t)probe_read64
                  : width == 16 ? (uint64_t)probe_read128
                                : (uint64_t)probe_read256;
  struct context ctx = {.target = 0, .ret = 0, .insn = insn, .ptr = 0};
  if (width == 32 && !__builtin_cpu_supports("avx")) {
    printf("%s: unsupported\n", name);
    return;
  }
  fflush(stdout);
  if (sigsetjmp(g_jump, 1) == 0) {
    if (width == 1) {
      out[0] = (uint8_t)probe_read8(addr);
    } else if (width == 8) {
      uint64_t v = probe_read64(addr);
      memcpy(out, &v, 8);
    } else if (width == 16) {
      probe_read128(addr, out);
    } else {
      probe_read256(addr, out);
    }
    print_bytes(name, out, (size_t)width);
  } else {
    print_signal(name, &ctx, 0);
  }
}

static uint8_t g_page_copy[4096];

// Reads the whole page eight bytes at a time and summarises it: the entry bytes, and whether
// everything else is 0xcc.
static void run_read_page(void) {
  struct context ctx = {.target = 0, .ret = 0, .insn = (uint64_t)probe_read64, .ptr = 0};
  fflush(stdout);
  if (sigsetjmp(g_jump, 1) == 0) {
    for (uint64_t off = 0; off < 4096; off += 8) {
      uint64_t v = probe_read64(PAGE + off);
      memcpy(g_page_copy + off, &v, 8);
    }
    size_t other = 0;
    for (size_t off = 0; off < 4096; off++) {
      bool in_entry = (off % 0x400) < 16 && off < 0xc00;
      if (!in_entry && g_page_copy[off] != 0xcc) other++;
    }
    printf("read.page: fill=%s", other ? "not-0xcc" : "0xcc");
    for (size_t entry = 0; entry < 3; entry++) {
      printf(" entry%zx=", entry * 0x400);
      for (size_t i = 0; i < 16; i++) printf("%02x", g_page_copy[entry * 0x400 + i]);
    }
    printf("\n");
  } else {
    print_signal("read.page", &ctx, 0);
  }
}

// libc's memcpy/memcmp: whatever vector or `rep movsb` form libc picked for this CPU.
static void run_libc_reads(void) {
  static uint8_t buf[4096];
  struct context ctx = {0, 0, 0, 0};
  fflush(stdout);
  if (sigsetjmp(g_jump, 1) == 0) {
    memcpy(buf, (const void*)PAGE, sizeof buf);
    printf("read.memcpy: %s\n", memcmp(buf, g_page_copy, sizeof buf) ? "differs" : "same");
  } else {
    printf("read.memcpy: signal=%s code=%d addr=%s\n", signal_name(g_caught.signo), g_caught.code,
           (g_caught.addr & ~0xfffUL) == PAGE ? "page" : "other");
  }
  fflush(stdout);
  if (sigsetjmp(g_jump, 1) == 0) {
    int r = memcmp((const void*)PAGE, g_page_copy, sizeof buf);
    printf("read.memcmp: %s\n", r ? "differs" : "same");
  } else {
    printf("read.memcmp: signal=%s code=%d addr=%s\n", signal_name(g_caught.signo), g_caught.code,
           (g_caught.addr & ~0xfffUL) == PAGE ? "page" : "other");
  }
  (void)ctx;
}

static void run_write(const char* name, uint64_t addr) {
  struct context ctx = {.target = 0, .ret = 0, .insn = (uint64_t)probe_write8, .ptr = 0};
  fflush(stdout);
  if (sigsetjmp(g_jump, 1) == 0) {
    probe_write8(addr);
    printf("%s: wrote\n", name);
  } else {
    print_signal(name, &ctx, 0);
  }
}

// --- kernel views ---------------------------------------------------------------------------

static void run_maps(void) {
  FILE* maps = fopen("/proc/self/maps", "r");
  char line[512];
  const char* found = NULL;
  static char perms[8];
  while (maps && fgets(line, sizeof line, maps)) {
    if (strstr(line, "[vsyscall]")) {
      if (sscanf(line, "%*x-%*x %7s", perms) == 1) found = perms;
    }
  }
  if (maps) fclose(maps);
  printf("maps: %s\n", found ? found : "absent");
}

static void run_process_vm_readv(void) {
  static char buf[4096];
  struct iovec local = {buf, sizeof buf};
  struct iovec remote = {(void*)PAGE, sizeof buf};
  errno = 0;
  ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
  if (n < 0)
    printf("process_vm_readv: ret=-1 errno=%s\n", errno == EFAULT ? "EFAULT" : strerror(errno));
  else
    printf("process_vm_readv: ret=%zd %s\n", n,
           memcmp(buf, g_page_copy, sizeof buf) ? "differs-from-read" : "same-as-read");
}

// --- seccomp (in a child: filters cannot be removed) ----------------------------------------

static void run_seccomp(const char* name, int nr, uint32_t action, uint64_t target, uint64_t a0,
                        enum check check) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) {
    perror("kernel_facts: fork");
    exit(2);
  }
  if (pid == 0) {
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, action),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof filter / sizeof filter[0], .filter = filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
      printf("%s: seccomp unavailable\n", name);
      fflush(stdout);
      _exit(0);
    }
    if (sigsetjmp(g_jump, 1) == 0) {
      // A kernel-half argument is the bad pointer of the case.
      run_call(name, target, a0, 0, 0, (a0 >> 63) ? a0 : 0, check);
    } else {
      printf("%s: impossible\n", name);
    }
    fflush(stdout);
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    if (WIFSIGNALED(status))
      printf("%s: child killed by %s\n", name, signal_name(WTERMSIG(status)));
    else
      printf("%s: child exit %d\n", name, WEXITSTATUS(status));
  }
}

static void run_seccomp_trap(void) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_time, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP | 7),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof filter / sizeof filter[0], .filter = filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
      printf("seccomp.trap_time: seccomp unavailable\n");
      fflush(stdout);
      _exit(0);
    }
    static struct call_state state;
    memset(&state, 0, sizeof state);
    state.target = PAGE + 0x400;
    if (sigsetjmp(g_jump, 1) == 0) {
      probe_call(&state);
      printf("seccomp.trap_time: returned\n");
    } else if (g_caught.signo == SIGSYS) {
      struct context ctx = {.target = state.target, .ret = state.ret_addr, .insn = 0, .ptr = 0};
      char b1[32], b2[32], b3[32];
      printf(
          "seccomp.trap_time: signal=SIGSYS code=%s syscall=%d errno=%d call_addr=%s rip=%s "
          "rsp=%s rax=%s\n",
          code_name(SIGSYS, g_caught.code, b1, sizeof b1), g_caught.syscall_nr,
          g_caught.errno_field, sym(g_caught.call_addr, &ctx, b2, sizeof b2),
          sym(g_caught.rip, &ctx, b3, sizeof b3),
          g_caught.rsp == state.rsp_before - 8 ? "retaddr"
          : g_caught.rsp == state.rsp_before   ? "caller"
                                               : "other",
          g_caught.rax == SYS_time ? "nr" : "other");
    } else {
      struct context ctx = {.target = state.target, .ret = state.ret_addr, .insn = 0, .ptr = 0};
      print_signal("seccomp.trap_time", &ctx, state.rsp_before);
    }
    fflush(stdout);
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status))
    printf("seccomp.trap_time: child killed by %s\n", signal_name(WTERMSIG(status)));
}

// --- single-step ----------------------------------------------------------------------------

// Counts single-step traps whose rip is inside the page during one vsyscall time(): 1 when the
// kernel emulates (the trap after the call lands on the entry), more when code runs there.
static void run_single_step(void) {
  static struct call_state state;
  memset(&state, 0, sizeof state);
  state.target = PAGE + 0x400;
  g_steps_in_page = 0;
  fflush(stdout);
  if (sigsetjmp(g_jump, 1) == 0) {
    g_counting_steps = 1;
    __asm__ volatile("pushfq; orq $0x100, (%%rsp); popfq" ::: "memory", "cc");
    probe_call(&state);
    __asm__ volatile("pushfq; andq $~0x100, (%%rsp); popfq" ::: "memory", "cc");
    g_counting_steps = 0;
    printf("step.time: traps_in_page=%d\n", g_steps_in_page);
  } else {
    g_counting_steps = 0;
    struct context ctx = {.target = state.target, .ret = state.ret_addr, .insn = 0, .ptr = 0};
    print_signal("step.time", &ctx, state.rsp_before);
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  install_handlers();

  // Pin to one CPU so getcpu answers can be compared with the syscall.
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  sched_setaffinity(0, sizeof set, &set);

  uint64_t tv = (uint64_t)&g_tv, tz = (uint64_t)&g_tz, t = (uint64_t)&g_time;
  uint64_t cpu = (uint64_t)&g_cpu, node = (uint64_t)&g_node;

  // A page the program owns but cannot write, and one it cannot touch at all.
  uint64_t readonly =
      (uint64_t)mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  uint64_t noaccess = (uint64_t)mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

  run_maps();

  run_call("call.gtod", PAGE, tv, tz, 0, 0, kCheckGtod);
  run_call("call.gtod_null", PAGE, 0, 0, 0, 0, kCheckNone);
  run_call("call.time", PAGE + 0x400, t, 0, 0, 0, kCheckTime);
  run_call("call.time_null", PAGE + 0x400, 0, 0, 0, 0, kCheckNone);
  run_call("call.getcpu", PAGE + 0x800, cpu, node, 0, 0, kCheckGetcpu);
  run_call("call.getcpu_cache_ignored", PAGE + 0x800, cpu, node, KERNEL_PTR, 0, kCheckGetcpu);

  run_call("call.gtod_tv_kernel", PAGE, KERNEL_PTR, 0, 0, KERNEL_PTR, kCheckNone);
  run_call("call.gtod_tz_kernel", PAGE, tv, KERNEL_PTR, 0, KERNEL_PTR, kCheckNone);
  run_call("call.gtod_tv_noncanonical", PAGE, NONCANONICAL_PTR, 0, 0, NONCANONICAL_PTR, kCheckNone);
  run_call("call.gtod_tv_unmapped", PAGE, UNMAPPED_PTR, 0, 0, UNMAPPED_PTR, kCheckNone);
  run_call("call.gtod_tv_noaccess", PAGE, noaccess, 0, 0, noaccess, kCheckNone);
  run_call("call.gtod_tv_readonly", PAGE, readonly, 0, 0, readonly, kCheckNone);
  run_call("call.time_kernel", PAGE + 0x400, KERNEL_PTR, 0, 0, KERNEL_PTR, kCheckNone);
  run_call("call.time_readonly", PAGE + 0x400, readonly, 0, 0, readonly, kCheckNone);
  run_call("call.getcpu_cpu_kernel", PAGE + 0x800, KERNEL_PTR, node, 0, KERNEL_PTR, kCheckNone);
  run_call("call.getcpu_node_readonly", PAGE + 0x800, cpu, readonly, 0, readonly, kCheckNone);

  run_call("call.page_plus_1", PAGE + 1, tv, tz, 0, 0, kCheckNone);
  run_call("call.page_plus_0x10", PAGE + 0x10, tv, tz, 0, 0, kCheckNone);
  run_call("call.page_plus_0x409", PAGE + 0x409, tv, tz, 0, 0, kCheckNone);
  run_call("call.page_plus_0xc00", PAGE + 0xc00, tv, tz, 0, 0, kCheckNone);
  run_call("call.page_plus_0xfff", PAGE + 0xfff, tv, tz, 0, 0, kCheckNone);
  run_call("call.next_page", PAGE + 0x1000, tv, tz, 0, 0, kCheckNone);
  run_call_with_bad_stack("call.time_stack_unmapped", PAGE + 0x400, noaccess + 2048);

  run_read("read.byte_0x000", PAGE, 1);
  run_read("read.byte_0x123", PAGE + 0x123, 1);
  run_read("read.qword_0x400", PAGE + 0x400, 8);
  run_read("read.xmm_0x800", PAGE + 0x800, 16);
  run_read("read.ymm_0x000", PAGE, 32);
  run_read_page();
  run_libc_reads();
  run_write("write.byte_0x000", PAGE);
  run_write("write.byte_0x800", PAGE + 0x800);

  run_process_vm_readv();

  run_seccomp("seccomp.errno_gtod", SYS_gettimeofday, SECCOMP_RET_ERRNO | EPERM, PAGE, tv,
              kCheckNone);
  run_seccomp("seccomp.errno_time_bad_ptr", SYS_time, SECCOMP_RET_ERRNO | EPERM, PAGE + 0x400,
              KERNEL_PTR, kCheckNone);
  run_seccomp("seccomp.kill_getcpu", SYS_getcpu, SECCOMP_RET_KILL_PROCESS, PAGE + 0x800, cpu,
              kCheckNone);
  run_seccomp_trap();

  run_single_step();

  printf("done\n");
  return 0;
}
