// Calls the three vsyscall entries, then execs itself DEPTH times; the last one exits CODE.
//   exec_chain DEPTH CODE
// Each link prints `OK exec_chain depth=D` after its calls succeed. No signal handlers: a
// refused vsyscall kills the process (the parent of a chain checks how it died).
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "tracee.h"

typedef int (*gettimeofday_fn)(struct timeval*, struct timezone*);
typedef long (*time_fn)(long*);
typedef long (*getcpu_fn)(unsigned*, unsigned*, void*);

static gettimeofday_fn volatile vgettimeofday = (gettimeofday_fn)VSYS_GETTIMEOFDAY;
static time_fn volatile vtime = (time_fn)VSYS_TIME;
static getcpu_fn volatile vgetcpu = (getcpu_fn)VSYS_GETCPU;

int main(int argc, char** argv) {
  if (argc != 3) tracee_usage("exec_chain DEPTH CODE");
  long depth = strtol(argv[1], NULL, 10);
  struct timeval tv;
  if (vgettimeofday(&tv, NULL) != 0 || !tracee_time_plausible(tv.tv_sec)) {
    tracee_fail("exec_chain depth=%ld gettimeofday", depth);
  }
  if (!tracee_time_plausible(vtime(NULL))) tracee_fail("exec_chain depth=%ld time", depth);
  unsigned cpu = ~0u;
  if (vgetcpu(&cpu, NULL, NULL) != 0 || cpu >= (unsigned long)tracee_ncpus()) {
    tracee_fail("exec_chain depth=%ld getcpu", depth);
  }
  tracee_say("OK exec_chain depth=%ld", depth);
  if (depth <= 0) return (int)strtol(argv[2], NULL, 10);
  char next[24];
  snprintf(next, sizeof next, "%ld", depth - 1);
  char* args[] = {argv[0], next, argv[2], NULL};
  execv("/proc/self/exe", args);
  tracee_fail("exec_chain execv: %s", strerror(errno));
}
