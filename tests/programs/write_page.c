// Writes to the vsyscall page: SIGSEGV SEGV_MAPERR at the written address in every mode.
//   write_page [-n] movb|movq
// movb: movb $0x90 to page+0x010; movq: movq $0 to page+0x400 (the time entry).
// Prints `FAIL write_page survived` if the store does not fault.
#include <string.h>

#include "tracee.h"
#include "vsys_asm.h"

int main(int argc, char** argv) {
  int i = tracee_init(argc, argv);
  if (i >= argc) tracee_usage("write_page [-n] movb|movq");
  const char* what = argv[i];
  if (strcmp(what, "movb") == 0) {
    write_movb((volatile void*)(VSYS_PAGE + 0x10));
  } else if (strcmp(what, "movq") == 0) {
    write_movq((volatile void*)(VSYS_PAGE + 0x400));
  } else {
    tracee_usage("unknown case");
  }
  tracee_fail("write_page survived %s", what);
}
