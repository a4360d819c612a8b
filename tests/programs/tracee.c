// Shared helpers of the tracee programs: output lines, the signal report line, the page model.
#define _GNU_SOURCE
#include "tracee.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

volatile uint64_t g_expect_rsp;
volatile uint64_t g_expect_ret;
volatile uint64_t g_expect_insn;

static void write_all(const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(STDOUT_FILENO, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return;
    }
    p += w;
    n -= (size_t)w;
  }
}

static void vsay(const char* prefix, const char* fmt, va_list ap) {
  char line[4096];
  size_t len = 0;
  if (prefix != NULL) {
    len = strlen(prefix);
    memcpy(line, prefix, len);
  }
  int n = vsnprintf(line + len, sizeof line - len - 1, fmt, ap);
  if (n < 0) n = 0;
  len += (size_t)n < sizeof line - len - 1 ? (size_t)n : sizeof line - len - 2;
  line[len++] = '\n';
  write_all(line, len);
}

void tracee_say(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsay(NULL, fmt, ap);
  va_end(ap);
}

void tracee_fail(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsay("FAIL ", fmt, ap);
  va_end(ap);
  _exit(1);
}

void tracee_usage(const char* usage) {
  tracee_say("FAIL usage: %s", usage);
  _exit(2);
}

// --- the signal report line, built without stdio (async-signal-safe) ---

struct line_buf {
  char text[512];
  size_t len;
};

static void put_str(struct line_buf* b, const char* s) {
  while (*s != '\0' && b->len < sizeof b->text - 1) b->text[b->len++] = *s++;
}

static void put_hex(struct line_buf* b, uint64_t v) {
  char tmp[17];
  int i = 16;
  tmp[i] = '\0';
  do {
    tmp[--i] = "0123456789abcdef"[v & 0xf];
    v >>= 4;
  } while (v != 0);
  put_str(b, "0x");
  put_str(b, tmp + i);
}

static void put_dec(struct line_buf* b, int64_t v) {
  char tmp[24];
  int i = 23;
  tmp[i] = '\0';
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do {
    tmp[--i] = (char)('0' + u % 10);
    u /= 10;
  } while (u != 0);
  if (v < 0) tmp[--i] = '-';
  put_str(b, tmp + i);
}

static atomic_int g_reported;

static void on_signal(int sig, siginfo_t* si, void* ctx) {
  // Several threads may fault at once: the first one reports, the others wait to be killed.
  if (atomic_exchange(&g_reported, 1) != 0) {
    for (;;) pause();
  }
  const ucontext_t* uc = (const ucontext_t*)ctx;
  const greg_t* gr = uc->uc_mcontext.gregs;
  uint64_t rip = (uint64_t)gr[REG_RIP];
  uint64_t rsp = (uint64_t)gr[REG_RSP];
  uint64_t err = (uint64_t)gr[REG_ERR];

  struct line_buf b = {.len = 0};
  put_str(&b, "SIGNAL sig=");
  put_dec(&b, sig);
  put_str(&b, " code=");
  put_dec(&b, si->si_code);
  put_str(&b, " addr=");
  put_hex(&b, (uint64_t)(uintptr_t)si->si_addr);
  put_str(&b, " rip=");
  if (g_expect_insn != 0 && rip == g_expect_insn) {
    put_str(&b, "insn");
  } else if (g_expect_ret != 0 && rip == g_expect_ret) {
    put_str(&b, "ret");
  } else {
    put_hex(&b, rip);
  }
  put_str(&b, " rsp_delta=");
  if (g_expect_rsp != 0) {
    put_dec(&b, (int64_t)(rsp - g_expect_rsp));
  } else {
    put_str(&b, "none");
  }
  put_str(&b, " err=");
  put_hex(&b, err);
  put_str(&b, " ifetch=");
  put_dec(&b, (err & 0x10) != 0);
  put_str(&b, " trapno=");
  put_dec(&b, gr[REG_TRAPNO]);
  put_str(&b, " cr2=");
  put_hex(&b, (uint64_t)gr[REG_CR2]);
  put_str(&b, " rax=");
  put_dec(&b, gr[REG_RAX]);
  if (sig == SIGSYS) {
    put_str(&b, " syscall=");
    put_dec(&b, si->si_syscall);
    put_str(&b, " arch=");
    put_hex(&b, si->si_arch);
  }
  b.text[b.len++] = '\n';
  write_all(b.text, b.len);
  _exit(TRACEE_SIGNAL_EXIT);
}

int tracee_init(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "-n") == 0) return 2;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  const int sigs[] = {SIGSEGV, SIGTRAP, SIGSYS, SIGBUS, SIGILL};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; ++i) {
    if (sigaction(sigs[i], &sa, NULL) != 0)
      tracee_fail("sigaction %d: %s", sigs[i], strerror(errno));
  }
  return 1;
}

// --- the page model (DESIGN.md 3.3), written out independently of vsyscall/page.cc ---

uint8_t tracee_image_byte(unsigned off) {
  static const uint8_t code[10] = {0x48, 0xc7, 0xc0, 0, 0, 0x00, 0x00, 0x0f, 0x05, 0xc3};
  static const uint16_t nrs[3] = {96, 201, 309};
  unsigned entry = off / 0x400;
  unsigned in = off % 0x400;
  if (entry > 2 || in >= sizeof code) return 0xcc;
  if (in == 3) return (uint8_t)(nrs[entry] & 0xff);
  if (in == 4) return (uint8_t)(nrs[entry] >> 8);
  return code[in];
}

void tracee_image_copy(void* buf, unsigned off, size_t n) {
  uint8_t* out = buf;
  for (size_t i = 0; i < n; ++i) out[i] = tracee_image_byte(off + (unsigned)i);
}

long tracee_realtime_sec(void) {
  struct timespec ts;
  if (syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts) != 0) tracee_fail("clock_gettime syscall");
  return ts.tv_sec;
}

int tracee_time_plausible(long sec) {
  long now = tracee_realtime_sec();
  return sec >= now - 5 && sec <= now + 5;
}

long tracee_ncpus(void) {
  long n = sysconf(_SC_NPROCESSORS_CONF);
  return n > 0 ? n : 1;
}

void tracee_hex(char* out, const void* p, size_t n) {
  const uint8_t* b = p;
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = "0123456789abcdef"[b[i] >> 4];
    out[2 * i + 1] = "0123456789abcdef"[b[i] & 0xf];
  }
  out[2 * n] = '\0';
}

const char* tracee_sibling(const char* base) {
  static char path[PATH_MAX];
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) tracee_fail("readlink /proc/self/exe: %s", strerror(errno));
  self[n] = '\0';
  char* slash = strrchr(self, '/');
  const char* name = slash != NULL ? slash + 1 : self;
  size_t len = strlen(name);
  const char* suffix = len >= 7 && strcmp(name + len - 7, "_static") == 0 ? "_static" : "";
  if (slash != NULL) *slash = '\0';
  snprintf(path, sizeof path, "%s/%s%s", slash != NULL ? self : ".", base, suffix);
  return path;
}
