// Which syscalls stop the tracee (policy, pure) and their compilation to a classic BPF
// program with libseccomp (mechanism). Installing it happens in the spawned child.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <vector>

namespace emulator {

struct SeccompRule {
  int syscall_nr;
  bool trace;  // SECCOMP_RET_TRACE; otherwise allowed
};

// The syscalls vdsorun must see: the three the kernel's vsyscall emulation consults seccomp
// with (DESIGN.md 3.1). Everything else, and every other architecture (32-bit programs), runs
// without stopping.
std::vector<SeccompRule> vsyscall_policy();

// A compiled filter, ready for seccomp(SECCOMP_SET_MODE_FILTER).
struct BpfProgram {
  std::vector<sock_filter> insns;
  sock_fprog fprog() const {
    return sock_fprog{static_cast<unsigned short>(insns.size()),
                      const_cast<sock_filter*>(insns.data())};
  }
};

// Compiles the rules; throws std::runtime_error naming the libseccomp call that failed.
BpfProgram compile_policy(const std::vector<SeccompRule>& rules);

}  // namespace emulator
