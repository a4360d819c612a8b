// Checks which registers a vsyscall changes: sentinels in rcx, r11, rdx, r8-r10, arithmetic
// flags and DF set, then `call *%rax` to an entry.
//   preserve_regs [-n] gettimeofday|time|getcpu
// Prints `REGS rcx=.. r11=.. rdx=.. rdi=.. rsi=.. r8=.. r9=.. r10=.. flags=..` where each value
// is `kept` when unchanged, `flags` (r11 only) when it holds the rflags of the call (what a
// real `syscall` instruction leaves), otherwise the hex value; then `OK preserve_regs` when
// the call's own result (rax and what it wrote) is right.
// An emulated call (kernel emulate_vsyscall) changes only rax, rip, rsp; the page's native
// code `mov $nr,%rax; syscall; ret` leaves rcx = entry + 9 and r11 = rflags.
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "tracee.h"
#include "vsys_asm.h"

static const char* show(char* buf, size_t n, uint64_t got, uint64_t sentinel, uint64_t flags) {
  if (got == sentinel) return "kept";
  if (flags != 0 && got == flags) return "flags";
  snprintf(buf, n, "0x%llx", (unsigned long long)got);
  return buf;
}

int main(int argc, char** argv) {
  int i = tracee_init(argc, argv);
  if (i >= argc) tracee_usage("preserve_regs [-n] gettimeofday|time|getcpu");
  const char* what = argv[i];
  struct timeval tv = {-1, -1};
  unsigned cpu = ~0u, node = ~0u;
  uint64_t addr, a0, a1;
  if (strcmp(what, "gettimeofday") == 0) {
    addr = VSYS_GETTIMEOFDAY, a0 = (uint64_t)&tv, a1 = 0;
  } else if (strcmp(what, "time") == 0) {
    addr = VSYS_TIME, a0 = 0, a1 = 0;
  } else if (strcmp(what, "getcpu") == 0) {
    addr = VSYS_GETCPU, a0 = (uint64_t)&cpu, a1 = (uint64_t)&node;
  } else {
    tracee_usage("unknown case");
  }
  struct regs_out o;
  memset(&o, 0, sizeof o);
  regs_probe(addr, a0, a1, &o);

  char b[9][32];
  tracee_say("REGS rcx=%s r11=%s rdx=%s rdi=%s rsi=%s r8=%s r9=%s r10=%s flags=%s",
             show(b[0], 32, o.rcx, 0x1111111111111111ULL, 0),
             show(b[1], 32, o.r11, 0x2222222222222222ULL, o.flags_before),
             show(b[2], 32, o.rdx, 0x3333333333333333ULL, 0), show(b[3], 32, o.rdi, a0, 0),
             show(b[4], 32, o.rsi, a1, 0), show(b[5], 32, o.r8, 0x8888888888888888ULL, 0),
             show(b[6], 32, o.r9, 0x9999999999999999ULL, 0),
             show(b[7], 32, o.r10, 0xaaaaaaaaaaaaaaaaULL, 0),
             show(b[8], 32, o.flags_after, o.flags_before, 0));
  long rax = (long)o.rax;
  if (addr == VSYS_GETTIMEOFDAY) {
    if (rax != 0 || !tracee_time_plausible(tv.tv_sec)) tracee_fail("gettimeofday rax=%ld", rax);
  } else if (addr == VSYS_TIME) {
    if (!tracee_time_plausible(rax)) tracee_fail("time rax=%ld", rax);
  } else if (rax != 0 || cpu >= (unsigned long)tracee_ncpus()) {
    tracee_fail("getcpu rax=%ld cpu=%u", rax, cpu);
  }
  tracee_say("OK preserve_regs");
  return 0;
}
