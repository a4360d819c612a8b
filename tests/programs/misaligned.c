// Calls addresses inside the vsyscall page that are not entries, with NULL arguments.
//   misaligned [-n] plus1|plus7|plus9|plus10|plus401|plusc00
// The kernel's emulation refuses them (SIGSEGV SI_KERNEL). On a vsyscall=native kernel the
// image bytes run: +1 decodes as `mov $0x60,%eax; syscall; ret` (gettimeofday), +0x401 as
// `mov $0xc9,%eax; syscall; ret` (time), +7 as `syscall; ret` with rax = the address
// (-ENOSYS), +9 as `ret`, and 0xcc bytes (+0x10, +0xc00) as int3.
// If the call returns, prints `RETURNED rax=<decimal>` (and `time_ok=1` when rax is a
// plausible time).
#include <string.h>

#include "tracee.h"

int main(int argc, char** argv) {
  int i = tracee_init(argc, argv);
  if (i >= argc) tracee_usage("misaligned [-n] plus1|plus7|plus9|plus10|plus401|plusc00");
  const char* what = argv[i];
  uint64_t off;
  if (strcmp(what, "plus1") == 0) {
    off = 0x1;
  } else if (strcmp(what, "plus7") == 0) {
    off = 0x7;
  } else if (strcmp(what, "plus9") == 0) {
    off = 0x9;
  } else if (strcmp(what, "plus10") == 0) {
    off = 0x10;
  } else if (strcmp(what, "plus401") == 0) {
    off = 0x401;
  } else if (strcmp(what, "plusc00") == 0) {
    off = 0xc00;
  } else {
    tracee_usage("unknown case");
  }
  long r = vsys_call(VSYS_PAGE + off, 0, 0, 0);
  tracee_say("RETURNED rax=%ld time_ok=%d", r, tracee_time_plausible(r));
  return 0;
}
