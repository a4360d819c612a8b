// Makes itself non-dumpable (prctl(PR_SET_DUMPABLE, 0), as programs holding secrets do), then
// calls the gettimeofday and getcpu vsyscalls. Run by a non-root user, its tracer can then no
// longer use process_vm_readv/writev or /proc/PID/mem on it.
//   nondumpable [-n]
// Prints `OK nondumpable gettimeofday=0 getcpu=0` when both calls succeed with plausible values.
#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>

#include "tracee.h"

int main(int argc, char** argv) {
  tracee_init(argc, argv);
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) tracee_fail("prctl: %s", strerror(errno));
  struct timeval tv = {0, 0};
  const long g = vsys_call(VSYS_GETTIMEOFDAY, (uint64_t)&tv, 0, 0);
  unsigned cpu = ~0u;
  const long c = vsys_call(VSYS_GETCPU, (uint64_t)&cpu, 0, 0);
  const int ok = g == 0 && c == 0 && tracee_time_plausible(tv.tv_sec) && cpu < tracee_ncpus();
  tracee_say("%s nondumpable gettimeofday=%ld getcpu=%ld", ok ? "OK" : "FAIL", g, c);
  return ok ? 0 : 1;
}
