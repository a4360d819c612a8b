// Installs its own filter returning SECCOMP_RET_TRACE|0x1234 for getpid, openat, time,
// gettimeofday and getcpu, then makes each call. The program has no tracer of its own, so the
// kernel answers every one with -ENOSYS without running it (kernel/seccomp.c) -- also the
// vsyscall, which the kernel's emulation runs through seccomp first.
//   seccomp_trace [-n]
// Prints `OK seccomp_trace getpid=-38 openat=-38 time=-38 vsyscall=-38` (errno values negated).
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tracee.h"

static long raw(long r) {
  return r == -1 ? -errno : r;
}

int main(int argc, char** argv) {
  tracee_init(argc, argv);
  struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 7),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpid, 4, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 3, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_time, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_gettimeofday, 1, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getcpu, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE | 0x1234),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) tracee_fail("no_new_privs: %s", strerror(errno));
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
    tracee_fail("seccomp: %s", strerror(errno));
  const long pid = raw(syscall(SYS_getpid));
  const long fd = raw(syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY | O_DIRECTORY));
  const long t = raw(syscall(SYS_time, (void*)0));
  static char tv[16];
  const long v = (long)vsys_call(VSYS_GETTIMEOFDAY, (uint64_t)tv, 0, 0);
  const int ok = pid == -ENOSYS && fd == -ENOSYS && t == -ENOSYS && v == -ENOSYS;
  tracee_say("%s seccomp_trace getpid=%ld openat=%ld time=%ld vsyscall=%ld", ok ? "OK" : "FAIL",
             pid, fd, t, v);
  return ok ? 0 : 1;
}
