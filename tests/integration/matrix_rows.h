// The expectation table of the integration matrix: for each tracee program run (program +
// arguments), what a kernel booted with each vsyscall= mode does — exit status or death
// signal, and the stdout lines (siginfo, registers, results) the program prints.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "host.h"

namespace integration {

// How a run must end and what it must print.
struct Outcome {
  bool killed = false;  // killed by signal `code` (vdsorun: exit 128 + code); else exit `code`
  int code = 0;
  // Each entry is a set of space-separated words that must all appear in one stdout line;
  // a word ending in '*' matches any word with that prefix.
  std::vector<std::string> lines;
};

enum RowFlag : unsigned {
  // The row reads the page as data: on a vsyscall=emulate host the page is really readable,
  // so vdsorun cannot make the read fault for --vsyscall=none/xonly (documented limit).
  kReadsPage = 1u << 0,
  // The program's own seccomp filter returns KILL for gettimeofday: that outranks even the
  // SECCOMP_RET_TRAP vdsorun's filter returns for a call of the page when emulating none on an
  // xonly/emulate host, so there the program dies of SIGSYS instead of faulting (documented
  // limit). ERRNO and TRAP are outranked by vdsorun's TRAP and fault as on a none kernel.
  kOwnSeccompKill = 1u << 1,
  // A user pointer that faults inside an emulated call: kernels before 6.9 delivered
  // SEGV_MAPERR/ACCERR at the pointer (sig_on_uaccess_err), 6.9+ SI_KERNEL. The table holds
  // the 6.9+ behaviour, which vdsorun reproduces; the direct run is skipped on older kernels.
  kUserFaultSince69 = 1u << 2,
  // The program is the shell script several.sh; the linkage is passed as its argument.
  kScript = 1u << 3,
};

struct Row {
  std::string name;  // [A-Za-z0-9_], unique
  std::string program;
  std::vector<std::string> args;
  std::array<Outcome, 4> expect;  // indexed by VsysMode: none, xonly, emulate, native
  unsigned flags = 0;
};

const std::vector<Row>& matrix_rows();

}  // namespace integration
