// Forks children that call a vsyscall and exec exec_chain; checks how each child ended; then
// calls a vsyscall itself.
//   fork_exec [NCHILDREN]   (default 3)
// Child k calls gettimeofday, then execs `exec_chain 2 <10+k>` (the sibling with the same
// linkage). The parent prints `CHILD<k> exit=<code>` or `CHILD<k> signal=<sig>` for each,
// `OK fork_exec` when every child exited 10+k, then calls time and prints `OK parent_time`.
// No signal handlers: a refused vsyscall kills the process that made it.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tracee.h"

typedef int (*gettimeofday_fn)(struct timeval*, struct timezone*);
typedef long (*time_fn)(long*);

static gettimeofday_fn volatile vgettimeofday = (gettimeofday_fn)VSYS_GETTIMEOFDAY;
static time_fn volatile vtime = (time_fn)VSYS_TIME;

int main(int argc, char** argv) {
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 3;
  if (n < 1 || n > 64) tracee_usage("fork_exec [NCHILDREN]");
  const char* chain = tracee_sibling("exec_chain");
  pid_t pids[64];
  for (long k = 0; k < n; ++k) {
    pid_t pid = fork();
    if (pid < 0) tracee_fail("fork: %s", strerror(errno));
    if (pid == 0) {
      struct timeval tv;
      if (vgettimeofday(&tv, NULL) != 0 || !tracee_time_plausible(tv.tv_sec)) _exit(90);
      char code[24];
      snprintf(code, sizeof code, "%ld", 10 + k);
      char* args[] = {(char*)"exec_chain", (char*)"2", code, NULL};
      execv(chain, args);
      _exit(91);
    }
    pids[k] = pid;
  }
  int all_ok = 1;
  for (long k = 0; k < n; ++k) {
    int status;
    if (waitpid(pids[k], &status, 0) != pids[k]) tracee_fail("waitpid: %s", strerror(errno));
    if (WIFEXITED(status)) {
      tracee_say("CHILD%ld exit=%d", k, WEXITSTATUS(status));
      all_ok &= WEXITSTATUS(status) == 10 + k;
    } else {
      tracee_say("CHILD%ld signal=%d", k, WIFSIGNALED(status) ? WTERMSIG(status) : -1);
      all_ok = 0;
    }
  }
  if (all_ok) tracee_say("OK fork_exec");
  if (!tracee_time_plausible(vtime(NULL))) tracee_fail("parent time");
  tracee_say("OK parent_time");
  return all_ok ? 0 : 1;
}
