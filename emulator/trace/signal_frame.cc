// The x86-64 rt_sigframe (arch/x86/include/asm/sigframe.h): at the handler's first
// instruction rsp points at the return address (pretcode), followed by the kernel's ucontext
// and the siginfo; rdi = signo, rsi = &info, rdx = &uc for every handler, SA_SIGINFO or not.
// The kernel clears TF before building the frame when the tracer single-steps (handle_signal),
// so the frame holds the program's own flags.
#include "emulator/trace/signal_frame.h"

#include <signal.h>
#include <sys/ucontext.h>

#include <cstddef>
#include <cstring>

#include "emulator/trace/process_memory.h"
#include "emulator/trace/ptrace_ops.h"

namespace emulator {
namespace {

// The kernel's struct ucontext: uc_flags, uc_link, uc_stack (24), uc_mcontext (struct
// sigcontext, 256), uc_sigmask (8 bytes: the kernel's sigset_t, not glibc's 128).
constexpr uint64_t kKernelUcontextSize = 8 + 8 + 24 + 256 + 8;
// glibc's ucontext_t starts like the kernel's up to uc_mcontext, whose gregs are the
// sigcontext's first 23 words.
constexpr uint64_t kMcontextOffset = offsetof(ucontext_t, uc_mcontext);
static_assert(kMcontextOffset == 40, "uc_mcontext after uc_flags, uc_link and uc_stack");
constexpr uint64_t greg(int index) {
  return kMcontextOffset + 8 * static_cast<uint64_t>(index);
}

}  // namespace

std::optional<uint64_t> sigcontext_address(const vsyscall::Gpr& regs, int sig) {
  if (regs.rdi != static_cast<uint64_t>(sig)) return std::nullopt;
  if (regs.rdx != regs.rsp + 8) return std::nullopt;
  if (regs.rsi != regs.rdx + kKernelUcontextSize) return std::nullopt;
  return regs.rdx + kMcontextOffset;
}

bool patch_signal_frame(pid_t tid, int sig, uint64_t interrupted_rip, const FaultArchInfo& info) {
  const auto regs = get_regs(tid);
  if (!regs) return false;
  const auto sc = sigcontext_address(*regs, sig);
  if (!sc) return false;
  ProcessMemory mem(tid);
  // The frame must be the one for this delivery: the siginfo names the signal and the saved
  // rip is where the signal interrupted the program.
  const auto signo_word = mem.read_u64(regs->rsi);
  const auto saved_rip = mem.read_u64(regs->rdx + greg(REG_RIP));
  if (!signo_word || static_cast<int>(*signo_word & 0xffffffff) != sig) return false;
  if (!saved_rip || *saved_rip != interrupted_rip) return false;
  static_assert(REG_TRAPNO == REG_ERR + 1, "err and trapno are adjacent");
  uint8_t err_trapno[16], cr2[8];
  std::memcpy(err_trapno, &info.err, 8);
  std::memcpy(err_trapno + 8, &info.trapno, 8);
  if (!mem.write(regs->rdx + greg(REG_ERR), err_trapno)) return false;
  if (!info.cr2) return true;
  std::memcpy(cr2, &*info.cr2, 8);
  return mem.write(regs->rdx + greg(REG_CR2), cr2);
}

}  // namespace emulator
