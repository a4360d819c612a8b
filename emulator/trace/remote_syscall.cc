// A remote syscall is: set registers, PTRACE_SYSCALL to its entry stop and on to its exit
// stop, read rax. No int3 and no fault: the thread's trap number, which later signals'
// sigcontexts show, stays what the program left it.
#include "emulator/trace/remote_syscall.h"

#include <sys/ptrace.h>
#include <sys/wait.h>

#include <cerrno>

#include "emulator/log.h"
#include "emulator/trace/process_memory.h"
#include "emulator/trace/ptrace_ops.h"

namespace emulator {
namespace {

constexpr std::array<uint8_t, 2> kSyscallInsn = {0x0f, 0x05};
// What waitpid() reports for a syscall-stop with PTRACE_O_TRACESYSGOOD.
constexpr int kSyscallStopSig = SIGTRAP | 0x80;
// Scratch space starts this far below the stack pointer: past the 128-byte red zone and
// anything a signal frame could have left.
constexpr uint64_t kScratchGap = 4096;
constexpr uint64_t kScratchSize = 1024;

}  // namespace

RemoteSyscalls::RemoteSyscalls(pid_t tid, std::optional<uint64_t> code_addr) : tid_(tid) {
  auto regs = get_regs(tid);
  if (!regs) {
    alive_ = false;
    return;
  }
  saved_ = *regs;
  code_addr_ = code_addr.value_or(regs->rip);
  scratch_top_ = (regs->rsp - kScratchGap) & ~uint64_t{15};
  scratch_low_ = scratch_top_ - kScratchSize;
  ProcessMemory mem(tid);
  if (mem.read_partial(code_addr_, saved_code_) != saved_code_.size()) return;
  if (!mem.poke(code_addr_, kSyscallInsn)) return;
  ok_ = true;
}

RemoteSyscalls::~RemoteSyscalls() {
  if (!alive_) return;
  ProcessMemory mem(tid_);
  if (ok_) mem.poke(code_addr_, saved_code_);
  if (!saved_scratch_.empty()) mem.write(scratch_low_, saved_scratch_);
  set_regs(tid_, saved_);
}

std::optional<uint64_t> RemoteSyscalls::push_bytes(std::span<const uint8_t> bytes) {
  if (!ok_ || bytes.size() > kScratchSize) return std::nullopt;
  ProcessMemory mem(tid_);
  if (saved_scratch_.empty()) {
    // Borrow the whole scratch area once; the destructor puts it back.
    saved_scratch_.resize(kScratchSize);
    if (!mem.read(scratch_low_, saved_scratch_)) {
      saved_scratch_.clear();
      return std::nullopt;
    }
  }
  const uint64_t addr = (scratch_top_ - bytes.size()) & ~uint64_t{15};
  if (addr < scratch_low_ || !mem.write(addr, bytes)) return std::nullopt;
  scratch_top_ = addr;
  return addr;
}

std::optional<long> RemoteSyscalls::syscall(long nr, uint64_t a1, uint64_t a2, uint64_t a3,
                                            uint64_t a4, uint64_t a5, uint64_t a6) {
  if (!ok_ || !alive_) return std::nullopt;
  vsyscall::Gpr r = saved_;
  r.rip = code_addr_;
  r.rax = static_cast<uint64_t>(nr);
  r.orig_rax = static_cast<uint64_t>(-1);
  r.rdi = a1;
  r.rsi = a2;
  r.rdx = a3;
  r.r10 = a4;
  r.r8 = a5;
  r.r9 = a6;
  // At a PTRACE_EVENT_EXEC stop the execve has not returned yet: the first syscall-stop is its
  // exit, after which the kernel has stored its return value in rax. Any syscall-stop that is
  // not our own entry means: set our registers again and go on.
  bool entered = false;
  bool skipped = false;  // answered -ENOSYS at its seccomp stop (answer_trace_as_untraced)
  if (!set_regs(tid_, r) || !syscall_cont(tid_, 0)) {
    alive_ = false;
    return std::nullopt;
  }
  while (true) {
    int status = 0;
    if (waitpid(tid_, &status, __WALL) < 0) {
      if (errno == EINTR) continue;
      alive_ = false;
      return std::nullopt;
    }
    if (!WIFSTOPPED(status)) {
      alive_ = false;  // exited or killed while running our code
      return std::nullopt;
    }
    const int sig = WSTOPSIG(status);
    const int event = status >> 16;
    bool ok = true;
    if (sig == kSyscallStopSig) {
      auto now = get_regs(tid_);
      if (!now) {
        alive_ = false;
        return std::nullopt;
      }
      const bool at_end = now->rip == code_addr_ + kSyscallInsn.size();
      if (skipped && at_end) return -ENOSYS;  // the exit stop of the skipped call
      const bool ours = at_end && now->orig_rax == static_cast<uint64_t>(nr);
      if (entered && ours) return static_cast<long>(now->rax);  // the exit stop
      entered = ours;
      if (!ours) ok = set_regs(tid_, r);
    } else if (event == PTRACE_EVENT_SECCOMP && untraced_) {
      // The program's own filter asked for a tracer for our call, which is its own: skip it.
      auto now = get_regs(tid_);
      if (!now) {
        alive_ = false;
        return std::nullopt;
      }
      now->orig_rax = static_cast<uint64_t>(-1);
      now->rax = static_cast<uint64_t>(-ENOSYS);
      ok = set_regs(tid_, *now);
      skipped = true;
    } else if (event == 0) {
      // A signal for the program arrived first: keep it for later, run our code now.
      if (auto si = get_siginfo(tid_)) deferred_.push_back(*si);
      VDSORUN_LOG(kDebug, "pid %d: signal %d deferred during a remote syscall", tid_, sig);
    }
    if (!ok || !syscall_cont(tid_, 0)) {
      alive_ = false;
      return std::nullopt;
    }
  }
}

}  // namespace emulator
