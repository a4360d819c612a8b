// Thin, typed wrappers over ptrace(2). A vanished tracee (ESRCH) is data: the call returns
// false / nullopt. Any other failure is a bug in vdsorun and aborts with the tid and request.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>

#include "vsyscall/cpu_state.h"

namespace emulator {

std::optional<vsyscall::Gpr> get_regs(pid_t tid);
bool set_regs(pid_t tid, const vsyscall::Gpr& regs);
// The vector and AVX-512 parts of `st` (xmm/ymm, opmask, zmm) and have_avx/have_avx512.
bool get_vector_regs(pid_t tid, vsyscall::CpuState& st);
// Writes them back; without have_avx512, clears bits 511:256 of the zmm registers named in
// zmm_upper_zeroed (what a VEX write does on AVX-512 hardware).
bool set_vector_regs(pid_t tid, const vsyscall::CpuState& st, uint16_t zmm_upper_zeroed);
std::optional<siginfo_t> get_siginfo(pid_t tid);
bool set_siginfo(pid_t tid, const siginfo_t& si);
std::optional<unsigned long> get_event_msg(pid_t tid);
bool cont(pid_t tid, int sig);
bool listen(pid_t tid);
bool interrupt(pid_t tid);
bool syscall_cont(pid_t tid, int sig);
bool single_step(pid_t tid, int sig);

}  // namespace emulator
