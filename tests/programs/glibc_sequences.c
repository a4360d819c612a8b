// Runs the exact instruction sequences static glibc <= 2.14 used to reach the vsyscall page.
//   glibc_sequences [-n] gettimeofday_call|time_tailcall|getcpu_call
// gettimeofday_call: `mov $0xffffffffff600000,%rax; call *%rax`, `OK old_gettimeofday`.
// time_tailcall: `mov $0xffffffffff600400,%rax; jmp *%rax` from a helper; the vsyscall's ret
//   returns straight to the helper's caller, `OK old_time`.
// getcpu_call: the same call form at 0x...800, `OK old_getcpu`.
#include <string.h>

#include "tracee.h"
#include "vsys_asm.h"

int main(int argc, char** argv) {
  int i = tracee_init(argc, argv);
  if (i >= argc) tracee_usage("glibc_sequences [-n] gettimeofday_call|time_tailcall|getcpu_call");
  const char* what = argv[i];
  if (strcmp(what, "gettimeofday_call") == 0) {
    struct timeval tv = {-1, -1};
    int r = old_gettimeofday(&tv, NULL);
    if (r != 0 || !tracee_time_plausible(tv.tv_sec) || tv.tv_usec < 0 || tv.tv_usec >= 1000000) {
      tracee_fail("old_gettimeofday r=%d sec=%ld usec=%ld", r, (long)tv.tv_sec, (long)tv.tv_usec);
    }
    tracee_say("OK old_gettimeofday");
  } else if (strcmp(what, "time_tailcall") == 0) {
    time_t t = -1;
    time_t r = old_time(&t);
    if (r != t || !tracee_time_plausible(r)) tracee_fail("old_time r=%ld t=%ld", (long)r, (long)t);
    tracee_say("OK old_time");
  } else if (strcmp(what, "getcpu_call") == 0) {
    unsigned cpu = ~0u, node = ~0u;
    long r = old_getcpu(&cpu, &node, NULL);
    if (r != 0 || cpu >= (unsigned long)tracee_ncpus() || node == ~0u) {
      tracee_fail("old_getcpu r=%ld cpu=%u node=%u", r, cpu, node);
    }
    tracee_say("OK old_getcpu");
  } else {
    tracee_usage("unknown case");
  }
  return 0;
}
