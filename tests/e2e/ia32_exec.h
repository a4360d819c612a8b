// Whether this kernel can exec i386 programs at all, decided from one native run of one: some
// kernels of this project's machine kind refuse them with ENOEXEC although they were built
// with CONFIG_IA32_EMULATION=y (booted with ia32_emulation=0, or an equivalent policy).
#pragma once

#include <string>
#include <vector>

namespace e2e {

// How one run of a program without vdsorun ended.
struct NativeRun {
  int exec_errno = 0;  // execve's error (the program never ran), else 0
  bool exited = false;
  int exit_code = -1;
  bool signaled = false;
  int signal = 0;
};

enum class Ia32Exec {
  kSupported,    // the program ran and exited as expected
  kUnsupported,  // the kernel refused the image: a skip, not a failure
  kProbeFailed,  // something else went wrong: a failure, with the reason
};

struct Ia32Verdict {
  Ia32Exec exec;
  std::string why;  // for kUnsupported and kProbeFailed: one line naming the reason
};

// The decision, from the native run of `program` that was expected to exit with
// `expected_exit_code`. Pure: unit-tested for every kind of input.
Ia32Verdict ia32_exec_verdict(const NativeRun& run, const std::string& program,
                              int expected_exit_code);

// Runs argv (argv[0] a path) without a shell fallback on ENOEXEC, stdout and stderr to
// /dev/null, and waits for it. execvp()/execvpe() would retry an image the kernel refused as a
// shell script, turning ENOEXEC into a shell's syntax error; posix_spawn() reports it.
NativeRun run_natively(const std::vector<std::string>& argv);

}  // namespace e2e
