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

// The same, and the sigcontext gets `info` as err/trapno/cr2 (what the kernel would have stored
// for this signal): the signal is delivered by single-stepping into the handler.
inline Resume deliver(Tracee& t, siginfo_t si, int code, uint64_t addr, const FaultArchInfo& info) {
  const auto regs = get_regs(t.tid);
  if (!regs) return {Resume::Kind::kNothing, 0};
  const Resume r = deliver(t.tid, si, code, addr);
  t.frame_fix = info;
  t.frame_fix_sig = r.sig;
  t.frame_fix_rip = regs->rip;
  return {Resume::Kind::kStep, r.sig};
}

}  // namespace emulator
