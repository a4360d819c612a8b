// vfork()s a child that execs `exec_chain 1 42`, checks it exited 42, then calls a vsyscall.
//   vfork_exec
// Prints `CHILD exit=<code>` or `CHILD signal=<sig>`, `OK vfork_exec` when the child exited
// 42, then `OK parent_time` after the parent's own time vsyscall. No signal handlers.
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tracee.h"

typedef long (*time_fn)(long*);
static time_fn volatile vtime = (time_fn)VSYS_TIME;

int main(void) {
  const char* chain = tracee_sibling("exec_chain");
  char* args[] = {(char*)"exec_chain", (char*)"1", (char*)"42", NULL};
  pid_t pid = vfork();
  if (pid < 0) tracee_fail("vfork: %s", strerror(errno));
  if (pid == 0) {
    execv(chain, args);
    _exit(91);
  }
  int status;
  if (waitpid(pid, &status, 0) != pid) tracee_fail("waitpid: %s", strerror(errno));
  int ok = 0;
  if (WIFEXITED(status)) {
    tracee_say("CHILD exit=%d", WEXITSTATUS(status));
    ok = WEXITSTATUS(status) == 42;
  } else {
    tracee_say("CHILD signal=%d", WIFSIGNALED(status) ? WTERMSIG(status) : -1);
  }
  if (ok) tracee_say("OK vfork_exec");
  if (!tracee_time_plausible(vtime(NULL))) tracee_fail("parent time");
  tracee_say("OK parent_time");
  return ok ? 0 : 1;
}
