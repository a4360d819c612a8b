// Starts a child with clone(CLONE_UNTRACED | SIGCHLD): no tracer can follow it. The child
// makes a real time() syscall and a vsyscall gettimeofday and prints both results:
//   CHILD time=ok vsyscall=<rax>
// then the parent prints `OK clone_untraced child=exit<status>` once the child has exited.
// Natively vsyscall=0. Under vdsorun the child keeps vdsorun's seccomp filter but has no
// tracer: a documented limit (man/vdsorun.1).
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tracee.h"

int main(int argc, char** argv) {
  tracee_init(argc, argv);
  const long pid = syscall(SYS_clone, CLONE_UNTRACED | SIGCHLD, 0, 0, 0, 0);
  if (pid < 0) tracee_fail("clone");
  if (pid == 0) {
    const long t = syscall(SYS_time, (void*)0);
    static char tv[16];
    const long v = vsys_call(VSYS_GETTIMEOFDAY, (uint64_t)tv, 0, 0);
    tracee_say("CHILD time=%s vsyscall=%ld", tracee_time_plausible(t) ? "ok" : "bad", v);
    _exit(0);
  }
  int status = 0;
  if (waitpid((pid_t)pid, &status, 0) != pid) tracee_fail("waitpid");
  if (!WIFEXITED(status)) tracee_fail("child status %#x", status);
  tracee_say("OK clone_untraced child=exit%d", WEXITSTATUS(status));
  return 0;
}
