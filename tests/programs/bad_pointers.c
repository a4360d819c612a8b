// Calls vsyscall entries with pointers the kernel must refuse.
//   bad_pointers [-n] CASE
// CASE                pointer argument
// gtod_kernel_tv      gettimeofday tv = 0xffff800000000000 (kernel half)
// gtod_kernel_tz      gettimeofday tz = 0xffff800000000000, tv valid
// time_kernel         time t = 0xffff800000000000
// getcpu_kernel_node  getcpu node = 0xffff800000000000, cpu valid
// gtod_unmapped       gettimeofday tv = 0x1000 (user space, never mapped)
// gtod_readonly       gettimeofday tv = a PROT_READ page
// time_readonly       time t = a PROT_READ page
// getcpu_unmapped     getcpu cpu = 0x1000
// If the call returns, prints `RETURNED rax=<decimal>` (a native call gives -14, -EFAULT).
#include <string.h>
#include <sys/mman.h>

#include "tracee.h"

int main(int argc, char** argv) {
  int i = tracee_init(argc, argv);
  if (i >= argc) tracee_usage("bad_pointers [-n] CASE");
  const char* what = argv[i];
  void* ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (ro == MAP_FAILED) tracee_fail("mmap");
  static char valid[64];
  uint64_t ok = (uint64_t)valid;
  long r;
  if (strcmp(what, "gtod_kernel_tv") == 0) {
    r = vsys_call(VSYS_GETTIMEOFDAY, KERNEL_POINTER, 0, 0);
  } else if (strcmp(what, "gtod_kernel_tz") == 0) {
    r = vsys_call(VSYS_GETTIMEOFDAY, ok, KERNEL_POINTER, 0);
  } else if (strcmp(what, "time_kernel") == 0) {
    r = vsys_call(VSYS_TIME, KERNEL_POINTER, 0, 0);
  } else if (strcmp(what, "getcpu_kernel_node") == 0) {
    r = vsys_call(VSYS_GETCPU, ok, KERNEL_POINTER, 0);
  } else if (strcmp(what, "gtod_unmapped") == 0) {
    r = vsys_call(VSYS_GETTIMEOFDAY, UNMAPPED_POINTER, 0, 0);
  } else if (strcmp(what, "gtod_readonly") == 0) {
    r = vsys_call(VSYS_GETTIMEOFDAY, (uint64_t)ro, 0, 0);
  } else if (strcmp(what, "time_readonly") == 0) {
    r = vsys_call(VSYS_TIME, (uint64_t)ro, 0, 0);
  } else if (strcmp(what, "getcpu_unmapped") == 0) {
    r = vsys_call(VSYS_GETCPU, UNMAPPED_POINTER, 0, 0);
  } else {
    tracee_usage("unknown case");
  }
  tracee_say("RETURNED rax=%ld", r);
  return 0;
}
