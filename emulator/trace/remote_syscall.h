// Runs system calls inside a stopped tracee, rr-style: the registers are saved on creation and
// restored on destruction, and the two code bytes borrowed at rip (`syscall`) and any
// stack bytes used for arguments are put back. Signals that arrive meanwhile are taken out of
// the way and handed back to the caller to re-deliver.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "vsyscall/cpu_state.h"

namespace emulator {

class RemoteSyscalls {
 public:
  // The tracee must be in a ptrace stop. The code bytes are borrowed at `code_addr` (default:
  // rip), which must be mapped executable. Check ok() before use.
  explicit RemoteSyscalls(pid_t tid, std::optional<uint64_t> code_addr = std::nullopt);
  ~RemoteSyscalls();
  RemoteSyscalls(const RemoteSyscalls&) = delete;
  RemoteSyscalls& operator=(const RemoteSyscalls&) = delete;

  bool ok() const { return ok_; }
  // False once the tracee has died under us (then nothing is restored: there is nothing left).
  bool alive() const { return alive_; }
  const vsyscall::Gpr& saved_regs() const { return saved_; }

  // The raw result (a value or -errno); nullopt if the tracee vanished.
  std::optional<long> syscall(long nr, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0,
                              uint64_t a4 = 0, uint64_t a5 = 0, uint64_t a6 = 0);

  // The calls are the program's own (a vsyscall run as the real syscall so that its seccomp
  // filters apply): a SECCOMP_RET_TRACE of its filter gets what an untraced program gets,
  // -ENOSYS without the call, instead of the call vdsorun's own set-up syscalls would want.
  void answer_trace_as_untraced() { untraced_ = true; }

  // Copies bytes into scratch stack memory well below the red zone; returns their address.
  std::optional<uint64_t> push_bytes(std::span<const uint8_t> bytes);

  // Signals that reached the tracee while it ran our code, suppressed then; the caller must
  // deliver them again (tgkill + PTRACE_SETSIGINFO at their stop).
  const std::vector<siginfo_t>& deferred_signals() const { return deferred_; }

 private:
  pid_t tid_;
  bool ok_ = false;
  bool alive_ = true;
  bool untraced_ = false;
  vsyscall::Gpr saved_{};
  uint64_t code_addr_ = 0;
  std::array<uint8_t, 2> saved_code_{};
  uint64_t scratch_top_ = 0;  // next free byte going down
  uint64_t scratch_low_ = 0;  // bottom of the borrowed scratch area
  std::vector<uint8_t> saved_scratch_;
  std::vector<siginfo_t> deferred_;
};

}  // namespace emulator
