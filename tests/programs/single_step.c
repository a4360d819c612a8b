// Sets TF itself (as a debugger-less single-stepper or the kernel's test_vsyscall does), calls
// the time entry through vsys_call, and reports where its SIGTRAPs landed:
//   OK single_step in_page=0x400[,0x407,...] ret_trap=0|1 time=ok traps=debug|other
// in_page: the page offsets of the traps inside the page (the `call` traps at the entry; a
// native kernel then traps after the page's mov, syscall and ret); ret_trap: whether one trap
// stood exactly at the return address (only after a real `ret`).
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <ucontext.h>

#include "tracee.h"

#define MAX_TRAPS 64

static volatile int g_traps;
static volatile uint64_t g_rips[MAX_TRAPS];
// Cleared by a trap that does not look like a CPU's single-step trap: TRAP_TRACE, trapno 1
// (X86_TRAP_DB), error code 0, si_addr = rip.
static volatile int g_all_debug_traps = 1;

static void on_trap(int sig, siginfo_t* si, void* ctx) {
  (void)sig;
  const ucontext_t* uc = (const ucontext_t*)ctx;
  const uint64_t rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
  if (g_traps < MAX_TRAPS) g_rips[g_traps] = rip;
  g_traps++;
  if (si->si_code != TRAP_TRACE || uc->uc_mcontext.gregs[REG_TRAPNO] != 1 ||
      uc->uc_mcontext.gregs[REG_ERR] != 0 || (uint64_t)si->si_addr != rip)
    g_all_debug_traps = 0;
}

static long stepped_time_call(time_t* t) {
  __asm__ volatile("pushfq; orq $0x100, (%%rsp); popfq" ::: "memory", "cc");
  long r = vsys_call(VSYS_TIME, (uint64_t)t, 0, 0);
  __asm__ volatile("pushfq; andq $~0x100, (%%rsp); popfq" ::: "memory", "cc");
  return r;
}

int main(int argc, char** argv) {
  tracee_init(argc, argv);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_trap;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTRAP, &sa, NULL);

  time_t t = 0;
  const long r = stepped_time_call(&t);
  const int n = g_traps < MAX_TRAPS ? g_traps : MAX_TRAPS;
  char offsets[256] = "";
  size_t len = 0;
  int ret_trap = 0;
  for (int i = 0; i < n; ++i) {
    const uint64_t rip = g_rips[i];
    if (rip == g_expect_ret) ret_trap = 1;
    if ((rip & ~(uint64_t)(VSYS_PAGE_SIZE - 1)) != VSYS_PAGE || len + 8 >= sizeof offsets) continue;
    static const char hex[] = "0123456789abcdef";
    const unsigned off = (unsigned)(rip - VSYS_PAGE);
    if (len > 0) offsets[len++] = ',';
    offsets[len++] = '0';
    offsets[len++] = 'x';
    offsets[len++] = hex[(off >> 8) & 0xf];
    offsets[len++] = hex[(off >> 4) & 0xf];
    offsets[len++] = hex[off & 0xf];
    offsets[len] = '\0';
  }
  const int time_ok = r == (long)t && tracee_time_plausible(r);
  tracee_say("OK single_step in_page=%s ret_trap=%d time=%s traps=%s", len ? offsets : "none",
             ret_trap, time_ok ? "ok" : "bad", g_all_debug_traps ? "debug" : "other");
  return 0;
}
