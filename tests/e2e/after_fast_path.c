// Waits until the vDSO serves the clocks without syscalls (vdsorun's vvar is shared by the
// whole traced tree and becomes valid once the supervisor has calibrated the TSC), then
// execs PROGRAM: so that a short program nobody wrote for vdsorun — a kernel selftest, a Go
// program — runs on the injected fast path instead of its syscall fallback.
// Usage: after_fast_path PROGRAM [ARGS...]; prints one `fast_path after_ms=N` line to stderr.
// Exits 124 if the fast path never came within 3 s, 127 if PROGRAM cannot be executed.
#define _GNU_SOURCE
#include "probe_support.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    emit("usage: after_fast_path PROGRAM [ARGS...]");
    return 2;
  }
  // The report goes to stderr so that PROGRAM's stdout stays its own.
  const int saved = dup(1);
  if (saved < 0 || dup2(2, 1) < 0) return 2;
  const int ok = wait_for_fast_path(3000);
  if (dup2(saved, 1) < 0) return 2;
  close(saved);
  if (!ok) return 124;
  execvp(argv[1], argv + 1);
  emit("after_fast_path: cannot execute %s: %s", argv[1], strerror(errno));
  return 127;
}
