// Small helpers shared by the files that handle vsyscall-page stops.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstdint>

#include "emulator/trace/engine.h"
#include "emulator/trace/ptrace_ops.h"

namespace emulator {

// An instruction fetch here faults as SEGV_MAPERR with the error code a vsyscall=none kernel
// gives (0x15: user, fetch, and the protection bit the kernel adds for every address at or
// above TASK_SIZE_MAX). It is the page right after the vsyscall page: a kernel address on
// 4- and 5-level paging alike, never mapped, and not the page the kernel emulates.
constexpr uint64_t kFetchTrapAddr = 0xffffffffff601000ULL;

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
