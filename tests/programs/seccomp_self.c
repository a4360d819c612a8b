// Installs its own seccomp filter on gettimeofday (96), then calls the gettimeofday vsyscall.
// The kernel consults the program's filters for a vsyscall as for the syscall itself.
//   seccomp_self [-n] errno|trap|kill
// errno: SECCOMP_RET_ERRNO(42): the vsyscall returns -42, `OK seccomp_errno rax=-42`.
// trap:  SECCOMP_RET_TRAP: SIGSYS, reported by the handler (si_call_addr in addr=, syscall=).
// kill:  SECCOMP_RET_KILL_PROCESS: killed by SIGSYS.
// If the call returns otherwise, prints `RETURNED rax=<decimal>`.
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tracee.h"

#define ERRNO_VALUE 42

static void install(unsigned action) {
  struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_gettimeofday, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, action),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) tracee_fail("no_new_privs: %s", strerror(errno));
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    tracee_fail("seccomp: %s", strerror(errno));
  }
}

int main(int argc, char** argv) {
  int i = tracee_init(argc, argv);
  if (i >= argc) tracee_usage("seccomp_self [-n] errno|trap|kill");
  const char* what = argv[i];
  if (strcmp(what, "errno") == 0) {
    install(SECCOMP_RET_ERRNO | ERRNO_VALUE);
  } else if (strcmp(what, "trap") == 0) {
    install(SECCOMP_RET_TRAP);
  } else if (strcmp(what, "kill") == 0) {
    install(SECCOMP_RET_KILL_PROCESS);
  } else {
    tracee_usage("unknown case");
  }
  static char tv[16];
  long r = vsys_call(VSYS_GETTIMEOFDAY, (uint64_t)tv, 0, 0);
  if (strcmp(what, "errno") == 0 && r == -ERRNO_VALUE) {
    tracee_say("OK seccomp_errno rax=%ld", r);
    return 0;
  }
  tracee_say("RETURNED rax=%ld", r);
  return 0;
}
