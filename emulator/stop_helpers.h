// Small helpers shared by the files that handle vsyscall-page stops.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstdint>

#include "emulator/engine.h"
#include "emulator/ptrace_ops.h"

namespace emulator {

// An instruction fetch here faults as SEGV_MAPERR with the error code of a fetch (0x15 incl.
// the PROT bit the kernel adds for addresses >= TASK_SIZE_MAX, as on a vsyscall=none kernel).
// It is the first address past 47-bit user space: never mapped without an explicit
// high-address hint on 5-level paging.
constexpr uint64_t kFetchTrapAddr = 0x00007ffffffff000ULL;

inline void* as_ptr(uint64_t v) {
  return reinterpret_cast<void*>(v);
}

// Resumes the tracee with its current signal, rewritten to (code, addr).
inline Resume deliver(pid_t tid, siginfo_t si, int code, uint64_t addr) {
  si.si_code = code;
  si.si_addr = as_ptr(addr);
  set_siginfo(tid, si);
  return Resume::cont(si.si_signo);
}

}  // namespace emulator
