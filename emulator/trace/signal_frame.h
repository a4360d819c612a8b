// The sigcontext of a signal vdsorun raises: ptrace cannot set err/trapno/cr2, so the signal
// is delivered with PTRACE_SINGLESTEP, which stops the thread at its handler's first
// instruction with the kernel's frame built, and the three fields are written into the frame.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

#include "vsyscall/cpu_state.h"

namespace emulator {

// What a kernel stores in thread.{error_code,trap_nr,cr2} before forcing a fault signal, and
// copies into the sigcontext.
struct FaultArchInfo {
  uint64_t err = 0;
  uint64_t trapno = 0;
  std::optional<uint64_t> cr2;  // nullopt: the kernel leaves it (a debug trap does)
};

// A page fault's values (trapno 14, X86_TRAP_PF).
constexpr FaultArchInfo page_fault(uint64_t err, uint64_t cr2) {
  return FaultArchInfo{err, 14, cr2};
}
// A single-step trap's (X86_TRAP_DB, error code 0, cr2 untouched: send_sigtrap()).
constexpr FaultArchInfo debug_trap() {
  return FaultArchInfo{0, 1, std::nullopt};
}
// x86 page-fault error code bits.
inline constexpr uint64_t kPfProt = 0x1, kPfWrite = 0x2, kPfUser = 0x4, kPfInstr = 0x10;

// Where the sigcontext of the kernel's x86-64 rt_sigframe is, if `regs` are those of a thread
// at the first instruction of an SA_SIGINFO or plain handler for `sig` (rdi = sig, rdx = the
// ucontext 8 bytes above rsp, rsi = the siginfo right after the ucontext); nullopt otherwise.
std::optional<uint64_t> sigcontext_address(const vsyscall::Gpr& regs, int sig);

// At the stop that follows PTRACE_SINGLESTEP with `sig`: if the thread stands at a handler
// whose frame is that of `sig` interrupting `interrupted_rip`, writes `info` into the frame's
// sigcontext and returns true. False (nothing written) when it is anything else.
bool patch_signal_frame(pid_t tid, int sig, uint64_t interrupted_rip, const FaultArchInfo& info);

}  // namespace emulator
