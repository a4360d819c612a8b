// The fallback for a read of the vsyscall page that read emulation cannot model (an
// instruction Capstone 4 does not decode, such as AVX-512 compares into mask registers): let
// the CPU run the instruction itself against a read-only copy of the page image mapped in the
// program, with the one register that holds the page address rebased onto the copy.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "vsyscall/cpu_state.h"

namespace emulator {

struct DisplacedRead {
  enum class Status {
    kDone,           // executed; registers restored but for the instruction's own effects
    kNotApplicable,  // no single register points into the page: nothing was changed
    kFault,          // the instruction faults (past the page end, or on program memory)
    kGone,           // the tracee died
  };
  Status status = Status::kNotApplicable;
  uint64_t fault_addr = 0;  // kFault: as the program must see it (page addresses, not copy's)
  std::vector<siginfo_t> deferred;  // signals that arrived meanwhile, to deliver again
};

// `regs`: the tracee's registers at the SIGSEGV stop for a read of `fault_addr` in the page.
// `shadow` is the process's copy of the page (0: not mapped yet; set when this maps it).
DisplacedRead run_displaced_read(pid_t tid, const vsyscall::Gpr& regs, uint64_t fault_addr,
                                 uint64_t& shadow);

}  // namespace emulator
